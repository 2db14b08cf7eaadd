"""A checkout keeps the W3C traceparent of the request that began it, in the coordinator's log,
so that recovery (maybe in another process, after a crash) links its span to that trace: on
every adapter, and in files and databases made before the column existed."""

import shutil
import sqlite3
from functools import partial

import pytest

from order_svc import checkout
from order_svc.checkout import CheckoutTxn, Decision
from order_svc.orders import Line, Order
from order_svc.store import spanner as order_spanner
from order_svc.store import sqlite as order_sqlite
from shopmesh.store.spanner import client_for
from shopmesh.store.spanner_schema import migrate

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def begin(repo, txn_id: str, trace_parent: str):
    repo.put(Order("o-" + txn_id, "u1", lines=[Line("a", 2, 10)]))
    return checkout.begin(
        repo,
        "o-" + txn_id,
        txn_id,
        now=1.0,
        timeout_s=5.0,
        owner="me",
        lease_s=10.0,
        trace_parent=trace_parent,
    )


async def test_a_checkout_keeps_its_traceparent_through_decision_and_reopening(
    open_store, tmp_path
):
    path = tmp_path / "order.db"
    store = await open_store(order_sqlite, path)
    await store.transact(partial(begin, txn_id="t1", trace_parent=TRACEPARENT))
    await store.transact(partial(begin, txn_id="t2", trace_parent=""))
    await store.transact(partial(checkout.decide, txn_id="t1", decision=Decision.COMMIT))
    await store.close()

    reopened = await open_store(order_sqlite, path)
    traced, untraced = await reopened.read(lambda repo: (repo.get_txn("t1"), repo.get_txn("t2")))
    assert (traced.trace_parent, traced.decision) == (TRACEPARENT, Decision.COMMIT)
    assert untraced.trace_parent == ""


# The order file as the schema before traceparents left it.
OLD_CHECKOUTS = """
CREATE TABLE checkouts (txn_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, user_id TEXT NOT NULL,
    lines TEXT NOT NULL, total INTEGER NOT NULL, deadline REAL NOT NULL, decision TEXT,
    refusal TEXT, stock_done INTEGER NOT NULL, payment_done INTEGER NOT NULL,
    lease_owner TEXT NOT NULL, lease_until REAL NOT NULL, finished INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO checkouts VALUES ('old', 'o', 'u', '{"a": 1}', 3, 9.0, 'COMMIT', NULL, 1, 0, 'x',
    2.0, 0);
"""


async def test_an_order_file_of_the_previous_schema_opens_and_keeps_its_checkouts(tmp_path):
    path = tmp_path / "order.db"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_CHECKOUTS)
    conn.close()
    store = order_sqlite.open_sqlite_store(path, "NORMAL")
    await store.open()
    try:
        old = await store.read(lambda repo: repo.get_txn("old"))
        assert old == CheckoutTxn(
            "old", "o", "u", {"a": 1}, 3, 9.0, Decision.COMMIT, None, True, False, "x", 2.0
        )
        assert old.trace_parent == ""
        # New checkouts in that file keep theirs.
        await store.transact(partial(begin, txn_id="new", trace_parent=TRACEPARENT))
        new = await store.read(lambda repo: repo.get_txn("new"))
        assert new.trace_parent == TRACEPARENT
    finally:
        await store.close()


async def test_a_spanner_database_of_the_previous_schema_gets_the_column(
    spanner_emulator, tmp_path
):
    # Only the DDL files before the traceparent, as a database made by the previous version.
    previous = tmp_path / "ddl"
    previous.mkdir()
    for ddl in sorted(order_spanner.DDL_DIR.glob("*.sql")):
        if "trace_parent" not in ddl.name:
            shutil.copy(ddl, previous / ddl.name)
    settings = spanner_emulator.settings("order", spanner_emulator.new_prefix())
    migrate(previous, settings)
    database = client_for(settings).instance(settings.instance).database(settings.database)
    database.run_in_transaction(
        lambda txn: txn.insert(
            "Checkouts",
            ("TxnId", "OrderId", "UserId", "Lines", "Total", "Deadline", "StockDone")
            + ("PaymentDone", "LeaseOwner", "LeaseUntil", "UnfinishedLeaseUntil"),
            [("old", "o", "u", '{"a": 1}', 3, 9.0, False, False, "x", 2.0, 2.0)],
        )
    )

    store = order_spanner.open_spanner_store(settings)  # applies what is new, as a service does
    await store.open()
    try:
        old = await store.read(lambda repo: repo.get_txn("old"))
        assert (old.txn_id, old.lines, old.trace_parent) == ("old", {"a": 1}, "")
        await store.transact(partial(begin, txn_id="new", trace_parent=TRACEPARENT))
        assert (await store.read(lambda repo: repo.get_txn("new"))).trace_parent == TRACEPARENT
    finally:
        await store.close()


@pytest.mark.parametrize("sampled", [True, False])
def test_the_traceparent_kept_is_that_of_a_sampled_span_only(sampled):
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from shopmesh.telemetry import tracing

    context = SpanContext(
        0x4BF92F3577B34DA6A3CE929D0E0E4736,
        0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
    )
    assert tracing.traceparent() == ""  # tracing off: nothing, whatever the context
    tracing._TRACER = trace.get_tracer("test")
    try:
        with trace.use_span(NonRecordingSpan(context)):
            assert tracing.traceparent() == (TRACEPARENT if sampled else "")
    finally:
        tracing._TRACER = None


def test_an_audit_event_names_the_trace_beside_the_request():
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from shop.events.v1 import events_pb2
    from shopmesh.events.audit import Event
    from shopmesh.events.outbox import encode_audit
    from shopmesh.telemetry import request_context, tracing

    event = Event("item/a", "stock_added", {"amount": 1, "stock": 1})
    context = SpanContext(
        0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False, TraceFlags(1)
    )

    def encoded() -> events_pb2.AuditEvent:
        return events_pb2.AuditEvent.FromString(encode_audit(event, "stock").payload)

    token = request_context.begin("req-1")
    try:
        with trace.use_span(NonRecordingSpan(context)):
            assert (encoded().request_id, encoded().trace_id) == ("req-1", "")  # tracing off
            tracing._TRACER = trace.get_tracer("test")
            try:
                assert (encoded().request_id, encoded().trace_id) == (
                    "req-1",
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                )
            finally:
                tracing._TRACER = None
    finally:
        request_context.end(token)
