"""Several processes of a service on one store: losing one of them fails no request, and an
order coordinator that dies mid-checkout is finished by the one that lives."""

import asyncio
import os
import pathlib
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest

from shop.order.v1 import order_pb2, order_pb2_grpc
from shopmesh.faults import EXIT_CODE
from shoptools.devstack import Stack, StackConfig
from shoptools.supervisor import SupervisorThread

from .checkout_helpers import (
    FAST_RECOVERY,
    LONG_LEASE,
    Sent,
    Shop,
    client,
    describe,
    outcome,
    send_timed,
    wait_for_invariants,
)

pytestmark = pytest.mark.e2e

BUSINESS_REFUSALS = {"4xx:INSUFFICIENT_STOCK", "4xx:INSUFFICIENT_CREDIT"}


@pytest.fixture
def replicated(tmp_path: pathlib.Path) -> Iterator[Stack]:
    stack = Stack(
        StackConfig.ephemeral(tmp_path, FAST_RECOVERY, replicas={"stock": 2, "payment": 2})
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_killing_a_participant_replica_fails_no_request(replicated: Stack):
    stack = replicated
    with client(stack) as http:
        shop = Shop(http)
        items = [shop.item(price=p, stock=60) for p in (1, 2, 3)]
        users = [shop.user(credit=40) for _ in range(30)]
        orders = [
            shop.order(users[i % len(users)], [(items[i % 3], 1), (items[(i + 1) % 3], 1)])
            for i in range(240)
        ]
        initial_credit = {user: 40 for user in users}
    requests = [("POST", f"/orders/checkout/{order}") for order in orders]
    # Reads go through the gateway to the replicas as well, interleaved with the checkouts.
    requests += [("GET", f"/stock/find/{items[i % 3]}") for i in range(120)]
    requests += [("GET", f"/payment/find_user/{users[i % 30]}") for i in range(120)]
    results: list[Sent] = []
    workload = threading.Thread(
        target=lambda: results.extend(
            asyncio.run(send_timed(stack.config.rest_url, requests, 20, spacing_s=0.015))
        )
    )
    with SupervisorThread(stack) as supervisor:
        workload.start()
        for victim in ["stock-2", "payment"]:
            time.sleep(1.5)
            os.kill(stack.processes[victim].pid, signal.SIGKILL)
        workload.join()
    assert {r.name for r in supervisor.history} == {"stock-2", "payment"}

    outcomes = Counter(outcome(sent.answer) for sent in results)
    print(f"answers: {dict(outcomes)}")
    failed = [
        describe(sent.answer)
        for sent in results
        if outcome(sent.answer) != "200" and outcome(sent.answer) not in BUSINESS_REFUSALS
    ]
    assert not failed, f"{len(failed)} requests failed: {failed[:5]}"
    wait_for_invariants(stack, dict.fromkeys(items, 60), initial_credit)


@pytest.fixture
def two_coordinators(request, tmp_path: pathlib.Path) -> Iterator[tuple[Stack, str]]:
    env = LONG_LEASE if request.param == "checkout.before_decision" else FAST_RECOVERY
    stack = Stack(StackConfig.ephemeral(tmp_path, dict(env), replicas={"order": 2}))
    try:
        stack.start()
        yield stack, request.param
    finally:
        stack.stop()


def checkout_directly(stack: Stack, process: str, order_id: str) -> None:
    """A checkout sent to one order process (not through the gateway), which dies in it."""
    with grpc.insecure_channel(stack.listen_addr(process)) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        with pytest.raises(grpc.RpcError):
            stub.Checkout(order_pb2.CheckoutRequest(order_id=order_id), timeout=30)
    assert stack.processes[process].wait(timeout=30) == EXIT_CODE


POINTS = ["checkout.before_decision", "checkout.after_decision"]


@pytest.mark.parametrize("two_coordinators", POINTS, indirect=True)
def test_the_surviving_coordinator_finishes_what_the_dead_one_began(two_coordinators):
    stack, point = two_coordinators
    with client(stack) as http:
        shop = Shop(http)
        item = shop.item(price=4, stock=10)
        user = shop.user(credit=50)
        order = shop.order(user, [(item, 2)])
        stack.restart_service("order-2", extra_env={"SHOP_FAULT_POINT": point})
        checkout_directly(stack, "order-2", order)
        # order-2 stays dead: only `order` is left to recover its transaction.
        stack.stop_process("order-2")
        if point == "checkout.after_decision":
            wait_for_invariants(stack, {item: 10}, {user: 50})
            assert shop.paid(order)
            assert (shop.stock(item), shop.credit(user)) == (8, 42)
        else:
            # The client retries: the survivor sees that the owner is dead, aborts its undecided
            # transaction without waiting for the lease (which outlasts the gateway's timeout)
            # and checks out afresh.
            answer = shop.checkout(order)
            assert answer.status_code == 200, describe(answer)
            wait_for_invariants(stack, {item: 10}, {user: 50})
            assert shop.paid(order)
            assert (shop.stock(item), shop.credit(user)) == (8, 42)
