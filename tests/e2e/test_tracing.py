"""Traces, as an operator meets them: with an OTLP collector configured, one checkout through
the gateway is one trace, from Envoy's span through order to stock and payment, each span the
child of the call that caused it; a batched participant call links every checkout it served;
the log lines name the trace; and a checkout that a crash left to recovery is finished in a
span that links the trace it began in."""

import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shopmesh.faults import EXIT_CODE
from shoptools.devstack import Stack, StackConfig, free_ports
from shoptools.traces import CHECKOUT_RPC, TraceReceiver, read_spans, spans_of, timeline

from .checkout_helpers import FAST_RECOVERY, LONG_LEASE
from .helpers import Shop, log_records, ok
from .kafka_helpers import wait_until

pytestmark = pytest.mark.e2e

RESERVE = "/shop.participant.v1.ParticipantService/Reserve"
SETTLE = "/shop.participant.v1.ParticipantService/Settle"
SETTLE_BATCHES = ("settle stock batch", "settle payment batch")


@pytest.fixture
def receiver(tmp_path: pathlib.Path) -> Iterator[TraceReceiver]:
    receiver = TraceReceiver(tmp_path / "traces.jsonl")
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def traced_stack(tmp_path: pathlib.Path, receiver: TraceReceiver) -> Iterator[Stack]:
    """A private stack whose services and gateway send their spans to `receiver`."""
    yield from running_traced(tmp_path, receiver, {})


def running_traced(
    tmp_path: pathlib.Path, receiver: TraceReceiver, env: dict[str, str]
) -> Iterator[Stack]:
    """A private stack with `env`, sending its spans to `receiver`, stopped afterwards."""
    config = StackConfig.ephemeral(tmp_path, {**env, "OTEL_BSP_SCHEDULE_DELAY": "100"})
    config.otlp_collector = receiver.address
    stack = Stack(config)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def traced_shop(traced_stack: Stack) -> Iterator[Shop]:
    with httpx.Client(base_url=traced_stack.config.rest_url, timeout=30) as client:
        yield Shop(client)


def paid_checkout(shop: Shop) -> str:
    """Checks out a new order that can be paid; returns its transaction id."""
    item = shop.create_item(price=3, stock=5)
    order = shop.create_order(shop.create_user(credit=10))
    shop.add_item(order, item, 1)
    return ok(shop.http.post(f"/orders/checkout/{order}"))["transaction_id"]


def whole_trace(receiver: TraceReceiver, trace_id: str) -> list[dict] | None:
    """The trace once every span of it has arrived: both participants' settles included."""
    spans = spans_of(read_spans(receiver.out), trace_id)
    settled = {s["service"] for s in spans if s["name"] == SETTLE and s["kind"] == "SERVER"}
    gateway = any(s["service"] == "gateway" for s in spans)
    return spans if gateway and settled == {"stock", "payment"} else None


def parent_of(span: dict, spans: list[dict]) -> dict:
    parents = [s for s in spans if s["span_id"] == span["parent_span_id"]]
    assert parents, f"the parent of {span['service']}: {span['name']} is not in the trace"
    return parents[0]


def ancestors(span: dict, spans: list[dict]) -> list[dict]:
    chain = []
    while span["parent_span_id"]:
        span = parent_of(span, spans)
        chain.append(span)
    return chain


def below(span: dict, top: dict, spans: list[dict]) -> bool:
    """Whether `top` is an ancestor of `span` among the spans arrived so far (an open parent,
    not exported yet, ends the walk)."""
    by_id = {s["span_id"]: s for s in spans if s["trace_id"] == span["trace_id"]}
    while span["parent_span_id"] in by_id:
        span = by_id[span["parent_span_id"]]
        if span is top or span["span_id"] == top["span_id"]:
            return True
    return False


def trace_of_txn(stack: Stack, txn_id: str) -> str:
    """The trace id order's log line about the checkout names."""
    lines = [r for r in log_records(stack, "order") if r.get("txn_id") == txn_id]
    traced = [r["trace_id"] for r in lines if r.get("trace_id")]
    assert traced, f"no log line of {txn_id} names a trace: {lines}"
    return traced[0]


