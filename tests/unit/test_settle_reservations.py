"""Phase two for many transactions at once (`reservations.settle_each`, the rule behind
ParticipantService.Settle) on the real stores of both participants, and what payment answers about
an order whose checkout reservation is still HELD (the coordinator answers the client before
it sends its decision)."""

import time
from collections.abc import AsyncIterator, Callable
from functools import partial

import grpc
import pytest
from doubles import FakeCoordinator
from participants import PAYMENT, STOCK, Participant, Spec

from payment_svc import accounts
from payment_svc.api import PaymentApi
from shop.order.v1 import order_pb2, order_pb2_grpc
from shop.participant.v1 import participant_pb2
from shop.payment.v1 import payment_pb2
from shopmesh.errors import Kind, ShopError, TransactionTooLarge
from shopmesh.participant import reservations
from shopmesh.participant.reservations import MAX_BATCH, Reservation, State
from shopmesh.participant.servicer import ParticipantServicer
from shopmesh.participant.stale import StaleReservationResolver
from shopmesh.store.sqlite import SqliteStore
from stock_svc.api import StockParticipant
from stock_svc.inventory import Item
from stock_svc.store import sqlite as stock_sqlite

# What a user sees once two of the standard reservations are taken for good.
TWO_TAKEN = {"stock": {"a": 6, "b": 3}, "payment": 40}


@pytest.fixture(params=[STOCK, PAYMENT], ids=lambda kind: kind.name)
async def side(request: pytest.FixtureRequest, open_store: Callable) -> Participant:
    """One participant on each backend (SQLite, Spanner where its emulator is installed, and
    memory), seeded as tests/unit/participants.py says."""
    kind: Spec = request.param
    store = await open_store(kind.adapter)
    await store.transact(kind.seed)
    return Participant(kind, store)


async def _settle(side: Participant, settlements: list[tuple[str, bool]]):
    """One Settle's worth of decisions in one local transaction: for each, the
    new state, or the reason it was refused."""
    outcomes = await side.store.transact(
        partial(
            reservations.settle_each,
            settlements=settlements,
            commit_rule=side.kind.commit,
            cancel_rule=side.kind.cancel,
            now=time.time(),
        )
    )
    assert len(outcomes) == len(settlements)
    return [o.reason if isinstance(o, ShopError) else o.state for o in outcomes]


async def _states(side: Participant, *txn_ids: str) -> list[State | None]:
    return [await side.state(txn_id) for txn_id in txn_ids]


async def _audit_events(side: Participant) -> int:
    return await side.store.read(lambda repo: repo.outbox_size())


COMMIT, CANCEL = True, False


async def test_a_mixed_batch_applies_each_decision_and_reports_each_refusal(side):
    await side.reserve("cancelled")
    await side.cancel("cancelled")
    for txn_id in ("held-1", "held-2", "committed"):
        await side.reserve(txn_id)
    await side.commit("committed")

    results = await _settle(
        side,
        [
            ("held-1", COMMIT),
            ("held-2", CANCEL),
            ("unknown-1", COMMIT),
            ("cancelled", COMMIT),
            ("unknown-2", CANCEL),
            ("committed", CANCEL),
            ("held-1", COMMIT),  # a duplicate: as a repeated CommitReservation
            ("held-2", CANCEL),  # a duplicate: as a repeated CancelReservation, releases once
        ],
    )

    assert results == [
        State.COMMITTED,
        State.CANCELLED,
        "RESERVATION_NOT_FOUND",
        "TRANSACTION_CANCELLED",
        State.CANCELLED,
        "TRANSACTION_COMMITTED",
        State.COMMITTED,
        State.CANCELLED,
    ]
    assert await _states(
        side, "held-1", "held-2", "unknown-1", "cancelled", "unknown-2", "committed"
    ) == [State.COMMITTED, State.CANCELLED, None, State.CANCELLED, State.CANCELLED, State.COMMITTED]
    # held-1 and committed stay taken; held-2 came back once, the cancelled one long ago.
    assert await side.balance() == TWO_TAKEN[side.kind.name]


async def test_refused_settlements_change_nothing(side):
    await side.reserve("cancelled")
    await side.cancel("cancelled")
    await side.reserve("committed")
    await side.commit("committed")
    before = (await side.balance(), await _audit_events(side))

    results = await _settle(
        side, [("unknown", COMMIT), ("cancelled", COMMIT), ("committed", CANCEL), ("", COMMIT)]
    )

    assert results == [
        "RESERVATION_NOT_FOUND",
        "TRANSACTION_CANCELLED",
        "TRANSACTION_COMMITTED",
        "INVALID_ID",
    ]
    assert (await side.balance(), await _audit_events(side)) == before
    assert await _states(side, "unknown", "cancelled", "committed") == [
        None,
        State.CANCELLED,
        State.COMMITTED,
    ]


