"""A participant resolving stale HELD reservations by asking the coordinator, against the
in-memory stock store and a tiny real gRPC OrderService that only answers GetCheckoutOutcome."""

import socket
import time
from collections.abc import AsyncIterator
from functools import partial

import grpc
import pytest
from doubles import FakeCoordinator

from shop.order.v1 import order_pb2, order_pb2_grpc
from shopmesh.participant.reservations import State
from shopmesh.participant.stale import StaleReservationResolver
from stock_svc import inventory
from stock_svc.inventory import Item
from stock_svc.store import StockStore

HOLD_TIMEOUT_S = 30.0
COMMITTED = order_pb2.CHECKOUT_OUTCOME_COMMITTED
ABORTED = order_pb2.CHECKOUT_OUTCOME_ABORTED
PENDING = order_pb2.CHECKOUT_OUTCOME_PENDING


@pytest.fixture
async def coordinator() -> AsyncIterator[tuple[FakeCoordinator, str]]:
    servicer = FakeCoordinator()
    server = grpc.aio.server()
    order_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture
async def stock(stock_store: StockStore) -> StockStore:
    """Item "a" with 100 in stock (in memory)."""
    await stock_store.transact(lambda repo: repo.put(Item("a", 100, 1)))
    return stock_store


async def _resolver(store: StockStore, addr: str) -> AsyncIterator[StaleReservationResolver]:
    resolver = StaleReservationResolver(
        store,
        inventory.commit_reservation,
        inventory.cancel_reservation,
        addr,
        hold_timeout_s=HOLD_TIMEOUT_S,
        rpc_timeout_s=1.0,
    )
    yield resolver
    await resolver._channel.close()  # run() closes it; these tests call resolve_once only


@pytest.fixture
async def resolver(stock, coordinator) -> AsyncIterator[StaleReservationResolver]:
    async for resolver in _resolver(stock, coordinator[1]):
        yield resolver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def orphaned(stock) -> AsyncIterator[StaleReservationResolver]:
    """A resolver whose coordinator address has nothing listening."""
    async for resolver in _resolver(stock, f"127.0.0.1:{_free_port()}"):
        yield resolver


async def _hold(store: StockStore, txn_id: str, units: int, age_s: float) -> None:
    reserve = partial(
        inventory.reserve_stock, txn_id=txn_id, lines={"a": units}, now=time.time() - age_s
    )
    await store.transact(reserve)


async def _states(store: StockStore, *txn_ids: str) -> dict[str, State]:
    def read(repo):
        return {txn_id: repo.get_reservation(txn_id).state for txn_id in txn_ids}

    return await store.read(read)


async def _stock(store: StockStore) -> int:
    return await store.read(lambda repo: repo.get("a").stock)


async def test_stale_reservations_follow_the_coordinator(stock, coordinator, resolver):
    servicer, _ = coordinator
    servicer.outcomes = {"committed": COMMITTED, "aborted": ABORTED, "pending": PENDING}
    await _hold(stock, "committed", 1, age_s=300)
    await _hold(stock, "aborted", 10, age_s=200)
    await _hold(stock, "pending", 100 - 11 - 5, age_s=100)
    await _hold(stock, "young", 5, age_s=0)  # the coordinator would say ABORTED: never asked
    servicer.outcomes["young"] = ABORTED
    assert await _stock(stock) == 0

    assert await resolver.resolve_once() == 3

    assert sorted(servicer.asked) == ["aborted", "committed", "pending"]
    assert await _states(stock, "committed", "aborted", "pending", "young") == {
        "committed": State.COMMITTED,
        "aborted": State.CANCELLED,
        "pending": State.HELD,
        "young": State.HELD,
    }
    assert await _stock(stock) == 10  # only the aborted 10 came back

    # Next pass: only the pending one is still stale; once decided, it is resolved too.
    servicer.asked.clear()
    servicer.outcomes["pending"] = ABORTED
    assert await resolver.resolve_once() == 1
    assert servicer.asked == ["pending"]
    assert await _states(stock, "pending") == {"pending": State.CANCELLED}
    assert await _stock(stock) == 10 + 84

    servicer.asked.clear()
    assert await resolver.resolve_once() == 0
    assert servicer.asked == []


async def test_nothing_stale_asks_nothing(stock, coordinator, resolver):
    servicer, _ = coordinator
    await _hold(stock, "young", 5, age_s=0)
    await _hold(stock, "done", 5, age_s=300)
    await stock.transact(
        partial(inventory.commit_reservation, txn_id="done", now=time.time() - 300)
    )
    assert await resolver.resolve_once() == 0
    assert servicer.asked == []
    assert await _stock(stock) == 90


async def test_an_unreachable_coordinator_changes_nothing(stock, orphaned):
    await _hold(stock, "t1", 5, age_s=300)
    await _hold(stock, "t2", 5, age_s=300)
    assert await orphaned.resolve_once() == 2
    assert await _states(stock, "t1", "t2") == {"t1": State.HELD, "t2": State.HELD}
    assert await _stock(stock) == 90


async def test_a_coordinator_that_does_not_answer_in_time_changes_nothing(
    stock, coordinator, resolver
):
    servicer, _ = coordinator
    servicer.outcomes = {"slow": "hang", "t2": ABORTED}
    await _hold(stock, "slow", 5, age_s=300)
    await _hold(stock, "t2", 5, age_s=200)
    assert await resolver.resolve_once() == 2
    assert await _states(stock, "slow", "t2") == {"slow": State.HELD, "t2": State.CANCELLED}
    assert await _stock(stock) == 95


async def test_a_coordinator_error_on_one_txn_does_not_stop_the_others(
    stock, coordinator, resolver
):
    servicer, _ = coordinator
    servicer.outcomes = {"broken": RuntimeError("coordinator bug"), "t2": ABORTED}
    await _hold(stock, "broken", 5, age_s=300)  # oldest: asked first
    await _hold(stock, "t2", 5, age_s=200)

    await resolver.resolve_once()

    assert await _states(stock, "broken", "t2") == {"broken": State.HELD, "t2": State.CANCELLED}
    assert await _stock(stock) == 95


async def test_an_outcome_that_no_longer_applies_is_ignored(stock, coordinator, resolver):
    """The coordinator says COMMITTED, but the reservation was cancelled meanwhile (a protocol
    error the participant refuses): nothing changes, no exception escapes."""
    servicer, _ = coordinator
    await _hold(stock, "t1", 5, age_s=300)

    async def cancel_meanwhile(txn_id):
        await stock.transact(partial(inventory.cancel_reservation, txn_id=txn_id, now=time.time()))

    servicer.before_answer = cancel_meanwhile
    servicer.outcomes = {"t1": COMMITTED}

    assert await resolver.resolve_once() == 1
    assert await _states(stock, "t1") == {"t1": State.CANCELLED}
    assert await _stock(stock) == 100
