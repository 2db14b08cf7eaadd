"""The auditor's checks on hand-made audit streams, encoded as the services encode them."""

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from aiokafka import ConsumerRecord

from shop.events.v1 import events_pb2
from shopmesh.events.audit import Event
from shopmesh.events.outbox import encode_audit
from shoptools.audit_stores import store_differences
from shoptools.auditor import Audit, audit, decode, kafka_servers, store_violations
from shoptools.auditor import main as auditor_main
from shoptools.stack_file import read_stack_file

ITEM, USER, ORDER = "item/i1", "user/u1", "order/o1"


def event(key: str, change: str, txn: str = "", **fields) -> events_pb2.AuditEvent:
    row = encode_audit(Event(key, change, fields, txn), service=key.partition("/")[0])
    return events_pb2.AuditEvent.FromString(row.payload)


def paid_checkout(txn: str = "t1") -> list[events_pb2.AuditEvent]:
    """Item i1 (10 in stock) and user u1 (credit 50); order o1 buys 3 units for 30."""
    return [
        event(ITEM, "item_created", price=10, stock=0),
        event(ITEM, "stock_added", amount=10, stock=10),
        event(USER, "user_created", credit=0),
        event(USER, "funds_added", amount=50, credit=50),
        event(ORDER, "checkout_started", txn, user_id="u1", total_cost=30),
        event(ITEM, "stock_reserved", txn, quantity=3, stock=7),
        event(USER, "credit_reserved", txn, amount=30, credit=20, order_id="o1"),
        event(ORDER, "checkout_committed", txn, user_id="u1", total_cost=30, units=3),
        event(ITEM, "stock_committed", txn, quantity=3),
        event(USER, "credit_committed", txn, amount=30),
    ]


def aborted_checkout(txn: str = "t2") -> list[events_pb2.AuditEvent]:
    """After paid_checkout: a second order of o1's user is refused and given back."""
    return [
        event(ITEM, "stock_reserved", txn, quantity=2, stock=5),
        event(USER, "credit_reserved", txn, amount=20, credit=0, order_id="o2"),
        event("order/o2", "checkout_aborted", txn, reason="CHECKOUT_TIMED_OUT"),
        event(ITEM, "stock_cancelled", txn, quantity=2, stock=7),
        event(USER, "credit_cancelled", txn, amount=20, credit=20),
    ]


def test_a_consistent_history_passes():
    direct = [
        event(ITEM, "stock_subtracted", amount=7, stock=0),
        event(USER, "credit_paid", amount=5, credit=15, order_id="o9"),
        event(USER, "credit_refunded", amount=5, credit=20, order_id="o9"),
    ]
    checker, violations = audit(paid_checkout() + aborted_checkout() + direct)

    assert violations == []
    summary = checker.summary(violations)
    assert "entities: item 1, order 2, user 1" in summary
    assert "checkouts committed: 1" in summary and "checkouts aborted: 1" in summary


def test_a_stream_starting_late_takes_the_first_balance_as_its_baseline():
    late = [
        event(ITEM, "stock_subtracted", amount=1, stock=41),
        event(ITEM, "stock_added", amount=2, stock=43),
    ]
    assert audit(late)[1] == []


def test_a_wrong_balance_is_a_violation_naming_the_event():
    history = paid_checkout()
    history[5] = event(ITEM, "stock_reserved", "t1", quantity=3, stock=8)

    (violation,) = audit(history)[1]

    assert violation.rule == "balance"
    assert violation.events[-1].event_id == history[5].event_id
    assert history[5].event_id in violation.describe()
    assert "reports stock 8, expected 10 - 3 = 7" in violation.describe()


def test_after_a_wrong_credit_the_reported_one_is_the_baseline():
    history = paid_checkout()
    history[3] = event(USER, "funds_added", amount=50, credit=60)

    violations = audit(history)[1]

    # The next change is checked against 60: it breaks too, and names the wrong event.
    assert [v.rule for v in violations] == ["balance", "balance"]
    assert [v.events[-1] for v in violations] == [history[3], history[6]]
    assert violations[1].events[0] == history[3]


def test_a_committed_checkout_without_credit_commit_is_a_violation():
    history = [e for e in paid_checkout() if e.WhichOneof("change") != "credit_committed"]

    violations = audit(history)[1]

    messages = [v.message for v in violations]
    assert "t1 committed, credit not" in messages
    assert any(v.rule == "held" and USER in v.message for v in violations)


