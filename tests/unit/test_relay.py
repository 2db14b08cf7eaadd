"""The outbox relay against a real SQLite outbox, with a fake Kafka producer."""

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest

from shopmesh.events import Event, item_key
from shopmesh.kafka import KafkaSettings
from shopmesh.relay import OutboxRelay
from shopmesh.sqlite import SqliteStore
from stock_svc.store.sqlite import open_sqlite_store

SETTINGS = KafkaSettings("unused:9092", "shop.audit", "shop.checkout-retry", "stock")


class FakeProducer:
    """Acknowledges every send at once and remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future:
        self.sent.append((topic, key))
        acked = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    async def stop(self) -> None:
        pass


class Relay(OutboxRelay):
    def __init__(self, store: SqliteStore, **options) -> None:
        super().__init__(store, SETTINGS, **options)
        self.producer = FakeProducer()

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
    assert [key for _, key in first.producer.sent] == [b"item/a", b"item/b", b"item/c"]
    assert second.producer.sent == []
    assert await _outbox_size(store) == 0


async def test_another_relay_takes_over_once_the_lease_runs_out(store):
    first, second = Relay(store, lease_s=0.2), Relay(store, lease_s=0.2)
    await _record(store, ["a"])
    assert await first.relay_once() == 1
    await _record(store, ["b"])
    assert await second.relay_once() == 0
    await asyncio.sleep(0.25)  # the first relay stopped: its lease runs out
    assert await second.relay_once() == 1
    # Once the second holds the lease (renewed as it publishes), the first may not publish.
    await _record(store, ["c"])
    assert await first.relay_once() == 0
    assert [key for _, key in second.producer.sent] == [b"item/b"]


async def test_the_lease_is_renewed_before_it_runs_out(store):
    first, second = Relay(store, lease_s=0.3), Relay(store, lease_s=0.3)
    for item in ["a", "b", "c", "d"]:
        await _record(store, [item])
        assert await first.relay_once() == 1
        assert await second.relay_once() == 0
        await asyncio.sleep(0.1)  # 0.4 s in all: longer than one lease
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
    await _record(store, [f"i{n}" for n in range(4)])  # one full batch, then one row
    running = asyncio.create_task(relay.run())
    for _ in range(500):
        if len(relay.producer.sent) == 4:
            break
        await asyncio.sleep(0.01)
    await _record(store, ["late"])
    for _ in range(500):
        if len(relay.producer.sent) == 5:
            break
        await asyncio.sleep(0.01)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert [sent for _, sent in passes[:2]] == [3, 1]
    # After the partial batch (1 of 3), the next pass waited for the linger.
    assert passes[2][0] - passes[1][0] >= 0.05
    assert len(relay.producer.sent) == 5
