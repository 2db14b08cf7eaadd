"""Fixtures that start real processes on ephemeral loopback ports (never 8000).

The shared `stack` runs once per store: SQLite, then Spanner on the emulator (skipped, with
how to install it, where the emulator binary is absent)."""

import pathlib
from collections.abc import Callable, Iterator

import httpx
import pytest
from spanner_support import SpannerEmulator, run_emulator

from shoptools.devstack import Stack, StackConfig

STORES = ["sqlite", "spanner"]


def start_stack(base: pathlib.Path, env: dict[str, str] | None = None) -> Stack:
    stack = Stack(StackConfig.ephemeral(base, env))
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


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
def make_stack(tmp_path: pathlib.Path) -> Iterator[Callable[..., Stack]]:
    """`make_stack(env)`: a private stack with extra settings, stopped after the test."""
    stacks: list[Stack] = []

    def make(env: dict[str, str] | None = None) -> Stack:
        stacks.append(start_stack(tmp_path / f"stack{len(stacks)}", env))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=30) as client:
        yield client
