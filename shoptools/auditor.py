"""The auditor: reads the audit stream from the beginning and checks that it adds up.

    python -m shoptools.auditor [--bootstrap-servers HOST:PORT] [--topic T] [--timeout-s S]
                               [--check-stores [REST_URL]]

Kafka is --bootstrap-servers, else KAFKA_BOOTSTRAP_SERVERS, else the local stack's broker
(`make up` writes it to $SHOP_RUN_DIR/stack.json, ./run by default).

It reads every partition (manual assignment, no consumer group) up to the end offsets taken at
start, drops repeated events (same event_id: delivery is at least once) and checks:

- per item and per user, in stream order, that every reported balance (stock, credit) is the
  previous balance moved by the change; an entity whose first event is not a *_created one
  takes that event's balance as its baseline (the stream may start later);
- that every committed checkout has a credit commit, and a stock commit when it took units,
  and that no aborted checkout has any commit;
- that every reservation (stock per item, credit per user) ended: committed or cancelled;
- amounts: a committed checkout's total and user are the ones it started with, the credit
  reserved for its transaction is its total and from its user, and the stock reserved for
  it (all items) is its units (where the stream holds its reservations);
- that no order is paid by two checkouts, and that every started checkout was decided, one
  way only.

A *_created event for an entity the stream already has (batch_init overwrites items, users
and orders "0".."n-1") is a legitimate reset: its balance becomes the new baseline. It is not
a violation, but it is never silent either: each is printed as a [reset] note with the balance
before and after, and counted ("resets: N"), so that a reset cannot hide a wrong balance from
someone reading the report.

--check-stores also compares every item's and user's last balance in the stream with what
its store answers through the REST gateway (GET /stock/find/{id}, /payment/find_user/{id}).

Prints a summary, every violation with its events, then the notes; exits 1 on a violation, 2
when the stream could not be read, 0 otherwise. `Audit` is pure (fed decoded events); the
Kafka part is `read_records`.
"""

import argparse
import asyncio
import dataclasses
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from google.protobuf.message import DecodeError

from shop.events.v1 import events_pb2
from shopmesh.events.kafka import KafkaSettings
from shoptools.audit_stores import store_differences
from shoptools.stack_file import read_stack_file

AuditEvent = events_pb2.AuditEvent

# How a change moves its entity's balance: (balance field, delta field, sign). A None delta
# field sets the balance (a *_created event). Changes not listed leave the balance alone.
MOVES = {
    "item_created": ("stock", None, 0),
    "stock_added": ("stock", "amount", 1),
    "stock_subtracted": ("stock", "amount", -1),
    "stock_reserved": ("stock", "quantity", -1),
    "stock_cancelled": ("stock", "quantity", 1),
    "user_created": ("credit", None, 0),
    "funds_added": ("credit", "amount", 1),
    "credit_paid": ("credit", "amount", -1),
    "credit_refunded": ("credit", "amount", 1),
    "credit_reserved": ("credit", "amount", -1),
    "credit_cancelled": ("credit", "amount", 1),
}
RESERVED = {"stock_reserved", "credit_reserved"}
CREATED = {"item_created", "user_created", "order_created"}
ENDED = {"stock_committed", "stock_cancelled", "credit_committed", "credit_cancelled"}


def change_of(event: AuditEvent) -> str:
    return event.WhichOneof("change") or ""


def fields_of(event: AuditEvent) -> dict:
    payload = getattr(event, change_of(event), None)
    if payload is None:
        return {}
    return {f.name: getattr(payload, f.name) for f in payload.DESCRIPTOR.fields}


def describe_event(event: AuditEvent) -> str:
    txn = f" txn={event.transaction_id}" if event.transaction_id else ""
    return f"{event.event_id} {event.entity_key} {change_of(event)}{txn} {fields_of(event)}"


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    events: tuple[AuditEvent, ...] = ()

    def describe(self) -> str:
        lines = [f"[{self.rule}] {self.message}"]
        return "\n".join(lines + [f"    {describe_event(e)}" for e in self.events])


