"""Crashes during checkout, with real processes: whatever dies when, once recovery is done every
checkout happened entirely or not at all, in all three stores (see `check_invariants`)."""

import asyncio
import pathlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from shopmesh.faults import EXIT_CODE
from shoptools.devstack import SERVICES, Stack, StackConfig

from .checkout_helpers import (
    FAST_RECOVERY,
    LONG_LEASE,
    Sent,
    Shop,
    checkout_until_answered,
    client,
    describe,
    outcome,
    refused,
    send_timed,
    wait_for_invariants,
)
from .kafka_helpers import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def crash_stack(tmp_path: pathlib.Path) -> Iterator[Stack]:
    """A private stack with short timeouts, so that recovery happens within seconds."""
    stack = Stack(StackConfig.ephemeral(tmp_path, FAST_RECOVERY))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


# (service, point, what the crashed checkout answers, whether its order ends paid)
FAULTS = [
    ("stock", "reserve.after_commit", "4xx", False),
    ("payment", "reserve.after_commit", "4xx", False),
    ("order", "checkout.before_decision", "5xx", False),
    ("order", "checkout.after_decision", "5xx", True),
    ("stock", "commit.before_apply", "200", True),
    ("stock", "commit.after_apply", "200", True),
    ("payment", "commit.before_apply", "200", True),
    ("payment", "commit.after_apply", "200", True),
]


@pytest.mark.parametrize(
    "service, point, answered, paid", FAULTS, ids=[f"{s}-{p}" for s, p, *_ in FAULTS]
)
def test_crash_at_a_fault_point_is_recovered(crash_stack: Stack, service, point, answered, paid):
    with client(crash_stack) as http:
        shop = Shop(http)
        a, b = shop.item(price=3, stock=10), shop.item(price=5, stock=10)
        alice, bob = shop.user(credit=100), shop.user(credit=100)
        crashing = shop.order(alice, [(a, 2), (b, 1), (a, 1)])
        others = [shop.order(bob, [(a, 1)]), shop.order(alice, [(b, 3)])]
        too_big = shop.order(bob, [(b, 11)])
        initial_stock, initial_credit = {a: 10, b: 10}, {alice: 100, bob: 100}

        crash_stack.restart_service(service, extra_env={"SHOP_FAULT_POINT": point})
        answer = shop.checkout(crashing)
        assert crash_stack.processes[service].wait(timeout=30) == EXIT_CODE
        crash_stack.restart_service(service)
        wait_for_invariants(crash_stack, initial_stock, initial_credit)

        assert outcome(answer).startswith(answered[0]), describe(answer)
        if answered == "4xx":
            refused(answer, "DEPENDENCY_UNAVAILABLE", 409)
        assert shop.paid(crashing) is paid

        # Afterwards the shop works as before, and the crashed order is charged at most once.
        for order in [crashing, *others]:
            assert outcome(checkout_until_answered(shop, order)) == "200"
        refused(checkout_until_answered(shop, too_big), "INSUFFICIENT_STOCK", 400)
        wait_for_invariants(crash_stack, initial_stock, initial_credit)
        assert (shop.stock(a), shop.stock(b)) == (10 - 3 - 1, 10 - 1 - 3)
        assert (shop.credit(alice), shop.credit(bob)) == (100 - 14 - 15, 100 - 3)


def test_a_checkout_its_dead_coordinator_left_undecided_is_released_and_retried_at_once(
    tmp_path: pathlib.Path,
):
    # The deadline and the recovery lease outlast the gateway's timeout; the short lease a live
    # coordinator renews does not.
    env = {**LONG_LEASE, "CHECKOUT_LIVE_LEASE_S": "1"}
    stack = Stack(StackConfig.ephemeral(tmp_path, env))
    try:
        stack.start()
        with client(stack) as http:
            shop = Shop(http)
            item, user = shop.item(price=3, stock=5), shop.user(credit=10)
            order = shop.order(user, [(item, 2)])
            stack.restart_service(
                "order", extra_env={"SHOP_FAULT_POINT": "checkout.before_decision"}
            )
            assert outcome(shop.checkout(order)).startswith("5")
            assert stack.processes["order"].wait(timeout=30) == EXIT_CODE
            stack.restart_service("order")
            # The restarted process's recovery aborts it once the dead one's short lease ran
            # out, not at the deadline: what it held comes back within seconds ...
            wait_until(lambda: (shop.stock(item), shop.credit(user)) == (5, 10), "released", 10)
            # ... and the client's retry pays, instead of waiting or hearing "timed out".
            answer = shop.checkout(order)
            assert outcome(answer) == "200", describe(answer)
            assert shop.paid(order) and (shop.stock(item), shop.credit(user)) == (3, 4)
    finally:
        stack.stop()


