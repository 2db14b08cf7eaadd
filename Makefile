# Every command a developer or CI runs. `make up` runs the shop, `make test` tests it.
# CPython 3.11 to 3.13: PYTHON when given, else the newest python3.13, python3.12, python3.11 or
# python3 on PATH (scripts/python.sh). A .venv made by another interpreter is rebuilt.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell scripts/python.sh pick)
endif
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install protos check-generated lint envoy-config k8s-config k8s-validate up up-spanner spanner-schema up-detached down test test-unit smoke bench clean FORCE fmt typecheck breaking monitoring-config chaos sim

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(VENV)/.interpreter
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Always checked; the file (and so the install) changes only with the interpreter.
$(VENV)/.interpreter: FORCE
	@scripts/python.sh check "$(PYTHON)" "$(VENV)"

FORCE:

install: $(STAMP) ## create .venv and install the shop with its dev tools

protos: $(STAMP) ## regenerate gen/ (Python stubs and descriptor set) from protos/
	$(BIN)/python scripts/gen_protos.py

check-generated: protos ## fail if the committed gen/ differs from what protos/ produce
	@git diff --exit-code --stat -- gen || (echo "gen/ is stale: run 'make protos' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- gen)" || (git status --porcelain -- gen; echo "gen/ has untracked files: run 'make protos' and commit"; exit 1)

lint: $(STAMP) ## buf lint for protos, ruff for Python, and both formatters in check mode
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf format --diff --exit-code

fmt: $(STAMP) ## format Python (ruff) and protos (buf) in place
	$(BIN)/ruff format .
	$(BIN)/buf format -w

typecheck: $(STAMP) ## mypy over the runtime and the services, with the generated .pyi stubs
	$(BIN)/mypy

# On a branch: the protos against main. On main: against the commit before (what landed).
HASH := \#
BREAKING_AGAINST ?= .git$(HASH)$(if $(filter main,$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)),ref=HEAD~1,branch=main)
breaking: $(STAMP) ## buf breaking: no change to protos/ breaks existing clients (FILE rules)
	$(BIN)/buf breaking --against '$(BREAKING_AGAINST)'

envoy-config: $(STAMP) ## write build/envoy.yaml for the default local ports and validate it
	@mkdir -p build
	$(BIN)/python envoy/generate.py --out build/envoy.yaml
	$(BIN)/envoy --mode validate -c build/envoy.yaml

# The gateway's config on Kubernetes: the Services' cluster DNS names, listeners on every
# interface, the descriptor set inline so that the ConfigMap alone is enough.
# tests/k8s reads K8S_ENVOY_ARGS from here to check that the committed file is current.
K8S_ENVOY_CONFIG := k8s/base/gateway/envoy.yaml
# The prod overlay's gateway also traces (10 % of requests) to the operator's collector.
K8S_PROD_ENVOY_CONFIG := k8s/overlays/prod/gateway/envoy.yaml
K8S_PROD_ENVOY_ARGS := --otlp-collector=otel-collector.observability:4317 --trace-sampling=10
K8S_ENVOY_ARGS := --embed-descriptor --rest-addr=0.0.0.0:8000 --grpc-addr=0.0.0.0:8081 --admin-addr=0.0.0.0:9901 --stats-addr=0.0.0.0:9902 --upstream=stock=stock:50051 --upstream=payment=payment:50052 --upstream=order=order:50053

k8s-config: $(STAMP) ## regenerate the gateway configs of k8s/base and k8s/overlays/prod after a proto change (commit them)
	$(BIN)/python envoy/generate.py --out $(K8S_ENVOY_CONFIG) $(K8S_ENVOY_ARGS)
	$(BIN)/envoy --mode validate -c $(K8S_ENVOY_CONFIG)
	$(BIN)/python envoy/generate.py --out $(K8S_PROD_ENVOY_CONFIG) $(K8S_ENVOY_ARGS) $(K8S_PROD_ENVOY_ARGS)
	$(BIN)/envoy --mode validate -c $(K8S_PROD_ENVOY_CONFIG)

monitoring-config: $(STAMP) ## regenerate k8s/monitoring/dashboard.json (commit it) and check the alert rules
	$(BIN)/python k8s/monitoring/generate.py
	@if command -v promtool >/dev/null; then promtool check rules k8s/monitoring/alerts.yaml; else echo "promtool not installed (Debian: prometheus): rules checked by tests/k8s only"; fi

k8s-validate: $(STAMP) ## build every k8s/ overlay and check it (schemas, probes, wiring)
	$(BIN)/python -m pytest -q tests/k8s

up: $(STAMP) ## run the whole shop in the foreground (Ctrl-C stops it)
	$(BIN)/python -m shoptools.devstack up

up-spanner: $(STAMP) ## like make up, on a local Spanner emulator instead of SQLite
	SHOP_SPANNER_EMULATOR=1 $(BIN)/python -m shoptools.devstack up

spanner-schema: $(STAMP) ## create/update the Spanner databases (SPANNER_* settings)
	$(BIN)/python -m shopmesh.store.spanner_schema stock payment order

up-detached: $(STAMP) ## run the whole shop in the background (stop with make down)
	$(BIN)/python -m shoptools.devstack up --detach

down: ## stop a shop started with make up-detached
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m shoptools.devstack down; fi

test: $(STAMP) check-generated lint typecheck breaking ## everything CI runs: drift, lint, types, protos, all tests
	$(BIN)/python -m pytest -q
	$(MAKE) image-test

test-unit: $(STAMP) ## only the fast tests (rules and stores)
	$(BIN)/python -m pytest -q tests/unit

smoke: $(STAMP) ## a private stack on free ports, one checkout through the gateway
	$(BIN)/python -m pytest -q tests/smoke

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--rate 500 --duration 20".
bench: $(STAMP) ## checkout benchmark on a fresh local stack: build/bench/report.{json,png}
	$(BIN)/python -m shoptools.bench $(BENCH_ARGS)

# --- Container image ------------------------------------------------------------------------
# podman where installed, else docker (SHOP_CONTAINER_ENGINE overrides). BASE_IMAGE=local
# builds on a base made from Debian's packages, for machines without a registry.
.PHONY: image image-test
IMAGE ?= shopmesh:dev
BASE_IMAGE ?=

image: ## build the shop's container image (IMAGE=shopmesh:dev; BASE_IMAGE=local: no registry)
	$(PYTHON) scripts/container_image.py build --tag $(IMAGE) $(if $(BASE_IMAGE),--base $(BASE_IMAGE))

image-test: $(STAMP) ## build the image, run the shop from it and from the dev overlay's pods
	$(BIN)/python scripts/container_image.py test
# --- end of container image ---------------------------------------------------------------

# CHAOS_ARGS passes options through, e.g. make chaos CHAOS_ARGS="--replicas 2 --duration 30".
chaos: $(STAMP) ## checkout load under kills and pauses on a fresh supervised stack: build/chaos/
	$(BIN)/python -m shoptools.chaos $(CHAOS_ARGS)

# make sim SEEDS=100000 (from START=0) explores longer than make test's budget; SEED=n replays
# one seed (TRACE=1: every step). Stops at the first seed that breaks an invariant.
SEEDS ?= 10000
START ?= 0
sim: $(STAMP) ## deterministic simulation of checkout under faults: SEEDS=n, or SEED=n TRACE=1 to replay
	$(BIN)/python -m shoptools.sim $(if $(SEED),--seed $(SEED) $(if $(TRACE),--trace),--start $(START) --seeds $(SEEDS))

clean: ## remove the virtualenv, build output and local data
	rm -rf $(VENV) .venv-* build run data
