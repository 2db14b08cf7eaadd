"""The outbox relay against a SQLite outbox, and the outbox's paging on every adapter (SQLite,
Spanner where the emulator is, memory), with a fake Kafka producer."""

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from doubles import PARTITIONS, FakeProducer

from shop.events.v1.events_pb2 import AuditEvent
from shopmesh.events.audit import Event, item_key
from shopmesh.events.kafka import KafkaSettings
from shopmesh.events.relay import MAX_PAGES, OutboxRelay, partition_of
from shopmesh.store.sqlite import SqliteStore
from stock_svc.store import sqlite as stock_sqlite
from stock_svc.store.sqlite import open_sqlite_store

SETTINGS = KafkaSettings("unused:9092", "shop.audit", "shop.checkout-retry", "stock")


class Relay(OutboxRelay):
    def __init__(self, store: SqliteStore, producer: FakeProducer | None = None, **options):
        super().__init__(store, SETTINGS, **options)
        self.producer = producer or FakeProducer()

    async def _ensure_producer(self) -> FakeProducer:
        return self.producer


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SqliteStore]:
    store = open_sqlite_store(tmp_path / "stock.db", "NORMAL")
    await store.open()
    yield store
    await store.close()


async def _record(store: SqliteStore, items: list[str]) -> None:
    def work(repo) -> None:
        for item in items:
            repo.record(Event(item_key(item), "stock_added", {"amount": 1}))

    await store.transact(work)


async def _outbox_size(store: SqliteStore) -> int:
    return await store.read(lambda repo: repo.outbox_size())


async def test_one_relay_per_store_publishes_while_its_lease_holds(store):
    first, second = Relay(store, lease_s=30.0), Relay(store, lease_s=30.0)
    await _record(store, ["a", "b"])
    assert await first.relay_once() == 2
    await _record(store, ["c"])
    # The first relay did not renew its lease on this pass (it has most of it left), and
    # still it alone may publish.
    assert await second.relay_once() == 0
    assert await first.relay_once() == 1
    assert sorted(key for _, key in first.producer.sent) == [b"item/a", b"item/b", b"item/c"]
    assert second.producer.sent == []
    assert await _outbox_size(store) == 0


class Clock:
    """The relays' time, moved by the test: leases run out without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_another_relay_takes_over_once_the_lease_runs_out(store):
    clock = Clock()
    first = Relay(store, lease_s=0.2, clock=clock)
    second = Relay(store, lease_s=0.2, clock=clock)
    await _record(store, ["a"])
    assert await first.relay_once() == 1
    await _record(store, ["b"])
    assert await second.relay_once() == 0
    clock.now += 0.25  # the first relay stopped: its lease runs out
    assert await second.relay_once() == 1
    # Once the second holds the lease (renewed as it publishes), the first may not publish.
    await _record(store, ["c"])
    assert await first.relay_once() == 0
    assert [key for _, key in second.producer.sent] == [b"item/b"]


async def test_the_lease_is_renewed_before_it_runs_out(store):
    clock = Clock()
    first = Relay(store, lease_s=0.3, clock=clock)
    second = Relay(store, lease_s=0.3, clock=clock)
    for item in ["a", "b", "c", "d"]:
        await _record(store, [item])
        assert await first.relay_once() == 1
        assert await second.relay_once() == 0
        clock.now += 0.1  # 0.4 s in all: longer than one lease
    assert len(first.producer.sent) == 4 and second.producer.sent == []


async def test_after_a_pass_that_did_not_fill_a_batch_the_relay_lingers(store):
    """So that a trickle of events goes out in fewer passes (each costs two commits)."""
    relay = Relay(store, batch=3, linger_s=0.05, idle_s=0.01)
    passes: list[tuple[float, int]] = []  # (when it started, rows it sent)
    relay_once = relay.relay_once

    async def timed() -> int:
        started = asyncio.get_running_loop().time()
        sent = await relay_once()
        passes.append((started, sent))
        return sent

    relay.relay_once = timed
    # A pass reads up to MAX_PAGES pages: a full pass, then one row.
    await _record(store, [f"i{n}" for n in range(3 * MAX_PAGES + 1)])
    running = asyncio.create_task(relay.run())
    for _ in range(500):
        if len(relay.producer.sent) == 3 * MAX_PAGES + 1:
            break
        await asyncio.sleep(0.01)
    await _record(store, ["late"])
    for _ in range(500):
        if len(relay.producer.sent) == 3 * MAX_PAGES + 2:
            break
        await asyncio.sleep(0.01)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert [sent for _, sent in passes[:2]] == [3 * MAX_PAGES, 1]
    # After the partial batch (1 of 3), the next pass waited for the linger.
    assert passes[2][0] - passes[1][0] >= 0.05
    assert len(relay.producer.sent) == 3 * MAX_PAGES + 2


# --- busy keys ---------------------------------------------------------------------------


async def _record_numbered(store, key_counts: list[tuple[str, int]], start: int = 0) -> None:
    """For each (item, n): n stock_added events of that item with amounts start.., in order."""

    def work(repo) -> None:
        for item, count in key_counts:
            for n in range(start, start + count):
                repo.record(Event(item_key(item), "stock_added", {"amount": n}))

    await store.transact(work)


async def _drain(relay: Relay, store, most: int) -> int:
    """Passes until the outbox is empty (at most `most`); returns how many it took."""
    for passes in range(1, most + 1):
        await relay.relay_once()
        if await _outbox_size(store) == 0:
            return passes
    return most + 1


def _other_partition_items(hot: str, count: int) -> list[str]:
    """`count` items whose events go to another partition than `hot`'s."""
    hot_partition = partition_of(item_key(hot), PARTITIONS)
    names = (f"i{n}" for n in range(10_000))
    return [n for n in names if partition_of(item_key(n), PARTITIONS) != hot_partition][:count]


