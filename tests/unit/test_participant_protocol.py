"""The participant side of checkout (reserve / commit / cancel) in every message order, on the
in-memory stores of both participants (tests/unit/test_store.py shows they behave as the real
ones): stock holds units of items, payment holds credit."""

import time
from collections.abc import AsyncIterator
from functools import partial

import pytest
from participants import PAYMENT, STOCK, Participant, open_seeded

from payment_svc import accounts
from payment_svc.store import PaymentStore
from shopmesh.errors import Kind, ShopError
from shopmesh.participant.reservations import State
from stock_svc import inventory
from stock_svc.store import StockStore


@pytest.fixture(params=[STOCK, PAYMENT], ids=lambda kind: kind.name)
async def side(request) -> AsyncIterator[Participant]:
    store = await open_seeded(request.param)
    yield Participant(request.param, store)
    await store.close()


@pytest.fixture
async def stock() -> AsyncIterator[StockStore]:
    store = await open_seeded(STOCK)
    yield store
    await store.close()


@pytest.fixture
async def payment() -> AsyncIterator[PaymentStore]:
    store = await open_seeded(PAYMENT)
    yield store
    await store.close()


# --- every message order, on both participants ---


async def test_reserve_then_commit_takes_the_resources(side):
    held = await side.reserve("t1")
    assert held.state is State.HELD
    assert await side.balance() == side.kind.taken

    committed = await side.commit("t1")
    assert committed.state is State.COMMITTED
    assert await side.state("t1") is State.COMMITTED
    assert await side.balance() == side.kind.taken


async def test_reserve_then_cancel_gives_the_resources_back(side):
    await side.reserve("t1")
    cancelled = await side.cancel("t1")
    assert cancelled.state is State.CANCELLED
    assert await side.state("t1") is State.CANCELLED
    assert await side.balance() == side.kind.full


async def test_repeated_reserve_holds_once(side):
    first = await side.reserve("t1")
    again = await side.reserve("t1")
    assert (again.state, again.payload) == (State.HELD, first.payload)
    assert await side.balance() == side.kind.taken
    # Two different transactions do hold twice: the repeat was recognised by its id.
    await side.reserve("t2")
    assert await side.balance() != side.kind.taken


async def test_repeated_commit_changes_nothing_more(side):
    await side.reserve("t1")
    await side.commit("t1")
    again = await side.commit("t1")
    assert again.state is State.COMMITTED
    assert await side.balance() == side.kind.taken


async def test_repeated_cancel_releases_once(side):
    await side.reserve("t1")
    await side.cancel("t1")
    again = await side.cancel("t1")
    assert again.state is State.CANCELLED
    assert await side.balance() == side.kind.full


async def test_cancel_before_reserve_leaves_a_tombstone_that_refuses_the_late_reserve(side):
    tombstone = await side.cancel("t1")
    assert (tombstone.state, tombstone.payload) == (State.CANCELLED, None)
    assert await side.balance() == side.kind.full

    await side.refused(side.reserve, "t1", "TRANSACTION_CANCELLED", Kind.ABORTED)
    assert await side.balance() == side.kind.full
    # The tombstone stays a tombstone: cancelling it again is still fine.
    assert (await side.cancel("t1")).state is State.CANCELLED
    assert await side.balance() == side.kind.full


async def test_commit_after_cancel_is_refused(side):
    await side.reserve("t1")
    await side.cancel("t1")
    await side.refused(side.commit, "t1", "TRANSACTION_CANCELLED", Kind.FAILED_PRECONDITION)
    assert await side.balance() == side.kind.full


async def test_commit_of_a_tombstone_is_refused(side):
    await side.cancel("t1")
    await side.refused(side.commit, "t1", "TRANSACTION_CANCELLED", Kind.FAILED_PRECONDITION)
    assert await side.balance() == side.kind.full


async def test_cancel_after_commit_is_refused(side):
    await side.reserve("t1")
    await side.commit("t1")
    await side.refused(side.cancel, "t1", "TRANSACTION_COMMITTED", Kind.FAILED_PRECONDITION)
    assert await side.balance() == side.kind.taken


async def test_commit_without_reserve_is_not_found(side):
    await side.refused(side.commit, "t1", "RESERVATION_NOT_FOUND", Kind.NOT_FOUND)
    assert await side.state("t1") is None
    assert await side.balance() == side.kind.full


async def test_reservations_are_independent(side):
    await side.reserve("t1")
    await side.reserve("t2")
    await side.commit("t1")
    await side.cancel("t2")
    assert (await side.state("t1"), await side.state("t2")) == (State.COMMITTED, State.CANCELLED)
    assert await side.balance() == side.kind.taken


@pytest.mark.parametrize("message", ["reserve", "commit", "cancel"])
async def test_bad_transaction_id_is_refused(side, message):
    with pytest.raises(ShopError) as info:
        await getattr(side, message)("")
    assert info.value.reason == "INVALID_ID"
    assert await side.balance() == side.kind.full


# --- what only stock refuses ---


def _stock(repo):
    return {"a": repo.get("a").stock, "b": repo.get("b").stock}


