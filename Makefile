# Every command a developer or CI runs. `make up` runs the shop, `make test` tests it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install protos check-generated lint envoy-config k8s-config k8s-validate up up-spanner spanner-schema up-detached down test test-unit bench chaos clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the shop with its dev tools

protos: $(STAMP) ## regenerate gen/ (Python stubs and descriptor set) from protos/
	$(BIN)/python scripts/gen_protos.py

check-generated: protos ## fail if the committed gen/ differs from what protos/ produce
	@git diff --exit-code --stat -- gen || (echo "gen/ is stale: run 'make protos' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- gen)" || (git status --porcelain -- gen; echo "gen/ has untracked files: run 'make protos' and commit"; exit 1)

lint: $(STAMP) ## buf lint for protos, ruff for Python
	$(BIN)/buf lint
	$(BIN)/ruff check .

envoy-config: $(STAMP) ## write build/envoy.yaml for the default local ports and validate it
	@mkdir -p build
	$(BIN)/python envoy/generate.py --out build/envoy.yaml
	$(BIN)/envoy --mode validate -c build/envoy.yaml

# The gateway's config on Kubernetes: the Services' cluster DNS names, listeners on every
# interface, the descriptor set inline so that the ConfigMap alone is enough.
# tests/k8s reads K8S_ENVOY_ARGS from here to check that the committed file is current.
K8S_ENVOY_CONFIG := k8s/base/gateway/envoy.yaml
K8S_ENVOY_ARGS := --embed-descriptor --rest-addr=0.0.0.0:8000 --grpc-addr=0.0.0.0:8081 --admin-addr=0.0.0.0:9901 --stats-addr=0.0.0.0:9902 --upstream=stock=stock:50051 --upstream=payment=payment:50052 --upstream=order=order:50053

k8s-config: $(STAMP) ## regenerate k8s/base/gateway/envoy.yaml after a proto change (commit it)
	$(BIN)/python envoy/generate.py --out $(K8S_ENVOY_CONFIG) $(K8S_ENVOY_ARGS)
	$(BIN)/envoy --mode validate -c $(K8S_ENVOY_CONFIG)

k8s-validate: $(STAMP) ## build every k8s/ overlay and check it (schemas, probes, wiring)
	$(BIN)/python -m pytest -q tests/k8s

up: $(STAMP) ## run the whole shop in the foreground (Ctrl-C stops it)
	$(BIN)/python -m shopmesh.devstack up

up-spanner: $(STAMP) ## like make up, on a local Spanner emulator instead of SQLite
	SHOP_SPANNER_EMULATOR=1 $(BIN)/python -m shopmesh.devstack up

spanner-schema: $(STAMP) ## create/update the Spanner databases (SPANNER_* settings)
	$(BIN)/python -m shopmesh.spanner_schema

up-detached: $(STAMP) ## run the whole shop in the background (stop with make down)
	$(BIN)/python -m shopmesh.devstack up --detach

down: ## stop a shop started with make up-detached
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m shopmesh.devstack down; fi

test: $(STAMP) check-generated lint ## everything CI runs: generated-code drift, lint, all tests
	$(BIN)/python -m pytest -q

test-unit: $(STAMP) ## only the fast tests (rules and stores)
	$(BIN)/python -m pytest -q tests/unit

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--rate 500 --duration 20".
bench: $(STAMP) ## checkout benchmark on a fresh local stack: build/bench/report.{json,png}
	$(BIN)/python -m shopmesh.bench $(BENCH_ARGS)

# CHAOS_ARGS passes options through, e.g. make chaos CHAOS_ARGS="--replicas 2 --duration 30".
chaos: $(STAMP) ## checkout load under kills and pauses on a fresh supervised stack: build/chaos/
	$(BIN)/python -m shopmesh.chaos $(CHAOS_ARGS)

clean: ## remove the virtualenv, build output and local data
	rm -rf $(VENV) build run data
