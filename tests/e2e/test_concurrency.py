"""Many clients at once through the gateway: no oversell, no overdraft, no lost update."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shoptools.devstack import Stack

from .helpers import Shop, reasons

pytestmark = pytest.mark.e2e

CLIENTS = 100


def post_all(stack: Stack, paths: list[str]) -> list[httpx.Response]:
    """POST every path at once, one thread each, over a pool as large as the crowd."""
    limits = httpx.Limits(max_connections=len(paths), max_keepalive_connections=len(paths))
    with httpx.Client(base_url=stack.config.rest_url, timeout=60, limits=limits) as client:
        with ThreadPoolExecutor(max_workers=len(paths)) as pool:
            return list(pool.map(client.post, paths))


def outcomes(responses: list[httpx.Response]) -> Counter:
    return Counter(
        (r.status_code, *reasons(r)) if r.status_code != 200 else (200,) for r in responses
    )


def test_concurrent_subtracts_sell_exactly_the_stock(stack: Stack, shop: Shop):
    item = shop.create_item(price=1, stock=50)
    responses = post_all(stack, [f"/stock/subtract/{item}/1"] * CLIENTS)
    assert outcomes(responses) == {(200,): 50, (400, "INSUFFICIENT_STOCK"): 50}
    assert shop.stock(item) == 0


def test_concurrent_payments_spend_exactly_the_credit(stack: Stack, shop: Shop):
    user = shop.create_user(credit=50)
    responses = post_all(stack, [f"/payment/pay/{user}/1"] * CLIENTS)
    assert outcomes(responses) == {(200,): 50, (400, "INSUFFICIENT_CREDIT"): 50}
    assert shop.credit(user) == 0


def test_concurrent_direct_payments_of_one_order_charge_once(stack: Stack, shop: Shop):
    user = shop.create_user(credit=50)
    responses = post_all(stack, [f"/payment/pay/{user}/order-1/30"] * CLIENTS)
    assert outcomes(responses) == {(200,): CLIENTS}
    assert shop.credit(user) == 20


def test_concurrent_additions_lose_no_update(stack: Stack, shop: Shop):
    item, user = shop.create_item(), shop.create_user()
    order = shop.create_order(user)
    paths = [
        f"/stock/add/{item}/2",
        f"/payment/add_funds/{user}/3",
        f"/orders/addItem/{order}/{item}",
    ]
    responses = post_all(stack, paths * 30)
    assert outcomes(responses) == {(200,): 90}
    assert shop.stock(item) == 60
    assert shop.credit(user) == 90
    assert shop.order(order)["total_cost"] == 30 * 10
    assert sum(quantity for _, quantity in shop.order(order)["items"]) == 30