def test_one_checkout_is_one_trace_from_the_gateway_to_both_participants(
    traced_stack: Stack, traced_shop: Shop, receiver: TraceReceiver
):
    txn_id = paid_checkout(traced_shop)
    trace_id = trace_of_txn(traced_stack, txn_id)
    spans = wait_until(lambda: whole_trace(receiver, trace_id), "the whole trace", 60)
    print("\n".join(timeline(spans)))

    assert {s["service"] for s in spans} >= {"gateway", "order", "stock", "payment"}
    (checkout,) = [s for s in spans if s["name"] == CHECKOUT_RPC and s["kind"] == "SERVER"]
    # The gateway's span is the root, and order's Checkout its child.
    gateway = parent_of(checkout, spans)
    assert gateway["service"] == "gateway" and not gateway["parent_span_id"]
    for peer in ("stock", "payment"):
        for rpc in (RESERVE, SETTLE):
            (served,) = [
                s
                for s in spans
                if s["service"] == peer and s["name"] == rpc and s["kind"] == "SERVER"
            ]
            # The participant's span is the child of order's call to it, inside the checkout.
            caller = parent_of(served, spans)
            assert (caller["service"], caller["name"], caller["kind"]) == ("order", rpc, "CLIENT")
            assert checkout in ancestors(served, spans)
    batches = [s for s in spans if s["name"].endswith(" batch")]
    assert batches and all(
        [link["span_id"] for link in b["links"]] == [checkout["span_id"]] for b in batches
    )


def test_a_batched_call_links_every_checkout_it_served(
    traced_stack: Stack, traced_shop: Shop, receiver: TraceReceiver
):
    def several_at_once() -> list[str]:
        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(lambda _: paid_checkout(traced_shop), range(32)))

    txn_ids = several_at_once()
    traces = {trace_of_txn(traced_stack, txn_id) for txn_id in txn_ids}
    assert len(traces) == len(txn_ids)  # one trace per checkout

    def shared_batch() -> dict | None:
        # Settle batches linger for company: checkouts at once share one (poll until sent).
        spans = read_spans(receiver.out)
        shared = [s for s in spans if s["name"] in SETTLE_BATCHES and len(s["links"]) > 1]
        return shared[0] if shared else None

    batch = wait_until(shared_batch, "a settle batch of several checkouts", 60)
    spans = read_spans(receiver.out)
    checkouts = {
        s["span_id"]: s for s in spans if s["name"] == CHECKOUT_RPC and s["kind"] == "SERVER"
    }
    for link in batch["links"]:
        # Each link is a checkout's own span, in that checkout's trace.
        linked = checkouts.get(link["span_id"])
        assert linked is not None and linked["trace_id"] == link["trace_id"]
        assert link["trace_id"] in traces
    # The batch's span lives in the first checkout's trace, and its Settle calls below it.
    assert batch["trace_id"] == batch["links"][0]["trace_id"]
    calls = [s for s in spans if s["parent_span_id"] == batch["span_id"]]
    assert {c["name"] for c in calls} == {SETTLE}


def test_the_stacks_own_receiver_and_show_print_the_last_checkout(tmp_path: pathlib.Path):
    # What `make up` with SHOP_TRACING=1 does: the stack starts shoptools.traces itself.
    config = StackConfig.ephemeral(tmp_path, {"OTEL_BSP_SCHEDULE_DELAY": "100"})
    config.otlp_collector = f"127.0.0.1:{free_ports(1)[0]}"
    config.trace_receiver = True
    stack = Stack(config)
    try:
        stack.start()
        with httpx.Client(base_url=config.rest_url, timeout=30) as client:
            paid_checkout(Shop(client))
        traces = config.run_dir / "traces.jsonl"

        def shown() -> str:
            answer = subprocess.run(
                [sys.executable, "-m", "shoptools.traces", "show", "--last-checkout"],
                env={**os.environ, "SHOP_RUN_DIR": str(config.run_dir)},
                capture_output=True,
                text=True,
            )
            # Whole once the gateway's span (sent every few seconds) and both settles are in.
            whole = "gateway: " in answer.stdout and answer.stdout.count("Settle [SERVER]") == 2
            return answer.stdout if traces.exists() and whole else ""

        printed = wait_until(shown, "show --last-checkout", 60)
    finally:
        stack.stop()
    lines = printed.splitlines()
    assert lines[0].startswith("trace ")
    assert "gateway: " in lines[1] and "[SERVER]" in lines[1]
    assert any(f"order: {CHECKOUT_RPC} [SERVER]" in line for line in lines)