async def test_a_cancel_of_an_unknown_txn_in_a_batch_refuses_its_late_reserve(side):
    assert await _settle(side, [("late", CANCEL)]) == [State.CANCELLED]
    await side.refused(side.reserve, "late", "TRANSACTION_CANCELLED", Kind.ABORTED)
    assert await side.balance() == side.kind.full


async def test_a_batch_settled_twice_changes_nothing_more(side):
    await side.reserve("t1")
    await side.reserve("t2")
    batch = [("t1", COMMIT), ("t2", CANCEL)]
    assert await _settle(side, batch) == [State.COMMITTED, State.CANCELLED]
    after_first = (await side.balance(), await _audit_events(side))

    assert await _settle(side, batch) == [State.COMMITTED, State.CANCELLED]
    assert (await side.balance(), await _audit_events(side)) == after_first
    assert await side.balance() == side.kind.taken


async def test_more_than_the_maximum_settlements_is_refused_whole(side):
    await side.reserve("held")
    too_many = [("held", COMMIT)] + [(f"t{i}", CANCEL) for i in range(MAX_BATCH)]

    with pytest.raises(ShopError) as info:
        await _settle(side, too_many)

    assert (info.value.reason, info.value.kind) == ("INVALID_COUNT", Kind.INVALID_ARGUMENT)
    assert await _states(side, "held", "t0", f"t{MAX_BATCH - 1}") == [State.HELD, None, None]
    assert await side.balance() == side.kind.taken


async def test_the_maximum_number_of_settlements_is_accepted(side):
    await side.reserve("held")
    batch = [("held", COMMIT)] + [(f"t{i}", CANCEL) for i in range(MAX_BATCH - 1)]
    results = await _settle(side, batch)
    assert results == [State.COMMITTED] + [State.CANCELLED] * (MAX_BATCH - 1)
    assert await _states(side, "held", f"t{MAX_BATCH - 2}") == [
        State.COMMITTED,
        State.CANCELLED,
    ]


# --- payment: an order whose checkout reservation is still HELD ---------------------------


async def _reserve_credit(
    payment: SqliteStore, txn_id: str, user_id: str = "u", order_id: str = "o1", amount: int = 30
) -> Reservation:
    return await payment.transact(
        partial(
            accounts.reserve_credit,
            txn_id=txn_id,
            user_id=user_id,
            order_id=order_id,
            amount=amount,
            now=time.time(),
        )
    )


async def _undecided(payment: SqliteStore, user_id: str = "u", order_id: str = "o1") -> list[str]:
    return await payment.read(
        partial(accounts.undecided_checkouts, user_id=user_id, order_id=order_id)
    )


@pytest.fixture
async def payment(open_store: Callable) -> SqliteStore:
    """Users "u" (credit 100) and "v" (credit 50)."""
    store = await open_store(PAYMENT.adapter)
    await store.transact(PAYMENT.seed)
    await store.transact(lambda repo: repo.put_users(iter([accounts.User("v", 50)])))
    return store


async def _credit(payment: SqliteStore, user_id: str = "u") -> int:
    return await payment.read(lambda repo: repo.get_user(user_id).credit)


async def _state(payment: SqliteStore, txn_id: str) -> State:
    reservation: Reservation = await payment.read(lambda repo: repo.get_reservation(txn_id))
    return reservation.state


async def test_undecided_checkouts_are_the_orders_held_reservations_of_that_user(payment):
    assert await _undecided(payment) == []
    for txn_id in ("held", "committed", "cancelled"):
        await _reserve_credit(payment, txn_id, amount=10)
    await _reserve_credit(payment, "other-order", order_id="o2", amount=10)
    await _reserve_credit(payment, "other-user", user_id="v", amount=10)
    await payment.transact(partial(accounts.commit_reservation, txn_id="committed", now=1.0))
    await payment.transact(partial(accounts.cancel_reservation, txn_id="cancelled", now=1.0))

    assert await _undecided(payment) == ["held"]
    assert await _undecided(payment, order_id="o2") == ["other-order"]
    assert await _undecided(payment, user_id="v") == ["other-user"]
    assert await _undecided(payment, order_id="never") == []


async def test_cancel_payment_of_an_order_held_by_checkout_is_refused(payment):
    await _reserve_credit(payment, "t1")

    with pytest.raises(ShopError) as info:
        await payment.transact(partial(accounts.cancel_payment, user_id="u", order_id="o1"))

    assert (info.value.reason, info.value.kind) == (
        "PAYMENT_OWNED_BY_CHECKOUT",
        Kind.FAILED_PRECONDITION,
    )
    assert info.value.metadata["order_id"] == "o1"
    assert await _credit(payment) == 70
    assert await _state(payment, "t1") is State.HELD


