"""Checkout's edges, as a REST client meets them: refusals that have released everything by the
time they are answered, balances that never leave the API's 32-bit range, and one bad order that
cannot fail anyone else's checkout. One private SQLite stack for the module."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from shopmesh.devstack import Stack, StackConfig

from .checkout_helpers import Shop, ok, outcome, refused

pytestmark = pytest.mark.e2e
MAX_INT32 = 2**31 - 1


@pytest.fixture(scope="module")
def edge_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(StackConfig.ephemeral(tmp_path_factory.mktemp("edge")))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def shop(edge_stack: Stack) -> Iterator[Shop]:
    with httpx.Client(base_url=edge_stack.config.rest_url, timeout=30) as http:
        yield Shop(http)


async def _checkout_then_read_stock(http: httpx.AsyncClient, order: str, item: str) -> tuple:
    answer = await http.post(f"/orders/checkout/{order}")
    stock = (await http.get(f"/stock/find/{item}")).json()["stock"]
    return outcome(answer), stock


async def _duplicate_checkouts(url: str, pairs: list[tuple[str, str]]) -> list[tuple]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        seen = []
        for order, item in pairs:
            pair = (_checkout_then_read_stock(http, order, item) for _ in range(2))
            seen.extend(await asyncio.gather(*pair))
        return seen


def test_every_refusal_of_a_duplicate_checkout_comes_after_the_release(shop, edge_stack):
    """Two checkouts at once of an order its user cannot pay: whichever answers, a read
    right after its refusal sees all the stock back."""
    pairs = []
    for _ in range(30):
        item = shop.item(price=10, stock=60)
        pairs.append((shop.order(shop.user(credit=0), [(item, 6)]), item))

    seen = asyncio.run(_duplicate_checkouts(edge_stack.config.rest_url, pairs))

    assert {answer for answer, _ in seen} == {"4xx:INSUFFICIENT_CREDIT"}, seen
    assert [stock for _, stock in seen] == [60] * len(seen)