@pytest.fixture
def traced_crash_stack(tmp_path: pathlib.Path, receiver: TraceReceiver) -> Iterator[Stack]:
    """A traced stack with short timeouts, so that recovery happens within seconds."""
    yield from running_traced(tmp_path, receiver, FAST_RECOVERY)


def test_a_recovered_checkouts_recovery_span_links_to_the_trace_it_began_in(
    traced_crash_stack: Stack, receiver: TraceReceiver
):
    with httpx.Client(base_url=traced_crash_stack.config.rest_url, timeout=30) as client:
        shop = Shop(client)
        item = shop.create_item(price=3, stock=5)
        order = shop.create_order(shop.create_user(credit=10))
        shop.add_item(order, item, 1)
        # The order service dies right after logging COMMIT, before sending it: only recovery,
        # in the next order process, can finish the checkout. The client names the trace.
        traced_crash_stack.restart_service(
            "order", extra_env={"SHOP_FAULT_POINT": "checkout.after_decision"}
        )
        trace_id = "5ca1ab1e" * 4
        traceparent = f"00-{trace_id}-{'b' * 16}-01"
        answer = client.post(f"/orders/checkout/{order}", headers={"traceparent": traceparent})
        assert answer.status_code >= 500
        assert traced_crash_stack.processes["order"].wait(timeout=30) == EXIT_CODE
        traced_crash_stack.restart_service("order")
        wait_until(lambda: shop.order(order)["paid"], "the order paid", 30)

    def recovery() -> list[dict] | None:
        """The recovery span's trace, once its settles on both participants are in."""
        spans = read_spans(receiver.out)
        recovering = [s for s in spans if s["name"] == "recover checkout"]
        if not recovering:
            return None
        settled = spans_of(spans, recovering[0]["trace_id"])
        served = {s["service"] for s in settled if s["name"] == SETTLE and s["kind"] == "SERVER"}
        return settled if served == {"stock", "payment"} else None

    spans = wait_until(recovery, "the recovery's trace with both settles", 60)
    print("\n".join(timeline(spans)))
    (recovered,) = [s for s in spans if s["name"] == "recover checkout"]
    # A trace of its own, in the restarted order process, linking the checkout's trace.
    assert recovered["service"] == "order" and not recovered["parent_span_id"]
    assert recovered["trace_id"] != trace_id
    assert [link["trace_id"] for link in recovered["links"]] == [trace_id]
    assert recovered["attributes"]["shop.decision"] == "COMMIT"
    # Its settles (the commit resent) run below it, on both participants.
    for peer in ("stock", "payment"):
        (served,) = [
            s
            for s in spans
            if s["service"] == peer and s["name"] == SETTLE and s["kind"] == "SERVER"
        ]
        assert recovered in ancestors(served, spans)

    # The linked trace is the checkout's: the gateway's span and both reserves are in it.
    def checkouts_trace() -> list[dict] | None:
        original = spans_of(read_spans(receiver.out), trace_id)
        gateway = any(s["service"] == "gateway" for s in original)
        reserved = {
            s["service"] for s in original if s["name"] == RESERVE and s["kind"] == "SERVER"
        }
        return original if gateway and reserved == {"stock", "payment"} else None

    wait_until(checkouts_trace, "the checkout's trace: gateway and both reserves", 30)


