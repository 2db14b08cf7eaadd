"""The course's consistency workload: 1000 users with credit 1 race for 100 units of one item."""

import asyncio
from collections import Counter

import pytest
from conftest import STORES, store_env

from shopmesh.devstack import Stack

from .checkout_helpers import Shop, all_ok, check_invariants, client, ok, outcome, send_all

pytestmark = pytest.mark.e2e

USERS, STOCK, IN_FLIGHT = 1000, 100, 100


@pytest.fixture(params=STORES)
def workload_stack(request: pytest.FixtureRequest, make_stack) -> Stack:
    """A private stack per store: the workload runs once on SQLite and once on Spanner."""
    return make_stack(store_env(request, request.param))


# On the Spanner emulator (one read-write transaction at a time) this takes minutes.
@pytest.mark.timeout(900)
def test_a_thousand_concurrent_checkouts_sell_exactly_the_stock(workload_stack: Stack, request):
    own_stack = workload_stack
    url = own_stack.config.rest_url
    with client(own_stack) as http:
        shop = Shop(http)
        item = shop.item(price=1, stock=STOCK)
        ok(http.post(f"/payment/batch_init/{USERS}/1"))
        users = [str(u) for u in range(USERS)]
        created = all_ok(url, "POST", [f"/orders/create/{user}" for user in users])
        orders = [body["order_id"] for body in created]
        all_ok(url, "POST", [f"/orders/addItem/{order}/{item}/1" for order in orders])

        checkouts = [("POST", f"/orders/checkout/{order}") for order in orders]
        answers = asyncio.run(send_all(url, checkouts, IN_FLIGHT))

        outcomes = Counter(map(outcome, answers))
        assert outcomes["200"] == STOCK, outcomes
        assert sum(n for o, n in outcomes.items() if o.startswith("4xx")) == USERS - STOCK, outcomes
        assert shop.stock(item) == 0
        credits = all_ok(url, "GET", [f"/payment/find_user/{user}" for user in users], IN_FLIGHT)
        assert sum(body["credit"] for body in credits) == USERS - STOCK
        found = all_ok(url, "GET", [f"/orders/find/{order}" for order in orders], IN_FLIGHT)
        paid = {body["order_id"] for body in found if body["paid"]}
        assert paid == {o for o, a in zip(orders, answers, strict=True) if outcome(a) == "200"}
    if own_stack.config.env.get("SHOP_STORE") == "spanner":
        prefix = own_stack.config.env["SPANNER_DATABASE_PREFIX"]
        assert request.getfixturevalue("spanner_emulator").unsettled(prefix) == (0, 0)
    else:
        check_invariants(own_stack, {item: STOCK}, dict.fromkeys(users, 1))
