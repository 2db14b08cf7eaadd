"""The dev overlay's shop pods under `podman kube play`: the manifests' commands, env, ports,
ConfigMaps, read-only root and users, with the real image, serve a checkout through the gateway
pod. What is changed to play them on one machine is in tests/image/kube.py; what kube play
cannot show (Services, NetworkPolicies, probes, autoscaling) is a cluster's part."""

import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import yaml
from e2e.checkout_helpers import Shop, ok

from . import kube
from .conftest import ROOT, timed
from .podman import Podman, free_loopback_port, wait_serving

SHOP_UID = 10001
# Cold, the first test also makes the base (debootstrap) and builds the image.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def dev_overlay() -> list[dict]:
    try:
        rendered = subprocess.run(
            ["kubectl", "kustomize", str(ROOT / "k8s" / "overlays" / "dev")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    except FileNotFoundError:
        pytest.skip("kubectl is not installed (Debian 12 machines of this kind have it)")
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def test_the_gateway_stand_in_is_the_envoy_the_manifests_name(dev_overlay, envoy_image):
    assert kube.envoy_version(dev_overlay) == envoy_image[1]


def _host_ports(docs: list[dict]) -> list[tuple[str, str, int]]:
    return [
        (
            container["name"],
            port.get("hostIP", "0.0.0.0"),
            port.get("hostPort", port["containerPort"]),
        )
        for doc in docs
        if doc["kind"] == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
        for port in container.get("ports", [])
    ]


def test_only_the_gateways_rest_port_reaches_the_host(dev_overlay) -> None:
    # podman 4 publishes every containerPort without a hostPort at its own number on all host
    # addresses; as rendered the play would bind 50051-50053 and the metrics ports on the host.
    plays = kube.playable(dev_overlay, "t", {"shopmesh": "s", "envoyproxy/envoy": "e"}, 43210)
    published = [p for docs in plays.values() for p in _host_ports(docs)]
    assert published == [("envoy", "127.0.0.1", 43210)], published


@pytest.fixture(scope="module")
def pods(
    podman: Podman,
    run_id: str,
    shop_image: str,
    envoy_image: tuple[str, str],
    dev_overlay: list[dict],
    tmp_path_factory,
) -> Iterator[tuple[str, list[dict]]]:
    # kube play takes images by name: a tag of this run's own for the image under test.
    shop_tag = f"localhost/shopmesh:image-test-{run_id}"
    podman("tag", shop_image, shop_tag)
    podman.on_cleanup("rmi", shop_tag)
    network = podman.network("kube")
    rest_port = free_loopback_port()
    images = {"shopmesh": shop_tag, "envoyproxy/envoy": envoy_image[0]}
    plays = kube.playable(dev_overlay, run_id, images, rest_port)
    directory = tmp_path_factory.mktemp("kube-play")
    with timed("kube play pods up"):
        for service, docs in plays.items():
            path = directory / f"{service}.yaml"
            path.write_text(yaml.safe_dump_all(docs))
            podman.on_cleanup("kube", "down", str(path))
            podman("kube", "play", f"--network={network}:alias={service}", str(path))
        names = [
            c["Names"][0]
            for c in json.loads(podman("ps", "--all", "--format", "json"))
            if run_id in c["Names"][0]
        ]
        url = f"http://127.0.0.1:{rest_port}"
        wait_serving(url, podman, names)
    yield url, podman.inspect(*names)


def test_a_checkout_through_the_gateway_pod(pods) -> None:
    url, _ = pods
    with httpx.Client(base_url=url, timeout=30) as http:
        shop = Shop(http)
        item = shop.item(price=5, stock=10)
        buyer = shop.user(credit=50)
        order = shop.order(buyer, [(item, 2)])
        ok(shop.checkout(order))
        assert shop.find(order)["paid"]
        assert shop.stock(item) == 8
        assert shop.credit(buyer) == 40


def test_nothing_but_the_rest_port_is_published_on_the_host(pods, podman, run_id) -> None:
    url, _ = pods
    mine = [
        c
        for c in json.loads(podman("ps", "--all", "--pod", "--format", "json"))
        if run_id in (c.get("PodName") or "")
    ]
    assert {c["PodName"].split("-")[0] for c in mine} == set(kube.SHOP_DEPLOYMENTS), mine
    published = {
        (p["host_ip"], p["host_port"], p["container_port"]) for c in mine for p in c["Ports"] or []
    }
    rest_port = int(url.rsplit(":", 1)[1])
    assert published == {("127.0.0.1", rest_port, 8000)}, published


def test_the_pods_run_as_the_manifests_say(pods) -> None:
    _, containers = pods
    users = {c["Name"].split("-")[0]: c["Config"]["User"] for c in containers}
    assert users == {
        "stock": f"{SHOP_UID}:{SHOP_UID}",
        "payment": f"{SHOP_UID}:{SHOP_UID}",
        "order": f"{SHOP_UID}:{SHOP_UID}",
        "gateway": "101:101",
    }, users
    for container in containers:
        assert container["HostConfig"]["ReadonlyRootfs"], container["Name"]
        assert container["State"]["Status"] == "running", container["Name"]