def test_a_committed_checkout_without_stock_commit_is_a_violation():
    history = [e for e in paid_checkout() if e.WhichOneof("change") != "stock_committed"]

    violations = audit(history)[1]

    assert "t1 committed, stock not" in [v.message for v in violations]
    decided = next(e for e in history if e.WhichOneof("change") == "checkout_committed")
    assert decided.event_id in "\n".join(v.describe() for v in violations)


def test_a_committed_checkout_of_no_units_needs_no_stock_commit():
    history = [
        event(USER, "user_created", credit=0),
        event(USER, "credit_reserved", "t3", amount=0, credit=0, order_id="o3"),
        event("order/o3", "checkout_committed", "t3", user_id="u1", total_cost=0, units=0),
        event(USER, "credit_committed", "t3", amount=0),
    ]
    assert audit(history)[1] == []


def test_a_reservation_never_ended_is_a_violation():
    history = paid_checkout() + aborted_checkout()
    credit_reserved = history[11]
    del history[-1]  # the credit the aborted checkout held is never given back

    (violation,) = audit(history)[1]

    assert violation.rule == "held"
    assert violation.events == (credit_reserved,)
    assert violation.message == "user/u1 still holds for t2: never committed nor cancelled"


def test_duplicates_are_dropped_and_cause_no_violation():
    history = paid_checkout()
    again = [events_pb2.AuditEvent.FromString(e.SerializeToString()) for e in history[1:6]]

    checker = Audit()
    fresh = [checker.feed(e) for e in history[:6] + again + history[6:]]

    assert checker.finish() == []
    assert fresh.count(False) == 5
    assert (checker.read, checker.duplicates) == (15, 5)
    assert "duplicates dropped: 5" in checker.summary([])


def test_an_aborted_checkout_with_a_commit_is_a_violation():
    history = paid_checkout() + aborted_checkout()
    history[-1] = event(USER, "credit_committed", "t2", amount=20)

    (violation,) = audit(history)[1]

    assert violation.rule == "checkout"
    assert violation.message == "t2 aborted, yet committed by a participant"
    assert [e.WhichOneof("change") for e in violation.events] == [
        "checkout_aborted",
        "credit_committed",
    ]


def test_records_that_are_no_audit_event_are_violations():
    good = paid_checkout()[0]
    records = [
        ConsumerRecord("shop.audit", 0, 0, 0, 0, b"k", good.SerializeToString(), None, 0, 0, ()),
        ConsumerRecord("shop.audit", 0, 1, 0, 0, b"k", b"\xff\xff", None, 0, 0, ()),
        ConsumerRecord("shop.audit", 0, 2, 0, 0, b"k", None, None, 0, 0, ()),
    ]

    events, bad = decode(records)

    assert events == [good]
    assert [v.message.split(":")[0] for v in bad] == [
        "partition 0 offset 1",
        "partition 0 offset 2",
    ]


# --- amounts, one payment per order, decisions, resets --------------------------------------


def _replace(history: list, change: str, replacement) -> list:
    return [replacement if e.WhichOneof("change") == change else e for e in history]


def test_credit_reserved_other_than_the_checkout_total_is_a_violation():
    history = _replace(
        paid_checkout(),
        "credit_reserved",
        event(USER, "credit_reserved", "t1", amount=20, credit=30, order_id="o1"),
    )
    history = _replace(
        history, "credit_committed", event(USER, "credit_committed", "t1", amount=20)
    )

    (violation,) = audit(history)[1]

    assert violation.rule == "amounts"
    assert "t1 committed for 30, 3 units by user u1; credit reserved 20" in violation.message


def test_stock_reserved_other_than_the_checkout_units_is_a_violation():
    history = _replace(
        paid_checkout(), "stock_reserved", event(ITEM, "stock_reserved", "t1", quantity=2, stock=8)
    )

    (violation,) = audit(history)[1]

    assert violation.rule == "amounts"
    assert violation.message.endswith("stock reserved 2 units")


def test_a_checkout_committed_for_another_total_than_it_started_with_is_a_violation():
    history = _replace(
        paid_checkout(),
        "checkout_started",
        event(ORDER, "checkout_started", "t1", user_id="u1", total_cost=25),
    )

    (violation,) = audit(history)[1]

    assert (violation.rule, violation.message.split("; ")[1]) == ("amounts", "started for 25")