def test_a_commit_a_crashed_participant_missed_is_resent_in_a_span_linking_its_checkout(
    traced_crash_stack: Stack, receiver: TraceReceiver
):
    with httpx.Client(base_url=traced_crash_stack.config.rest_url, timeout=30) as client:
        shop = Shop(client)
        # Stock dies on the commit: the checkout is answered 200, its commit to stock is not
        # delivered and is handed over (a retry event through order's outbox), then resent.
        traced_crash_stack.restart_service(
            "stock", extra_env={"SHOP_FAULT_POINT": "commit.before_apply"}
        )
        txn_id = paid_checkout(shop)
        assert traced_crash_stack.processes["stock"].wait(timeout=30) == EXIT_CODE

        def undelivered() -> bool:
            # Stock comes back only once order gave up on the call (its retries end there).
            missed = f"decision for {txn_id} not delivered to stock"
            return any(missed in r["message"] for r in log_records(traced_crash_stack, "order"))

        wait_until(undelivered, "order to give the commit to stock up", 30)
        traced_crash_stack.restart_service("stock")
    trace_id = trace_of_txn(traced_crash_stack, txn_id)

    def resent() -> dict | None:
        spans = read_spans(receiver.out)
        linking = [
            s
            for s in spans
            if s["name"] in ("recover checkout", "redrive checkout")
            and trace_id in [link["trace_id"] for link in s["links"]]
            and any(
                c["service"] == "stock" and c["name"] == SETTLE and c["kind"] == "SERVER"
                for c in spans_of(spans, s["trace_id"])
                if below(c, s, spans)
            )
        ]
        return linking[0] if linking else None

    span = wait_until(resent, "a resent commit's span linking the checkout", 60)
    assert span["service"] == "order" and span["attributes"]["shop.txn_id"] == txn_id
    # The link is the checkout's own span: order's Checkout, in the checkout's trace.
    spans = read_spans(receiver.out)
    (checkout,) = [
        s for s in spans_of(spans, trace_id) if s["name"] == CHECKOUT_RPC and s["kind"] == "SERVER"
    ]
    assert [link["span_id"] for link in span["links"]] == [checkout["span_id"]]
    # The hand-over went through order's outbox and the retry topic: both left spans.
    wait_until(
        lambda: (
            {"outbox relay", "checkout retry"}
            <= {s["name"] for s in read_spans(receiver.out) if s["service"] == "order"}
        ),
        "order's relay and retry worker spans",
        60,
    )


@pytest.fixture
def traced_long_lease_stack(tmp_path: pathlib.Path, receiver: TraceReceiver) -> Iterator[Stack]:
    """A traced stack whose checkout lease outlasts the gateway's timeout (a retry that is
    answered did not wait for it), and whose short lease does too: recovery leaves a dead
    coordinator's checkout to the retry that finds it."""
    yield from running_traced(tmp_path, receiver, {**LONG_LEASE, "CHECKOUT_LIVE_LEASE_S": "30"})


def test_the_retry_that_aborts_a_dead_coordinators_checkout_links_the_trace_it_began_in(
    traced_long_lease_stack: Stack, receiver: TraceReceiver
):
    stack = traced_long_lease_stack
    with httpx.Client(base_url=stack.config.rest_url, timeout=30) as client:
        shop = Shop(client)
        item = shop.create_item(price=3, stock=5)
        user = shop.create_user(credit=10)
        order = shop.create_order(user)
        shop.add_item(order, item, 1)
        # Order dies after both reserves, before deciding: the checkout is left undecided.
        stack.restart_service("order", extra_env={"SHOP_FAULT_POINT": "checkout.before_decision"})
        first = "0bad0bad" * 4
        answer = client.post(
            f"/orders/checkout/{order}", headers={"traceparent": f"00-{first}-{'c' * 16}-01"}
        )
        assert answer.status_code >= 500
        assert stack.processes["order"].wait(timeout=30) == EXIT_CODE
        stack.restart_service("order")
        # The retry finds the dead owner's transaction, aborts it, and checks out afresh.
        retry = "feedf00d" * 4
        answer = client.post(
            f"/orders/checkout/{order}", headers={"traceparent": f"00-{retry}-{'d' * 16}-01"}
        )
        assert answer.status_code == 200, answer.text
        assert (shop.stock(item), shop.credit(user)) == (4, 7)

    def aborted() -> list[dict] | None:
        """The retry's trace, once the abort's cancels on both participants are in."""
        spans = spans_of(read_spans(receiver.out), retry)
        aborting = [s for s in spans if s["name"] == "abort orphaned checkout"]
        served = {
            s["service"]
            for s in spans
            if aborting and s["name"] == SETTLE and s["kind"] == "SERVER"
            if below(s, aborting[0], spans)
        }
        return spans if served == {"stock", "payment"} else None

    spans = wait_until(aborted, "the abort's span with both cancels below it", 60)
    print("\n".join(timeline(spans)))
    (abort,) = [s for s in spans if s["name"] == "abort orphaned checkout"]
    # In the retry's own request, below order's Checkout, linking the trace the checkout began in.
    assert abort["service"] == "order" and abort["attributes"]["shop.decision"] == "ABORT"
    assert parent_of(abort, spans)["name"] == CHECKOUT_RPC
    assert [link["trace_id"] for link in abort["links"]] == [first]
