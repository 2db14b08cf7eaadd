"""Fixtures that start real processes on ephemeral loopback ports (never 8000).

The shared `stack` runs once per store: SQLite, then Spanner on the emulator (skipped, with
how to install it, where the emulator binary is absent)."""

import itertools
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from shopmesh.devstack import Stack, StackConfig, free_ports
from shopmesh.spanner import SpannerSettings
from shopmesh.spanner_emulator import INSTALL_HINT, find_emulator, start_emulator

STORES = ["sqlite", "spanner"]


def start_stack(base: pathlib.Path, env: dict[str, str] | None = None) -> Stack:
    stack = Stack(StackConfig.ephemeral(base, env))
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


@dataclass
class SpannerEmulator:
    """A running emulator; every database prefix it hands out is new, so tests never share."""

    host: str
    project: str = "shop-test"
    instance: str = "shop"
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def new_prefix(self) -> str:
        return f"t{next(self._ids)}-"

    def settings(self, service: str, prefix: str) -> SpannerSettings:
        return SpannerSettings(
            project=self.project,
            instance=self.instance,
            database=f"{prefix}{service}",
            emulator_host=self.host,
            sessions=8,
            threads=8,
            create_schema=True,
        )

    def env(self, prefix: str | None = None) -> dict[str, str]:
        """Settings that put a stack's services on fresh databases of this emulator."""
        return {
            "SHOP_STORE": "spanner",
            "SPANNER_EMULATOR_HOST": self.host,
            "SPANNER_PROJECT": self.project,
            "SPANNER_INSTANCE": self.instance,
            "SPANNER_DATABASE_PREFIX": prefix or self.new_prefix(),
            "SPANNER_CREATE_SCHEMA": "true",
        }


def run_emulator(base: pathlib.Path, *extra_args: str) -> Iterator[SpannerEmulator]:
    if find_emulator() is None:
        pytest.skip(f"Spanner tests skipped: {INSTALL_HINT}")
    port = free_ports(1)[0]
    process = start_emulator(port, base / "emulator.log", extra_args)
    yield SpannerEmulator(host=f"127.0.0.1:{port}")
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def spanner_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpannerEmulator]:
    # Every test gets databases of its own: more than Spanner's 100 per instance.
    yield from run_emulator(
        tmp_path_factory.mktemp("spanner"), "--override_max_databases_per_instance=100000"
    )


def store_env(request: pytest.FixtureRequest, store: str) -> dict[str, str]:
    if store == "sqlite":
        return {}
    return request.getfixturevalue("spanner_emulator").env()


@pytest.fixture(scope="session", params=STORES)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One shared stack per store: three services and Envoy. Tests must not assume empty
    stores."""
    stack = start_stack(
        tmp_path_factory.mktemp(f"stack-{request.param}"), store_env(request, request.param)
    )
    yield stack
    stack.stop()


@pytest.fixture
def own_stack(tmp_path: pathlib.Path) -> Iterator[Stack]:
    """A private SQLite stack for tests that kill or restart processes."""
    stack = start_stack(tmp_path)
    yield stack
    stack.stop()


@pytest.fixture
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=30) as client:
        yield client