async def test_reserve_short_of_stock_on_one_line_holds_no_line(stock):
    # "a" is taken first (lines are taken in sorted order), then "b" is short.
    reserve = partial(inventory.reserve_stock, txn_id="t1", lines={"a": 2, "b": 6}, now=1.0)
    with pytest.raises(ShopError) as info:
        await stock.transact(reserve)
    assert (info.value.reason, info.value.kind) == ("INSUFFICIENT_STOCK", Kind.FAILED_PRECONDITION)
    assert info.value.metadata["item_id"] == "b"
    assert await stock.read(_stock) == {"a": 10, "b": 5}
    assert await stock.read(lambda repo: repo.get_reservation("t1")) is None


async def test_reserve_of_an_unknown_item_holds_nothing(stock):
    reserve = partial(inventory.reserve_stock, txn_id="t1", lines={"a": 1, "nope": 1}, now=1.0)
    with pytest.raises(ShopError) as info:
        await stock.transact(reserve)
    assert (info.value.reason, info.value.kind) == ("ITEM_NOT_FOUND", Kind.NOT_FOUND)
    assert info.value.metadata["item_id"] == "nope"
    assert await stock.read(_stock) == {"a": 10, "b": 5}
    assert await stock.read(lambda repo: repo.get_reservation("t1")) is None


async def test_reserve_of_all_the_stock_leaves_zero(stock):
    await stock.transact(partial(inventory.reserve_stock, txn_id="t1", lines={"b": 5}, now=1.0))
    assert await stock.read(_stock) == {"a": 10, "b": 0}
    await stock.transact(partial(inventory.cancel_reservation, txn_id="t1", now=2.0))
    assert await stock.read(_stock) == {"a": 10, "b": 5}


# --- what only payment refuses or answers ---


def _credit(repo):
    return repo.get_user("u").credit


def _reserve_credit(txn_id="t1", user_id="u", order_id="o1", amount=30):
    return partial(
        accounts.reserve_credit,
        txn_id=txn_id,
        user_id=user_id,
        order_id=order_id,
        amount=amount,
        now=time.time(),
    )


def _paid(user_id="u", order_id="o1"):
    return partial(accounts.payment_status, user_id=user_id, order_id=order_id)


@pytest.mark.parametrize(
    ("user_id", "amount", "reason", "kind"),
    [
        ("nobody", 30, "USER_NOT_FOUND", Kind.NOT_FOUND),
        ("nobody", 0, "USER_NOT_FOUND", Kind.NOT_FOUND),
        ("u", 101, "INSUFFICIENT_CREDIT", Kind.FAILED_PRECONDITION),
    ],
)
async def test_reserve_credit_refused_holds_nothing(payment, user_id, amount, reason, kind):
    with pytest.raises(ShopError) as info:
        await payment.transact(_reserve_credit(user_id=user_id, amount=amount))
    assert (info.value.reason, info.value.kind) == (reason, kind)
    assert info.value.metadata["user_id"] == user_id
    assert await payment.read(_credit) == 100
    assert await payment.read(lambda repo: repo.get_reservation("t1")) is None


async def test_reserve_of_zero_credit_works_for_an_existing_user(payment):
    held = await payment.transact(_reserve_credit(amount=0))
    assert held.state is State.HELD
    assert await payment.read(_credit) == 100
    await payment.transact(partial(accounts.commit_reservation, txn_id="t1", now=time.time()))
    assert await payment.read(_credit) == 100
    assert await payment.read(_paid()) is True


async def test_reserve_of_all_the_credit_leaves_zero(payment):
    await payment.transact(_reserve_credit(amount=100))
    assert await payment.read(_credit) == 0


async def test_payment_status_follows_the_checkout_reservation(payment):
    assert await payment.read(_paid()) is False
    await payment.transact(_reserve_credit(txn_id="held"))
    assert await payment.read(_paid()) is False  # held is not paid

    await payment.transact(partial(accounts.cancel_reservation, txn_id="held", now=time.time()))
    assert await payment.read(_paid()) is False
    assert await payment.read(_credit) == 100

    await payment.transact(_reserve_credit(txn_id="paid"))
    await payment.transact(partial(accounts.commit_reservation, txn_id="paid", now=time.time()))
    assert await payment.read(_paid()) is True
    assert await payment.read(_credit) == 70
    # Only for that order: another order of the same user is not paid.
    assert await payment.read(_paid(order_id="o2")) is False


async def test_cancel_payment_of_a_checkout_paid_order_is_refused(payment):
    await payment.transact(_reserve_credit())
    await payment.transact(partial(accounts.commit_reservation, txn_id="t1", now=time.time()))
    with pytest.raises(ShopError) as info:
        await payment.transact(partial(accounts.cancel_payment, user_id="u", order_id="o1"))
    assert (info.value.reason, info.value.kind) == (
        "PAYMENT_OWNED_BY_CHECKOUT",
        Kind.FAILED_PRECONDITION,
    )
    assert info.value.metadata["order_id"] == "o1"
    assert await payment.read(_credit) == 70
    assert await payment.read(_paid()) is True