async def test_cancel_payment_after_the_checkout_was_cancelled_finds_no_payment(payment):
    await _reserve_credit(payment, "t1")
    await payment.transact(partial(accounts.cancel_reservation, txn_id="t1", now=1.0))

    with pytest.raises(ShopError) as info:
        await payment.transact(partial(accounts.cancel_payment, user_id="u", order_id="o1"))

    assert info.value.reason == "PAYMENT_NOT_FOUND"
    assert await _credit(payment) == 100


async def test_a_direct_payment_of_an_order_held_by_checkout_can_be_cancelled(payment):
    """PAYMENT_OWNED_BY_CHECKOUT only where there is no direct payment to give back."""
    await _reserve_credit(payment, "t1")
    await payment.transact(partial(accounts.pay_order, user_id="u", order_id="o1", amount=20))
    assert await _credit(payment) == 50

    await payment.transact(partial(accounts.cancel_payment, user_id="u", order_id="o1"))

    assert await _credit(payment) == 70
    assert await _state(payment, "t1") is State.HELD


# --- GetPaymentStatus asks the coordinator about a HELD reservation -----------------------


@pytest.fixture
async def fake_coordinator() -> AsyncIterator[tuple[FakeCoordinator, str]]:
    """An OrderService that answers GetCheckoutOutcome only (see test_stale_reservations)."""
    servicer = FakeCoordinator()
    server = grpc.aio.server()
    order_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture
async def payment_api(
    payment: SqliteStore, fake_coordinator: tuple[FakeCoordinator, str]
) -> AsyncIterator[PaymentApi]:
    _, addr = fake_coordinator
    resolver = StaleReservationResolver(
        payment,
        accounts.commit_reservation,
        accounts.cancel_reservation,
        addr,
        hold_timeout_s=30.0,
        rpc_timeout_s=1.0,
    )
    yield PaymentApi(payment, resolver)
    await resolver._channel.close()  # run() closes it; these tests never start run()


async def _paid(api: PaymentApi, order_id: str = "o1") -> bool:
    request = payment_pb2.GetPaymentStatusRequest(user_id="u", order_id=order_id)
    return (await api.GetPaymentStatus(request, None)).paid


@pytest.mark.parametrize(
    ("outcome", "paid", "state", "credit"),
    [
        (order_pb2.CHECKOUT_OUTCOME_COMMITTED, True, State.COMMITTED, 70),
        (order_pb2.CHECKOUT_OUTCOME_ABORTED, False, State.CANCELLED, 100),
        (order_pb2.CHECKOUT_OUTCOME_PENDING, False, State.HELD, 70),
    ],
    ids=["committed", "aborted", "pending"],
)
async def test_payment_status_of_a_held_checkout_follows_the_coordinator(
    payment, payment_api, fake_coordinator, outcome, paid, state, credit
):
    servicer, _ = fake_coordinator
    await _reserve_credit(payment, "t1")
    servicer.outcomes["t1"] = outcome

    assert await _paid(payment_api) is paid

    assert servicer.asked == ["t1"]
    assert await _state(payment, "t1") is state
    assert await _credit(payment) == credit


async def test_payment_status_asks_nobody_without_a_held_checkout(
    payment, payment_api, fake_coordinator
):
    servicer, _ = fake_coordinator
    assert await _paid(payment_api) is False  # nothing at all
    await _reserve_credit(payment, "t1")
    await payment.transact(partial(accounts.commit_reservation, txn_id="t1", now=1.0))
    assert await _paid(payment_api) is True  # committed already
    await _reserve_credit(payment, "t2", order_id="o2")
    await payment.transact(partial(accounts.cancel_reservation, txn_id="t2", now=1.0))
    assert await _paid(payment_api, "o2") is False  # cancelled already
    assert servicer.asked == []


async def test_payment_status_with_the_coordinator_down_cannot_be_known(payment):
    """The held checkout may be paid already (the coordinator answers before it commits):
    a definite "false" could be wrong, so the status is an error the client can retry."""
    resolver = StaleReservationResolver(
        payment,
        accounts.commit_reservation,
        accounts.cancel_reservation,
        "127.0.0.1:1",
        hold_timeout_s=30.0,
        rpc_timeout_s=0.5,
    )
    try:
        await _reserve_credit(payment, "t1")
        with pytest.raises(ShopError) as refused:
            await _paid(PaymentApi(payment, resolver))
        assert refused.value.reason == "DEPENDENCY_UNAVAILABLE"
        assert await _state(payment, "t1") is State.HELD
        assert await _credit(payment) == 70
    finally:
        await resolver._channel.close()


