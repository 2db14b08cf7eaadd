"""Fixtures that start real processes on ephemeral loopback ports (never 8000)."""

import pathlib
from collections.abc import Iterator

import httpx
import pytest

from shopmesh.devstack import Stack, StackConfig


def start_stack(base: pathlib.Path, env: dict[str, str] | None = None) -> Stack:
    stack = Stack(StackConfig.ephemeral(base, env))
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One shared stack: three services and Envoy. Tests must not assume empty stores."""
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


@pytest.fixture
def own_stack(tmp_path: pathlib.Path) -> Iterator[Stack]:
    """A private stack for tests that kill or restart processes."""
    stack = start_stack(tmp_path)
    yield stack
    stack.stop()


@pytest.fixture
def rest(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=30) as client:
        yield client