def test_an_order_paid_by_two_checkouts_is_a_violation():
    second = [
        event(ITEM, "stock_reserved", "t9", quantity=3, stock=4),
        event(USER, "credit_reserved", "t9", amount=20, credit=0, order_id="o1"),
        event(ORDER, "checkout_committed", "t9", user_id="u1", total_cost=20, units=3),
        event(ITEM, "stock_committed", "t9", quantity=3),
        event(USER, "credit_committed", "t9", amount=20),
    ]

    (violation,) = audit(paid_checkout() + second)[1]

    assert violation.message == "order/o1 paid by 2 checkouts"
    assert [e.transaction_id for e in violation.events] == ["t1", "t9"]


def test_a_started_checkout_never_decided_is_a_violation():
    history = paid_checkout() + [
        event("order/o5", "checkout_started", "t5", user_id="u1", total_cost=0)
    ]

    (violation,) = audit(history)[1]

    assert violation.message == "t5 started, never committed nor aborted"


def test_a_checkout_both_committed_and_aborted_is_a_violation():
    history = paid_checkout() + [event(ORDER, "checkout_aborted", "t1", reason="X")]

    violations = audit(history)[1]

    assert "t1 both committed and aborted" in [v.message for v in violations]


def test_a_second_created_event_resets_the_baseline_and_is_reported_as_a_note():
    history = paid_checkout() + [
        event(ITEM, "item_created", price=1, stock=100),
        event(ITEM, "stock_subtracted", amount=1, stock=99),
    ]

    checker, violations = audit(history)

    assert violations == []
    (note,) = checker.notes
    assert (note.rule, note.message) == (
        "reset",
        "item/i1 created again: stock 7 -> 100; its new balance is the baseline",
    )
    assert "resets: 1" in checker.summary(violations)


def test_a_wrong_balance_after_a_reset_is_still_a_violation():
    history = paid_checkout() + [
        event(ITEM, "item_created", price=1, stock=100),
        event(ITEM, "stock_subtracted", amount=1, stock=98),
    ]

    (violation,) = audit(history)[1]

    assert "reports stock 98, expected 100 - 1 = 99" in violation.message


# --- finding the local stack, comparing with the stores --------------------------------------


def test_the_local_stack_file_is_read_from_the_run_dir(tmp_path, monkeypatch):
    info = {"kafka_bootstrap_servers": "127.0.0.1:19092", "rest_url": "http://127.0.0.1:18000"}
    (tmp_path / "stack.json").write_text(json.dumps(info))
    monkeypatch.setenv("SHOP_RUN_DIR", str(tmp_path))

    assert read_stack_file(tmp_path) == info
    assert read_stack_file() == info
    assert read_stack_file(tmp_path / "nothing") is None
    (tmp_path / "stack.json").write_text("{not json")
    assert read_stack_file(tmp_path) is None


def test_kafka_is_the_given_servers_else_the_local_stacks(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_RUN_DIR", str(tmp_path))
    assert kafka_servers("") == ""
    (tmp_path / "stack.json").write_text('{"kafka_bootstrap_servers": "127.0.0.1:19092"}')

    assert kafka_servers("") == "127.0.0.1:19092"
    assert kafka_servers("kafka:9092") == "kafka:9092"


def test_without_kafka_the_auditor_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHOP_RUN_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)

    with pytest.raises(SystemExit):
        auditor_main([])

    assert "make up" in capsys.readouterr().err


@pytest.fixture
def fake_gateway() -> Iterator[str]:
    """A REST gateway on an ephemeral loopback port: item i1 has 7, user u1 has 15."""
    answers = {"/stock/find/i1": {"stock": "7"}, "/payment/find_user/u1": {"credit": "15"}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = answers.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_check_stores_reports_every_balance_the_store_disagrees_with(fake_gateway):
    checker, violations = audit(paid_checkout())  # ends with stock 7, credit 20
    assert violations == []

    found = store_violations(fake_gateway, checker)

    assert [v.message for v in found] == ["user/u1: the stream ends at 20, the store says 15"]
    assert store_differences(fake_gateway, {"item/i2": 1}) == [("item/i2", 1, "HTTP 404")]