class CommitLandsAfterTheFirstRead:
    """The payment store, where the coordinator's commit of `txn_id` (sent by its Settler after
    answering the client) lands right after GetPaymentStatus' first read."""

    def __init__(self, store: SqliteStore, txn_id: str) -> None:
        self._store = store
        self._txn_id = txn_id
        self.reads = 0

    async def read(self, work):
        result = await self._store.read(work)
        self.reads += 1
        if self.reads == 1:
            commit = partial(accounts.commit_reservation, txn_id=self._txn_id, now=time.time())
            await self._store.transact(commit)
        return result

    async def transact(self, work):
        return await self._store.transact(work)


async def test_payment_status_is_paid_when_the_commit_lands_while_it_looks(
    payment, fake_coordinator
):
    servicer, addr = fake_coordinator
    servicer.outcomes["t1"] = order_pb2.CHECKOUT_OUTCOME_COMMITTED
    await _reserve_credit(payment, "t1")
    resolver = StaleReservationResolver(
        payment,
        accounts.commit_reservation,
        accounts.cancel_reservation,
        addr,
        hold_timeout_s=30.0,
        rpc_timeout_s=1.0,
    )
    try:
        api = PaymentApi(CommitLandsAfterTheFirstRead(payment, "t1"), resolver)
        assert await _paid(api) is True
    finally:
        await resolver._channel.close()
    assert await _state(payment, "t1") is State.COMMITTED
    assert await _credit(payment) == 70


class MutationLimit:
    """A participant's store that refuses, as Spanner does past 80,000 mutations, any settle
    of more than `most` reservations in one transaction. (The emulator does not enforce the
    limit: a real Cloud Spanner instance would refuse the 100 x 100 settle below.)"""

    def __init__(self, store, most: int) -> None:
        self._store = store
        self._most = most
        self.sizes: list[int] = []

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    async def transact(self, work):
        size = len(work.keywords["settlements"])
        self.sizes.append(size)
        if size > self._most:
            raise TransactionTooLarge(f"{size} settlements: too many mutations")
        return await self._store.transact(work)


async def test_a_settle_too_large_for_one_transaction_is_applied_in_parts(open_store):
    """100 checkouts holding 100 distinct items each: cancelling them all at once writes
    ~100,000 cells (items, reservations, outbox), past Spanner's 80,000-mutation commit limit.
    The call still applies every decision, in transactions small enough."""
    real = await open_store(stock_sqlite)
    store = MutationLimit(real, most=30)
    item_ids = [f"i{n}" for n in range(100)]
    txn_ids = [f"t{n}" for n in range(100)]

    def held_everywhere(repo) -> None:
        repo.put_many([Item(i, 0, 1, held=100) for i in item_ids])
        for txn_id in txn_ids:
            lines = {"lines": dict.fromkeys(item_ids, 1)}
            repo.put_reservation(Reservation(txn_id, State.HELD, lines, "", time.time()))

    await real.transact(held_everywhere)
    cancel = participant_pb2.SETTLEMENT_DECISION_CANCEL
    request = participant_pb2.SettleRequest(
        settlements=[participant_pb2.Settlement(transaction_id=t, decision=cancel) for t in txn_ids]
    )
    api = ParticipantServicer(store, StockParticipant(), domain="stock.shopmesh")

    reply = await api.Settle(request, None)

    assert {r.refusal_reason for r in reply.results} == {""}
    assert {r.state for r in reply.results} == {participant_pb2.RESERVATION_STATE_CANCELLED}
    stock = await real.read(lambda repo: [repo.get(i) for i in item_ids])
    assert {(item.stock, item.held) for item in stock} == {(100, 0)}
    assert store.sizes == [100, 50, 25, 25, 50, 25, 25]


async def test_the_oldest_held_reservation_is_what_the_age_gauge_reads(side: Participant):
    def oldest(repo) -> float | None:
        return repo.oldest_held_since()

    assert await side.store.read(oldest) is None
    for txn_id, at in (("t-new", 2_000.0), ("t-old", 1_000.0), ("t-done", 500.0)):
        await side.store.transact(partial(side.kind.reserve, txn_id=txn_id, now=at))
    assert await _settle(side, [("t-done", True)]) == [State.COMMITTED]
    # The committed one is older, but only HELD ones count.
    assert await side.store.read(oldest) == 1_000.0
    assert await _settle(side, [("t-old", False), ("t-new", False)]) == [State.CANCELLED] * 2
    assert await side.store.read(oldest) is None
