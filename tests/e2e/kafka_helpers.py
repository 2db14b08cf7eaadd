"""What the Kafka tests share: outbox sizes, reading topics, running the auditor, and a checkout
workload that knows which audit events each of its answers must have caused."""

import asyncio
import dataclasses
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from shop.events.v1 import events_pb2
from shopmesh.events.kafka import KafkaSettings, start_producer
from shoptools.auditor import MOVES, change_of, fields_of, read_audit_events, read_records
from shoptools.devstack import ROOT, SERVICES, Stack

from .checkout_helpers import Shop, outcome, send_all
from .helpers import log_records

# The changes a workload's answers say exactly how many of to expect. Reservations are left
# out: an aborted checkout may or may not have held credit before it gave it back.
COUNTED = {
    "item_created",
    "stock_added",
    "stock_subtracted",
    "stock_committed",
    "user_created",
    "funds_added",
    "credit_committed",
    "order_created",
    "order_item_added",
    "checkout_started",
    "checkout_committed",
    "checkout_aborted",
}


def query(stack: Stack, service: str, sql: str, params: tuple = ()) -> list[tuple]:
    path = stack.config.data_dir / f"{service}.sqlite3"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def outbox_sizes(stack: Stack) -> dict[str, int]:
    return {s: query(stack, s, "SELECT COUNT(*) FROM outbox")[0][0] for s in SERVICES}


def wait_until(condition, what: str, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s}s"
        time.sleep(0.2)
    return result


def settled(stack: Stack) -> bool:
    """Every checkout finished, no reservation held, every outbox empty: the stream is whole."""
    unfinished = "SELECT COUNT(*) FROM checkouts WHERE finished = 0"
    held = "SELECT COUNT(*) FROM reservations WHERE state = 'HELD'"
    return (
        query(stack, "order", unfinished) == [(0,)]
        and all(query(stack, s, held) == [(0,)] for s in ("stock", "payment"))
        and not any(outbox_sizes(stack).values())
    )


def wait_settled(stack: Stack, timeout_s: float = 60) -> None:
    wait_until(lambda: settled(stack), "checkouts over and outboxes empty", timeout_s)


def relay_failures(stack: Stack, service: str) -> int:
    """How many times the service's outbox relay has failed to publish (from its JSON log)."""
    return sum(
        1
        for line in log_records(stack, service)
        if line.get("level") == "WARNING" and line.get("logger") == "shopmesh.events.relay"
    )


def kafka_settings(stack: Stack) -> KafkaSettings:
    servers = stack.config.env["KAFKA_BOOTSTRAP_SERVERS"]
    return dataclasses.replace(KafkaSettings.from_env("test"), bootstrap_servers=servers)


def read_audit(stack: Stack) -> list[events_pb2.AuditEvent]:
    """The whole audit topic, duplicates included, each partition in order."""
    return asyncio.run(read_audit_events(kafka_settings(stack), timeout_s=30))


def read_retries(stack: Stack) -> list[events_pb2.CheckoutRetry]:
    settings = kafka_settings(stack)
    records = asyncio.run(read_records(settings, settings.retry_topic, timeout_s=30))
    return [events_pb2.CheckoutRetry.FromString(r.value) for r in records]