def test_a_key_goes_to_the_partition_kafkas_default_partitioner_picks():
    """Rows are sent in batches to an explicit partition: the same one `send` would pick, so
    that events of one entity produced elsewhere share its partition."""
    everything = list(range(PARTITIONS))
    for key in ["item/1", "user/42", "order/x", "8b0c1f0e-txn"]:
        expected = DefaultPartitioner()(key.encode(), everything, everything)
        assert partition_of(key, PARTITIONS) == expected


@pytest.fixture
async def stock_store(open_store):
    """The outbox on every adapter (the store contract), not only the in-memory one."""
    return await open_store(stock_sqlite)


async def test_a_busy_key_drains_in_a_few_passes_in_order_and_so_do_the_others(stock_store):
    """500 events of one item ahead of others' used to take 500 passes (one per key each)."""
    relay = Relay(stock_store, batch=200)
    others = [f"o{n}" for n in range(20)]
    await _record_numbered(stock_store, [("hot", 500)] + [(o, 3) for o in others])

    assert await _drain(relay, stock_store, most=10) <= 4
    assert relay.producer.amounts("item/hot") == list(range(500))
    assert all(relay.producer.amounts(f"item/{o}") == [0, 1, 2] for o in others)


async def test_a_pass_reads_past_a_key_whose_partition_batch_is_full(stock_store):
    """A page of the busy key fills its partition's batch; the rows behind it still go."""
    relay = Relay(stock_store, FakeProducer(capacity=50), batch=50)
    others = _other_partition_items("hot", 5)
    await _record_numbered(stock_store, [("hot", 120)] + [(o, 2) for o in others])

    await relay.relay_once()

    assert relay.producer.amounts("item/hot") == list(range(50))
    assert all(relay.producer.amounts(f"item/{o}") == [0, 1] for o in others)
    assert await _drain(relay, stock_store, most=10) == 2
    assert relay.producer.amounts("item/hot") == list(range(120))


async def test_a_failed_batch_goes_again_before_anything_newer_of_its_key(stock_store):
    relay = Relay(stock_store)
    others = _other_partition_items("hot", 5)
    await _record_numbered(stock_store, [("hot", 30)] + [(o, 2) for o in others])
    relay.producer.failing = {b"item/hot"}

    with pytest.raises(KafkaTimeoutError):
        await relay.relay_once()

    # The other partitions' keys went through; the busy key kept all its rows.
    assert relay.producer.amounts("item/hot") == []
    assert all(relay.producer.amounts(f"item/{o}") == [0, 1] for o in others)
    assert await _outbox_size(stock_store) == 30
    await _record_numbered(stock_store, [("hot", 10)], start=30)
    relay.producer.failing = set()
    assert await _drain(relay, stock_store, most=3) == 1
    assert relay.producer.amounts("item/hot") == list(range(40))


async def test_pending_events_pages_on_after_a_given_row(stock_store):
    await _record_numbered(stock_store, [("a", 3), ("b", 2), ("a", 2)])

    first = await stock_store.read(lambda repo: repo.pending_events(4))
    rest = await stock_store.read(lambda repo: repo.pending_events(4, first[-1][0]))
    keys = [row.key for _, row in first + rest]
    whole = await stock_store.read(lambda repo: repo.pending_events(100))

    assert keys == [row.key for _, row in whole]
    assert keys == ["item/a"] * 3 + ["item/b"] * 2 + ["item/a"] * 2
    amounts = [AuditEvent.FromString(row.payload).stock_added.amount for _, row in first + rest]
    assert amounts == [0, 1, 2, 0, 1, 0, 1]
