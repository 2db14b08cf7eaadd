"""The audit stream and retry events on a real (Tansu) broker: every change arrives, in order,
at least once, through broker outages and relay crashes, and the auditor agrees."""

import pathlib
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from shop.events.v1 import events_pb2
from shopmesh.faults import EXIT_CODE
from shoptools.auditor import audit
from shoptools.devstack import SERVICES, Stack, StackConfig

from .checkout_helpers import FAST_RECOVERY, Shop, client, ok
from .kafka_helpers import (
    Workload,
    answered,
    counted,
    distinct,
    last_balances,
    outbox_sizes,
    produce,
    query,
    read_audit,
    read_retries,
    relay_failures,
    run_auditor,
    wait_settled,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_the_audit_stream_of_a_concurrent_workload_adds_up(own_stack: Stack):
    with client(own_stack) as http:
        work = Workload(Shop(http), random.Random(7))
        work.create(items=10, stock=15, users=50, orders=100, others=10)
        outcomes = work.send(work.requests, in_flight=20)
        wait_settled(own_stack)
        events = read_audit(own_stack)
        code, output, summary = run_auditor(own_stack)

        assert answered(outcomes), outcomes
        assert outcomes["200"] > 0 and outcomes["4xx:INSUFFICIENT_STOCK"] > 0, outcomes
        assert (code, summary["violations"]) == (0, "0"), output
        assert summary["entities"] == "item 10, order 100, user 50", output
        assert summary["events read"] == str(len(events)), output
        assert counted(events) == work.expected
        assert last_balances(events) == work.balances()
        decided = Counter(change for _, change in work.expected.elements())
        assert summary["checkouts committed"] == str(decided["checkout_committed"]), output
        assert summary["checkouts aborted"] == str(decided["checkout_aborted"]), output


def test_events_made_while_the_broker_is_down_arrive_once_it_is_back(own_stack: Stack):
    with client(own_stack) as http:
        work = Workload(Shop(http), random.Random(11))
        work.create(items=10, stock=15, users=30, orders=90, others=9)
        first, second, third = (work.requests[i::3] for i in range(3))
        outcomes = work.send(first)
        wait_settled(own_stack)
        before = read_audit(own_stack)  # the broker keeps events in memory only

        failures = {service: relay_failures(own_stack, service) for service in SERVICES}
        own_stack.stop_process("kafka")
        outcomes += work.send(second)
        backlog = outbox_sizes(own_stack)
        # Kafka stays down until every relay has dropped its producer (a batch expires after
        # its 10 s request timeout; the second failure is the new producer's). The broker
        # comes back EMPTY, and Tansu (unlike Kafka) stores a batch that a producer still
        # holds from before into a topic it never created and never serves.
        wait_until(
            lambda: all(relay_failures(own_stack, s) >= failures[s] + 2 for s in SERVICES),
            "every relay has failed twice",
        )
        # The broker comes back while checkouts go on.
        sending = threading.Thread(target=lambda: outcomes.update(work.send(third, 10)))
        sending.start()
        own_stack.start_broker()
        sending.join()
        wait_settled(own_stack)
        union = distinct(before + read_audit(own_stack))

        assert answered(outcomes), outcomes
        assert all(backlog.values()), f"changes wait in the outboxes while Kafka is down: {backlog}"
        assert counted(union) == work.expected
        _, violations = audit(union)
        assert violations == [], "\n".join(v.describe() for v in violations)
        assert last_balances(union) == work.balances()


def test_a_relay_crash_after_publishing_sends_events_twice_but_loses_none(own_stack: Stack):
    with client(own_stack) as http:
        shop = Shop(http)
        # Kafka down: the changes below wait in stock's outbox, then leave in one batch.
        own_stack.stop_process("kafka")
        own_stack.restart_service("stock", extra_env={"SHOP_FAULT_POINT": "relay.after_publish"})
        a, b = shop.item(price=5, stock=10), shop.item(price=7, stock=4)
        ok(http.post(f"/stock/subtract/{a}/3"))
        ok(http.post(f"/stock/add/{b}/2"))
        assert outbox_sizes(own_stack)["stock"] == 6

        own_stack.start_broker()
        assert own_stack.processes["stock"].wait(timeout=60) == EXIT_CODE
        own_stack.restart_service("stock")
        wait_settled(own_stack)
        events = read_audit(own_stack)
        code, output, summary = run_auditor(own_stack)

        ids = [e.event_id for e in events]
        assert len(ids) > len(set(ids)), "some event was delivered twice"
        assert counted(events) == {
            (f"item/{a}", "item_created"): 1,
            (f"item/{a}", "stock_added"): 1,
            (f"item/{a}", "stock_subtracted"): 1,
            (f"item/{b}", "item_created"): 1,
            (f"item/{b}", "stock_added"): 2,
        }
        assert last_balances(events) == {f"item/{a}": 7, f"item/{b}": 6}
        assert code == 0, output
        assert summary["duplicates dropped"] == str(len(ids) - len(set(ids))), output
        assert summary["violations"] == "0", output


def test_the_auditor_names_an_event_reporting_a_wrong_balance(own_stack: Stack):
    with client(own_stack) as http:
        shop = Shop(http)
        item = shop.item(price=5, stock=10)
        ok(http.post(f"/stock/subtract/{item}/4"))
        wait_settled(own_stack)
        assert run_auditor(own_stack)[0] == 0

        key = f"item/{item}"
        wrong = events_pb2.AuditEvent(
            event_id=str(uuid.uuid4()),
            entity_key=key,
            service="stock",
            stock_subtracted=events_pb2.StockSubtracted(amount=1, stock=50),
        )
        produce(own_stack, key, wrong)
        code, output, summary = run_auditor(own_stack)

        assert code == 1, output
        assert summary["violations"] == "1", output
        assert wrong.event_id in output
        assert "reports stock 50, expected 6 - 1 = 5" in output


@pytest.fixture
def retry_stack(tmp_path: pathlib.Path) -> Iterator[Stack]:
    """Short timeouts, but store-driven recovery (and the participants' own timeout) slowed
    right down, so that only the retry worker can finish an undelivered decision in time."""
    env = {**FAST_RECOVERY, "RECOVERY_INTERVAL_S": "60", "RESERVATION_TIMEOUT_S": "60"}
    stack = Stack(StackConfig.ephemeral(tmp_path, env))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_a_commit_that_could_not_be_delivered_is_redriven_from_the_retry_topic(
    retry_stack: Stack,
):
    with client(retry_stack) as http:
        shop = Shop(http)
        item, user = shop.item(price=4, stock=5), shop.user(credit=20)
        order = shop.order(user, [(item, 2)])
        retry_stack.restart_service("payment", {"SHOP_FAULT_POINT": "commit.before_apply"})

        assert shop.checkout(order).status_code == 200  # decided: commit
        assert retry_stack.processes["payment"].wait(timeout=30) == EXIT_CODE
        sql = "SELECT txn_id, finished FROM checkouts WHERE order_id = ?"
        ((txn, finished),) = query(retry_stack, "order", sql, (order,))
        assert not finished
        # Payment stays down until the order service has given up on its commit (the channel
        # retries UNAVAILABLE for a while first) and so handed the transaction over.
        order_log = retry_stack.config.run_dir / "order.log"
        given_up = f"decision for {txn} not delivered to payment"
        wait_until(lambda: given_up in order_log.read_text(), "the commit given up")
        retry_stack.restart_service("payment")

        wait_until(lambda: query(retry_stack, "order", sql, (order,))[0][1], "retry done")
        sql = "SELECT state FROM reservations WHERE txn_id = ?"
        assert query(retry_stack, "payment", sql, (txn,)) == [("COMMITTED",)]
        assert txn in {retry.transaction_id for retry in read_retries(retry_stack)}
        assert (shop.credit(user), shop.stock(item), shop.paid(order)) == (12, 3, True)
