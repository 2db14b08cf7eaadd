"""The course's consistency workload: 1000 users with credit 1 race for 100 units of one item."""

import pytest
from conftest import STORES, store_env

from shoptools.devstack import Stack

from .checkout_helpers import check_invariants, race_for_the_stock

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
    item, users = race_for_the_stock(own_stack.config.rest_url, USERS, STOCK, IN_FLIGHT)
    if own_stack.config.env.get("SHOP_STORE") == "spanner":
        prefix = own_stack.config.env["SPANNER_DATABASE_PREFIX"]
        assert request.getfixturevalue("spanner_emulator").unsettled(prefix) == (0, 0)
    else:
        check_invariants(own_stack, {item: STOCK}, dict.fromkeys(users, 1))
