"""Fixtures of the end-to-end tests: a `Shop` on the shared stack or on a private one."""

from collections.abc import Iterator

import httpx
import pytest

from shoptools.devstack import Stack

from .helpers import Shop


@pytest.fixture
def shop(rest: httpx.Client) -> Shop:
    return Shop(rest)


@pytest.fixture
def own_shop(own_stack: Stack) -> Iterator[Shop]:
    """A Shop on `own_stack` (request `own_stack` too to kill or restart its processes)."""
    with httpx.Client(base_url=own_stack.config.rest_url, timeout=30) as client:
        yield Shop(client)
