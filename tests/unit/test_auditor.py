"""The auditor's checks on hand-made audit streams, encoded as the services encode them."""

from aiokafka import ConsumerRecord

from shop.events.v1 import events_pb2
from shopmesh.auditor import Audit, audit, decode
from shopmesh.events import Event
from shopmesh.outbox import encode_audit

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