def produce(stack: Stack, key: str, event: events_pb2.AuditEvent) -> None:
    async def send() -> None:
        settings = kafka_settings(stack)
        producer = await start_producer(settings)
        try:
            await producer.send_and_wait(
                settings.audit_topic, event.SerializeToString(), key=key.encode()
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def run_auditor(stack: Stack) -> tuple[int, str, dict[str, str]]:
    """`python -m shoptools.auditor` on the stack's broker: exit code, output, summary lines."""
    servers = stack.config.env["KAFKA_BOOTSTRAP_SERVERS"]
    done = subprocess.run(
        [sys.executable, "-m", "shoptools.auditor", "--bootstrap-servers", servers],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [line.partition(": ") for line in done.stdout.splitlines()]
    summary = {key: value for key, sep, value in lines if sep and not key.startswith(" ")}
    return done.returncode, done.stdout + done.stderr, summary


def distinct(events: list[events_pb2.AuditEvent]) -> list[events_pb2.AuditEvent]:
    """First occurrence of every event_id, in the order given."""
    first: dict[str, events_pb2.AuditEvent] = {}
    for event in events:
        first.setdefault(event.event_id, event)
    return list(first.values())


def counted(events: list[events_pb2.AuditEvent]) -> Counter:
    """(entity_key, change) -> how many distinct events, for the COUNTED changes."""
    return Counter(
        (e.entity_key, change_of(e)) for e in distinct(events) if change_of(e) in COUNTED
    )


def last_balances(events: list[events_pb2.AuditEvent]) -> dict[str, int]:
    """entity_key -> the balance (stock or credit) its last event reports."""
    return {
        e.entity_key: fields_of(e)[MOVES[change_of(e)][0]] for e in events if change_of(e) in MOVES
    }


# --- a checkout workload ------------------------------------------------------------------


@dataclass
class Request:
    """One REST call and the audit events it makes if answered 200, or if refused (4xx)."""

    method: str
    path: str
    if_ok: Counter
    if_refused: Counter = field(default_factory=Counter)


@dataclass
class Workload:
    """Items with little stock, users, orders: every order checked out once, mixed with
    add_funds and subtract calls. `expected` counts the COUNTED events made so far."""

    shop: Shop
    rng: random.Random
    expected: Counter = field(default_factory=Counter)
    items: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def create(self, items: int, stock: int, users: int, orders: int, others: int) -> None:
        """The catalogue (made now), then the requests to send: checkouts and others."""
        for price in range(1, items + 1):
            self.items.append(self.shop.item(price=price, stock=stock))
            self._made(f"item/{self.items[-1]}", "item_created", "stock_added")
        for _ in range(users):
            self.users.append(self.shop.user(credit=self.rng.randrange(10, 60)))
            self._made(f"user/{self.users[-1]}", "user_created", "funds_added")
        self.requests = [self._checkout() for _ in range(orders)]
        self.requests += [self._add_funds() for _ in range(others)]
        self.requests += [self._subtract() for _ in range(others)]
        self.rng.shuffle(self.requests)

    def _made(self, key: str, *changes: str) -> None:
        self.expected.update((key, change) for change in changes)

    def _checkout(self) -> Request:
        user = self.rng.choice(self.users)
        lines = [(self.rng.choice(self.items), self.rng.randint(1, 3))]
        lines *= self.rng.randint(1, 2)  # sometimes the same item on two lines
        lines += [(self.rng.choice(self.items), 1)] * self.rng.randint(0, 1)
        order = self.shop.order(user, lines)
        key = f"order/{order}"
        self._made(key, "order_created", *["order_item_added"] * len(lines))
        ok = Counter([(key, "checkout_committed"), (f"user/{user}", "credit_committed")])
        ok.update((f"item/{item}", "stock_committed") for item in {i for i, _ in lines})
        started = Counter([(key, "checkout_started")])
        aborted = started + Counter([(key, "checkout_aborted")])
        return Request("POST", f"/orders/checkout/{order}", ok + started, aborted)

    def _add_funds(self) -> Request:
        user = self.rng.choice(self.users)
        path = f"/payment/add_funds/{user}/{self.rng.randint(1, 20)}"
        return Request("POST", path, Counter([(f"user/{user}", "funds_added")]))

    def _subtract(self) -> Request:
        item = self.rng.choice(self.items)
        path = f"/stock/subtract/{item}/{self.rng.randint(1, 3)}"
        return Request("POST", path, Counter([(f"item/{item}", "stock_subtracted")]))

    def send(self, requests: list[Request], in_flight: int = 20) -> Counter:
        """Send concurrently; count the outcomes and expect the events the answers imply."""
        calls = [(r.method, r.path) for r in requests]
        answers = asyncio.run(send_all(self.shop.http.base_url, calls, in_flight))
        outcomes = Counter(outcome(answer) for answer in answers)
        for request, answer in zip(requests, answers, strict=True):
            if outcome(answer) == "200":
                self.expected.update(request.if_ok)
            elif outcome(answer).startswith("4xx"):
                self.expected.update(request.if_refused)
        return outcomes

    def balances(self) -> dict[str, int]:
        """entity_key -> stock or credit, as the shop answers now."""
        stock = {f"item/{i}": self.shop.stock(i) for i in self.items}
        return stock | {f"user/{u}": self.shop.credit(u) for u in self.users}


def answered(outcomes: Counter) -> bool:
    """Every answer a 200 or a 4xx: no 5xx, no transport error."""
    return all(o == "200" or o.startswith("4xx") for o in outcomes)
