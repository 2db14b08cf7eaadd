"""The gateway on Kubernetes retries exactly as the local stack's replicas are retried: one
policy (envoy/resilience.py), generated into both configs."""

import pathlib
import subprocess
import sys

import pytest
import yaml

from .manifests import ENVOY_CONFIG, ROOT

pytestmark = pytest.mark.k8s


def route_policies(config: dict) -> dict[str, dict]:
    """Retry policy per route path, over every listener that routes to the services."""
    found = {}
    for listener in config["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for network_filter in chain["filters"]:
                routes = network_filter["typed_config"].get("route_config", {})
                for host in routes.get("virtual_hosts", []):
                    for route in host["routes"]:
                        if "retry_policy" in route.get("route", {}):
                            found[route["match"]["path"]] = route["route"]["retry_policy"]
    return found


def test_kubernetes_and_local_replicas_share_the_retry_policy(tmp_path: pathlib.Path):
    local = tmp_path / "envoy.yaml"
    subprocess.run(
        [
            sys.executable,
            "envoy/generate.py",
            f"--out={local}",
            "--upstream=stock=127.0.0.1:50051,127.0.0.1:50061",
            "--upstream=payment=127.0.0.1:50052,127.0.0.1:50062",
            "--upstream=order=127.0.0.1:50053,127.0.0.1:50063",
        ],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    local_policies = route_policies(yaml.safe_load(local.read_text()))
    k8s_policies = route_policies(yaml.safe_load(ENVOY_CONFIG.read_text()))
    assert local_policies and local_policies == k8s_policies


def test_only_reads_and_checkout_are_retried_after_a_reset():
    policies = route_policies(yaml.safe_load(ENVOY_CONFIG.read_text()))
    after_reset = {path for path, p in policies.items() if "reset," in p["retry_on"] + ","}
    methods = {path.rpartition("/")[2] for path in after_reset}
    assert "Checkout" in methods
    assert all(m == "Checkout" or m.startswith(("Find", "Get")) for m in methods), methods
    for path, policy in policies.items():
        assert "connect-failure" in policy["retry_on"], path
        assert "refused-stream" in policy["retry_on"], path