def test_random_kill_9_during_concurrent_checkouts(crash_stack: Stack):
    rng = random.Random(20240617)
    url = crash_stack.config.rest_url
    with client(crash_stack) as http:
        shop = Shop(http)
        items = {shop.item(price=p, stock=40): p for p in (1, 2, 3, 5, 8)}
        users = [shop.user(credit=rng.randrange(5, 40)) for _ in range(40)]
        initial_stock = dict.fromkeys(items, 40)
        initial_credit = {user: shop.credit(user) for user in users}
        orders = []
        for _ in range(300):
            lines = [(rng.choice(list(items)), rng.randint(1, 3)) for _ in range(rng.randint(1, 2))]
            orders.append(shop.order(rng.choice(users), lines))

    # 300 checkouts, 30 in flight, spread over ~9 s; meanwhile kill -9 a service four times.
    checkouts = [("POST", f"/orders/checkout/{order}") for order in orders]
    results: list[Sent] = []
    workload = threading.Thread(
        target=lambda: results.extend(asyncio.run(send_timed(url, checkouts, 30, spacing_s=0.03)))
    )
    victims = [*SERVICES, rng.choice(SERVICES)]
    rng.shuffle(victims)
    order_down: list[tuple[float, float]] = []  # when the order service was not serving
    workload.start()
    for victim in victims:
        time.sleep(rng.uniform(0.3, 1.8))
        killed = time.monotonic()
        crash_stack.kill(victim)
        time.sleep(rng.uniform(0.0, 0.5))
        crash_stack.start_service(victim)
        crash_stack.wait_serving(victim)
        if victim == "order":
            order_down.append((killed, time.monotonic()))
    workload.join()

    wait_for_invariants(crash_stack, initial_stock, initial_credit)
    outcomes = Counter(outcome(sent.answer) for sent in results)
    print(f"kills: {victims}; answers: {dict(outcomes)}")
    assert outcomes["200"] > 0 and any(o.startswith("4xx") for o in outcomes), outcomes

    def answered(sent: Sent) -> bool:
        return outcome(sent.answer) == "200" or outcome(sent.answer).startswith("4xx")

    def order_was_down(sent: Sent) -> bool:
        return any(sent.started <= up and down <= sent.ended for down, up in order_down)

    # 5xx means "outcome unknown": only acceptable from an order service that died under it.
    unexplained = [describe(s.answer) for s in results if not answered(s) and not order_was_down(s)]
    assert not unexplained, f"{len(unexplained)} x neither 200 nor 4xx: {unexplained[:5]}"

    with client(crash_stack) as http:
        shop = Shop(http)
        for order, sent in zip(orders, results, strict=True):
            if outcome(sent.answer) == "200":
                assert shop.paid(order), order
            elif outcome(sent.answer).startswith("4xx"):
                assert not shop.paid(order), f"{order}: {describe(sent.answer)}"


def test_payment_status_that_cannot_be_known_is_an_error_not_a_wrong_false(crash_stack: Stack):
    """Payment crashed inside the commit of a paid checkout, then the coordinator went down:
    the credit is still HELD and only the coordinator knows the checkout committed. The status
    says so (409) rather than "not paid"; once the coordinator is back it says paid."""
    with client(crash_stack) as http:
        shop = Shop(http)
        item, user = shop.item(price=3, stock=10), shop.user(credit=100)
        order = shop.order(user, [(item, 2)])
        crash_stack.restart_service(
            "payment", extra_env={"SHOP_FAULT_POINT": "commit.before_apply"}
        )
        assert outcome(shop.checkout(order)) == "200"
        assert crash_stack.processes["payment"].wait(timeout=30) == EXIT_CODE
        crash_stack.kill("order")
        crash_stack.restart_service("payment")

        status = http.get(f"/payment/status/{user}/{order}")
        refused(status, "DEPENDENCY_UNAVAILABLE", 409)

        crash_stack.start_service("order")
        crash_stack.wait_serving("order")
        assert http.get(f"/payment/status/{user}/{order}").json() == {"paid": True}