class Audit:
    """Feed it decoded events in stream order (per entity: partition order), then `finish`."""

    def __init__(self) -> None:
        self.read = 0
        self.duplicates = 0
        self.entities: set[str] = set()
        self._seen: set[str] = set()
        self._balances: dict[str, tuple[int, AuditEvent]] = {}
        self._violations: list[Violation] = []
        self._checkouts: dict[str, dict[str, AuditEvent]] = defaultdict(dict)
        self._commits: dict[str, list[AuditEvent]] = defaultdict(list)
        self._held: dict[tuple[str, str], AuditEvent] = {}
        self._ended: set[tuple[str, str]] = set()
        self._started: dict[str, AuditEvent] = {}
        self._reserved: dict[str, list[AuditEvent]] = defaultdict(list)
        self._paid: dict[str, dict[str, AuditEvent]] = defaultdict(dict)  # order -> txn -> event
        self._last: dict[str, AuditEvent] = {}  # entity -> its latest event
        # Resets (a *_created event for an entity seen before): reported, not failures.
        self.notes: list[Violation] = []

    def feed(self, event: AuditEvent) -> bool:
        """Take one event; False (and counted) when its event_id was seen already."""
        self.read += 1
        if event.event_id in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(event.event_id)
        self.entities.add(event.entity_key)
        self._note_reset(event)
        self._check_balance(event)
        self._note_transaction(event)
        self._last[event.entity_key] = event
        return True

    def _note_reset(self, event: AuditEvent) -> None:
        """A *_created event for an entity already in the stream: batch_init overwrote it."""
        previous = self._last.get(event.entity_key)
        if change_of(event) not in CREATED or previous is None:
            return
        balance = self._balances.get(event.entity_key)
        field = MOVES.get(change_of(event), (None,))[0]
        moved = f": {field} {balance[0]} -> {fields_of(event)[field]}" if balance else ""
        message = f"{event.entity_key} created again{moved}; its new balance is the baseline"
        self.notes.append(Violation("reset", message, (previous, event)))

    def _check_balance(self, event: AuditEvent) -> None:
        change = change_of(event)
        if change not in MOVES:
            return
        balance_field, delta_field, sign = MOVES[change]
        fields = fields_of(event)
        reported = fields[balance_field]
        previous = self._balances.get(event.entity_key)
        if delta_field is not None and previous is not None:
            expected = previous[0] + sign * fields[delta_field]
            if reported != expected:
                message = (
                    f"{event.entity_key}: {change} reports {balance_field} {reported}, "
                    f"expected {previous[0]} {'+' if sign > 0 else '-'} {fields[delta_field]}"
                    f" = {expected}"
                )
                self._violations.append(Violation("balance", message, (previous[1], event)))
        self._balances[event.entity_key] = (reported, event)

    def _note_transaction(self, event: AuditEvent) -> None:
        change, txn = change_of(event), event.transaction_id
        if change in ("checkout_committed", "checkout_aborted"):
            self._checkouts[change][txn] = event
        if change == "checkout_committed":
            self._paid[event.entity_key][txn] = event
        if change == "checkout_started":
            self._started[txn] = event
        if change in ("stock_committed", "credit_committed"):
            self._commits[txn].append(event)
        if change in RESERVED:
            self._held[(event.entity_key, txn)] = event
            self._reserved[txn].append(event)
        if change in ENDED:
            self._ended.add((event.entity_key, txn))

    def finish(self) -> list[Violation]:
        """Every violation: balances as fed, then the checks over the whole stream."""
        return [
            *self._violations,
            *self._checkout_violations(),
            *self._held_violations(),
            *self._amount_violations(),
            *self._paid_twice_violations(),
            *self._undecided_violations(),
        ]

    def _checkout_violations(self) -> list[Violation]:
        found = []
        for txn, decided in self._checkouts["checkout_committed"].items():
            commits = self._commits.get(txn, [])
            changes = {change_of(e) for e in commits}
            if "credit_committed" not in changes:
                found.append(Violation("checkout", f"{txn} committed, credit not", (decided,)))
            if decided.checkout_committed.units > 0 and "stock_committed" not in changes:
                found.append(Violation("checkout", f"{txn} committed, stock not", (decided,)))
        for txn, decided in self._checkouts["checkout_aborted"].items():
            if self._commits.get(txn):
                message = f"{txn} aborted, yet committed by a participant"
                found.append(Violation("checkout", message, (decided, *self._commits[txn])))
        return found

    def _held_violations(self) -> list[Violation]:
        return [
            Violation("held", f"{key} still holds for {txn}: never committed nor cancelled", (e,))
            for (key, txn), e in self._held.items()
            if (key, txn) not in self._ended
        ]

    def _amount_violations(self) -> list[Violation]:
        found = []
        for txn, decided in self._checkouts["checkout_committed"].items():
            found.extend(self._amounts_of(txn, decided))
        return found

    def _amounts_of(self, txn: str, decided: AuditEvent) -> list[Violation]:
        """A committed checkout's cost and units against what it started with, reserved and
        spent. Reservations are compared only when the stream has them (it may start late)."""
        paid, problems = decided.checkout_committed, []
        started = self._started.get(txn)
        if started and (started.checkout_started.total_cost, started.checkout_started.user_id) != (
            paid.total_cost,
            paid.user_id,
        ):
            problems.append((f"started for {started.checkout_started.total_cost}", started))
        reserved = self._reserved.get(txn, [])
        credit = [e for e in reserved if change_of(e) == "credit_reserved"]
        if credit and sum(e.credit_reserved.amount for e in credit) != paid.total_cost:
            problems += [(f"credit reserved {e.credit_reserved.amount}", e) for e in credit]
        if any(e.entity_key != f"user/{paid.user_id}" for e in credit):
            problems += [(f"credit reserved from {e.entity_key}", e) for e in credit]
        stock = [e for e in reserved if change_of(e) == "stock_reserved"]
        if reserved and sum(e.stock_reserved.quantity for e in stock) != paid.units:
            units = sum(e.stock_reserved.quantity for e in stock)
            problems.append((f"stock reserved {units} units", *stock[:1]))
        return [
            Violation(
                "amounts",
                f"{txn} committed for {paid.total_cost}, {paid.units} units by user "
                f"{paid.user_id}; {what}",
                (decided, *events),
            )
            for what, *events in problems
        ]

    def _paid_twice_violations(self) -> list[Violation]:
        return [
            Violation("checkout", f"{order} paid by {len(txns)} checkouts", tuple(txns.values()))
            for order, txns in self._paid.items()
            if len(txns) > 1
        ]

    def _undecided_violations(self) -> list[Violation]:
        decided = self._checkouts
        both = set(decided["checkout_committed"]) & set(decided["checkout_aborted"])
        return [
            Violation("checkout", f"{txn} started, never committed nor aborted", (started,))
            for txn, started in self._started.items()
            if txn not in decided["checkout_committed"] and txn not in decided["checkout_aborted"]
        ] + [
            Violation(
                "checkout",
                f"{txn} both committed and aborted",
                (decided["checkout_committed"][txn], decided["checkout_aborted"][txn]),
            )
            for txn in sorted(both)
        ]

    def balances(self) -> dict[str, int]:
        """entity_key -> the balance (stock or credit) its last balance event reported."""
        return {key: balance for key, (balance, _) in self._balances.items()}

    def summary(self, violations: list[Violation]) -> str:
        kinds = Counter(key.partition("/")[0] for key in self.entities)
        return "\n".join(
            [
                f"events read: {self.read}",
                f"duplicates dropped: {self.duplicates}",
                "entities: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"),
                f"checkouts started: {len(self._started)}",
                f"checkouts committed: {len(self._checkouts['checkout_committed'])}",
                f"checkouts aborted: {len(self._checkouts['checkout_aborted'])}",
                f"resets: {len(self.notes)}",
                f"violations: {len(violations)}",
            ]
        )


