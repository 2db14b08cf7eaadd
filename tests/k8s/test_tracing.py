"""Traces on Kubernetes: the prod overlay sends the services' and the gateway's spans to the
operator's collector Service, at one sampling ratio, through a NetworkPolicy that lets them
out; the base and dev trace nothing."""

import re
import subprocess
import sys

import pytest
import yaml

from .manifests import (
    PROD_ENVOY_CONFIG,
    ROOT,
    effective_env,
    find,
    is_shop_container,
    manifests,
    shop_deployments,
)
from .network_policy import policies

pytestmark = pytest.mark.k8s

COLLECTOR = ("otel-collector.observability", 4317)


def makefile_var(name: str) -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(rf"^{name}\s*:?=(.*)$", makefile, re.MULTILINE)
    assert found, f"the Makefile has no {name}"
    return found.group(1).split()


def service_envs(docs) -> dict[str, dict[str, str]]:
    return {
        name: effective_env(docs, container)
        for name, pod in shop_deployments(docs).items()
        for container in pod.containers()
        if is_shop_container(container) and name != "gateway"
    }


def gateway_tracing(docs) -> dict:
    config = yaml.safe_load(find(docs, "ConfigMap", "gateway-envoy")["data"]["envoy.yaml"])
    managers = [
        f["typed_config"]
        for listener in config["static_resources"]["listeners"]
        if listener["name"] in ("rest", "grpc")  # not the stats listener
        for chain in listener["filter_chains"]
        for f in chain["filters"]
        if f["name"].endswith("http_connection_manager")
    ]
    assert len(managers) == 2, "the REST and the gRPC listener"
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    return {"managers": managers, "clusters": clusters}


def test_prod_sends_every_services_spans_to_the_collector_at_one_ratio():
    docs = manifests("prod")
    envs = service_envs(docs)
    assert set(envs) == {"stock", "payment", "order"}
    for name, env in envs.items():
        assert env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == f"http://{COLLECTOR[0]}:{COLLECTOR[1]}"
        assert env.get("OTEL_TRACES_SAMPLER") == "parentbased_traceidratio", name
        ratio = float(env["OTEL_TRACES_SAMPLER_ARG"])
        assert 0 < ratio <= 1, name

    # The gateway decides for a request: the same ratio, as Envoy's percentage.
    gateway = gateway_tracing(docs)
    for manager in gateway["managers"]:
        tracing = manager["tracing"]
        assert tracing["random_sampling"]["value"] == pytest.approx(100 * ratio)
        cluster = tracing["provider"]["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
        endpoint = gateway["clusters"][cluster]["load_assignment"]["endpoints"][0]
        socket = endpoint["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
        assert (socket["address"], socket["port_value"]) == COLLECTOR


def test_prod_lets_the_spans_out_to_the_collectors_namespace_only_on_4317():
    docs = manifests("prod")
    for name, pod in shop_deployments(docs).items():
        rules = [
            rule
            for spec in policies(docs, pod, "Egress")
            for rule in spec.get("egress", [])
            if any(p.get("port") == COLLECTOR[1] for p in rule.get("ports", []))
        ]
        assert rules, f"{name} may not reach the collector"
        for rule in rules:
            assert [p["port"] for p in rule["ports"]] == [COLLECTOR[1]]
            namespace = COLLECTOR[0].split(".")[1]
            assert rule["to"] == [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
            ]


@pytest.mark.parametrize("overlay", ["dev"])
def test_without_a_collector_nothing_is_traced(overlay: str):
    docs = manifests(overlay)
    for name, env in service_envs(docs).items():
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env, name
    assert all("tracing" not in m for m in gateway_tracing(docs)["managers"])


def test_the_committed_prod_gateway_config_is_current(tmp_path):
    fresh = tmp_path / "envoy.yaml"
    args = makefile_var("K8S_ENVOY_ARGS") + makefile_var("K8S_PROD_ENVOY_ARGS")
    subprocess.run(
        [sys.executable, "envoy/generate.py", "--out", str(fresh), *args],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert fresh.read_text() == PROD_ENVOY_CONFIG.read_text(), (
        f"{PROD_ENVOY_CONFIG.relative_to(ROOT)} is stale: run `make k8s-config` and commit it"
    )