def audit(events: list[AuditEvent]) -> tuple[Audit, list[Violation]]:
    checker = Audit()
    for event in events:
        checker.feed(event)
    return checker, checker.finish()


# --- reading the topic ---------------------------------------------------------------------


async def read_records(settings: KafkaSettings, topic: str, timeout_s: float) -> list:
    """Every record of `topic` up to (at least) the end offsets taken at start, each partition
    in order."""
    consumer = AIOKafkaConsumer(
        **settings.client_options(), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    # Let aiokafka's no-group task start: stopping before it did raises CancelledError.
    await asyncio.sleep(0)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        return await _drain(consumer, ends, time.monotonic() + timeout_s)
    finally:
        await consumer.stop()


async def _drain(consumer: AIOKafkaConsumer, ends: dict, deadline: float) -> list:
    """Fetch until every partition's position reaches its end offset, keeping whole fetches:
    a record past the end is newer, never wrong (and the local Tansu broker reports as end
    offset its last record batch's first offset + 1, so a filter would drop records)."""
    records: list[ConsumerRecord] = []
    while True:
        pending = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
        if not pending:
            return records
        if time.monotonic() > deadline:
            raise TimeoutError(f"partitions {pending} not read to their end in time")
        batches = await consumer.getmany(*pending, timeout_ms=500)
        for batch in batches.values():
            records.extend(batch)


def decode(records: list) -> tuple[list[AuditEvent], list[Violation]]:
    """The records' events, and a violation per record that is no AuditEvent."""
    events, bad = [], []
    for record in records:
        where = f"partition {record.partition} offset {record.offset}"
        try:
            event = AuditEvent.FromString(record.value or b"")
        except DecodeError as error:
            bad.append(Violation("undecodable", f"{where}: {error}"))
            continue
        if not event.event_id:
            bad.append(Violation("undecodable", f"{where}: no event_id"))
            continue
        events.append(event)
    return events, bad


async def read_audit_events(settings: KafkaSettings, timeout_s: float) -> list[AuditEvent]:
    """The audit topic's events (for tests and tools); undecodable records raise."""
    events, bad = decode(await read_records(settings, settings.audit_topic, timeout_s))
    if bad:
        raise ValueError("; ".join(v.message for v in bad))
    return events


def kafka_servers(given: str, run_dir: str | None = None) -> str:
    """--bootstrap-servers or KAFKA_BOOTSTRAP_SERVERS (`given`), else the local stack's."""
    info = read_stack_file(run_dir) or {}
    return given or str(info.get("kafka_bootstrap_servers") or "")


def store_violations(rest_url: str, checker: Audit) -> list[Violation]:
    return [
        Violation("store", f"{key}: the stream ends at {mine}, the store says {theirs}")
        for key, mine, theirs in store_differences(rest_url, checker.balances())
    ]


def parse_args(argv: list[str], settings: KafkaSettings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shoptools.auditor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", default=settings.bootstrap_servers)
    parser.add_argument("--topic", default=settings.audit_topic)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument(
        "--check-stores",
        nargs="?",
        const="",
        metavar="REST_URL",
        help="also compare every item's and user's last balance with its store, through the "
        "gateway at REST_URL (default: the local stack's). Only on a quiet stack: changes "
        "made after the stream was read show as differences.",
    )
    args = parser.parse_args(argv)
    args.bootstrap_servers = kafka_servers(args.bootstrap_servers)
    if not args.bootstrap_servers:
        parser.error(
            "no Kafka: give --bootstrap-servers, set KAFKA_BOOTSTRAP_SERVERS, or start the "
            "local stack with `make up` (it writes run/stack.json)"
        )
    if args.check_stores == "":
        args.check_stores = (read_stack_file() or {}).get("rest_url") or parser.error(
            "--check-stores: give the gateway's URL (no local stack found)"
        )
    return args


def main(argv: list[str]) -> int:
    settings = KafkaSettings.from_env("auditor")
    args = parse_args(argv, settings)
    settings = dataclasses.replace(
        settings, bootstrap_servers=args.bootstrap_servers, audit_topic=args.topic
    )
    try:
        records = asyncio.run(read_records(settings, args.topic, args.timeout_s))
    except Exception as error:
        print(f"could not read {args.topic}: {error!r}", file=sys.stderr)
        return 2
    events, undecodable = decode(records)
    checker, violations = audit(events)
    violations = undecodable + violations
    if args.check_stores:
        violations += store_violations(args.check_stores, checker)
    print(checker.summary(violations))
    for violation in violations + checker.notes:
        print(violation.describe())
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
