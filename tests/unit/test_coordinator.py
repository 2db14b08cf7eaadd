"""The checkout coordinator against the in-memory order store (two processes on one file: a
real SQLite one), with fake participants."""

import asyncio
import pathlib
import sqlite3
import time
from functools import partial

import pytest
from doubles import FakePeers

from order_svc import checkout, orders
from order_svc.checkout import CheckoutTxn, Decision, Paid
from order_svc.coordinator import CheckoutCoordinator
from order_svc.orders import Line, Order
from order_svc.store import OrderStore
from order_svc.store import sqlite as order_sqlite
from shopmesh.errors import Aborted, ShopError
from shopmesh.validation import MAX_INT32

LINES = {"a": 2, "b": 1}
TOTAL = 2 * 3 + 1 * 7


class SettlingCoordinator(CheckoutCoordinator):
    """Checkout answers once its decision is logged and sends it to the participants after;
    these tests look at what was sent, so each checkout here waits for that too."""

    async def checkout(self, order_id: str) -> CheckoutTxn | Order:
        try:
            return await super().checkout(order_id)
        finally:
            await self.settler.flush()


def _seed(repo) -> None:
    """Unpaid order "o1" of user "u" (2 of "a" at 3, 1 of "b" at 7) and paid order "paid"."""
    o1 = Order("o1", "u", lines=[Line("a", 2, 3), Line("b", 1, 7)])
    paid = Order("paid", "u", paid=True, lines=[Line("a", 1, 3)], checkout_txn="old")
    repo.put_many(iter([o1, paid]))


@pytest.fixture
async def store(order_store: OrderStore) -> OrderStore:
    """The order store (in memory), seeded by `_seed`."""
    await order_store.transact(_seed)
    return order_store


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def coordinator(store: OrderStore, peers: FakePeers) -> CheckoutCoordinator:
    return SettlingCoordinator(store, peers, timeout_s=5.0, lease_s=10.0)


class Clock:
    """The coordinator's time, moved by the test: leases and deadlines pass without sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fast(store: OrderStore, clock: Clock) -> tuple[CheckoutCoordinator, FakePeers]:
    """A coordinator whose deadline (0.3 s) and lease (0.5 s) pass when the test moves its
    clock."""
    peers = FakePeers(timeout_s=0.05)
    return SettlingCoordinator(store, peers, timeout_s=0.3, lease_s=0.5, clock=clock), peers


PAST_THE_LEASE_S = 0.6


async def _order(store: OrderStore, order_id: str = "o1") -> Order:
    return await store.read(lambda repo: repo.get(order_id))


async def _txn(store: OrderStore, txn_id: str) -> CheckoutTxn:
    return await store.read(lambda repo: repo.get_txn(txn_id))


async def _logged(store: OrderStore, checking_out) -> CheckoutTxn:
    """The logged transaction of a checkout that paid."""
    paid = await checking_out
    assert isinstance(paid, Paid)
    return await _txn(store, paid.txn_id)


async def _refusal(awaitable) -> ShopError:
    with pytest.raises(ShopError) as info:
        await awaitable
    return info.value


def _begin(
    txn_id: str,
    owner: str,
    timeout_s: float,
    lease_s: float,
    order_id: str = "o1",
    now: float | None = None,
):
    """What a coordinator logs before its first reserve: a crash right after leaves this."""
    return partial(
        checkout.begin,
        order_id=order_id,
        txn_id=txn_id,
        now=time.time() if now is None else now,
        timeout_s=timeout_s,
        owner=owner,
        lease_s=lease_s,
    )


# --- one checkout ---


async def test_both_reserve_then_commit(store, peers, coordinator):
    txn = await _logged(store, coordinator.checkout("o1"))

    assert txn.decision is Decision.COMMIT
    assert peers.reserves == [
        ("stock", txn.txn_id, LINES),
        ("payment", txn.txn_id, "u", "o1", TOTAL),
    ]
    assert peers.settled("stock") == peers.settled("payment") == [(txn.txn_id, True)]
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (True, txn.txn_id)
    assert (await _txn(store, txn.txn_id)).finished
    assert await coordinator.outcome(txn.txn_id) is Decision.COMMIT


@pytest.mark.parametrize(
    ("peer", "reason"), [("stock", "INSUFFICIENT_STOCK"), ("payment", "INSUFFICIENT_CREDIT")]
)
async def test_a_refusal_aborts_and_cancels_both(store, peers, coordinator, peer, reason):
    peers.refuse(peer, reason)

    error = await _refusal(coordinator.checkout("o1"))

    assert error.reason == reason
    [(_, txn_id, *_), _] = peers.reserves
    assert peers.settled("stock") == peers.settled("payment") == [(txn_id, False)]
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (False, None)
    txn = await _txn(store, txn_id)
    assert (txn.decision, txn.finished) == (Decision.ABORT, True)
    assert await coordinator.outcome(txn_id) is Decision.ABORT

    # The order is unlocked: it can change, and be checked out again once the shop can.
    await store.transact(partial(orders.add_item, order_id="o1", line=Line("c", 1, 1)))
    peers.up(peer)
    again = await _logged(store, coordinator.checkout("o1"))
    assert again.txn_id != txn_id
    assert (again.decision, again.total) == (Decision.COMMIT, TOTAL + 1)
    assert (await _order(store)).paid


@pytest.mark.parametrize("peer", ["stock", "payment"])
async def test_an_unreachable_participant_aborts(store, peers, coordinator, peer):
    peers.down(peer)
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "DEPENDENCY_UNAVAILABLE"
    assert [commit for _, _, commit in peers.settles] == [False, False]
    assert not (await _order(store)).paid


async def test_a_participant_failing_unexpectedly_counts_as_unreachable(store, peers, coordinator):
    peers.reserve_error["stock"] = RuntimeError("connection reset")
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "DEPENDENCY_UNAVAILABLE"
    assert not (await _order(store)).paid


async def test_a_hanging_participant_aborts_at_its_deadline(store, coordinator, peers):
    peers.timeout_s = 0.05
    peers.reserve_delay["payment"] = 5.0
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "DEPENDENCY_UNAVAILABLE"
    assert sorted(peer for peer, _, commit in peers.settles if not commit) == ["payment", "stock"]
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (False, None)


def _stop_payment(peers: FakePeers) -> asyncio.Event:
    """Payment hangs (SIGSTOP): its reserves outlive the 0.2 s call timeout and its settles
    wait for the returned event (SIGCONT)."""
    peers.timeout_s = 0.2
    peers.reserve_delay["payment"] = 600.0
    stopped = peers.settle_gate["payment"] = asyncio.Event()
    return stopped


async def _continue_payment(coordinator, store, peers, stopped: asyncio.Event, txn_id: str):
    """SIGCONT: the cancel, durable in the log, reaches payment and the transaction ends."""
    stopped.set()
    await coordinator.settler.flush()
    assert peers.settled("payment") == [(txn_id, False)]
    assert (await _txn(store, txn_id)).finished


async def test_a_stopped_participant_does_not_hold_the_refusal_past_the_deadline(store, peers):
    """A participant that hangs (SIGSTOP) makes the reserve time out; the cancel to it hangs
    too. The client has its refusal by the checkout's deadline, and the cancel, durable in the
    log, reaches the participant once it answers again: nothing stays held."""
    coordinator = CheckoutCoordinator(store, peers, timeout_s=0.3, lease_s=10.0)
    stopped = _stop_payment(peers)
    # Far more than the deadline, far less than a hang: it answers, or it did not in time.
    error = await asyncio.wait_for(_refusal(coordinator.checkout("o1")), 3.0)
    assert error.reason == "DEPENDENCY_UNAVAILABLE"
    txn_id = peers.reserves[0][1]
    assert peers.settled("stock") == [(txn_id, False)]
    await _continue_payment(coordinator, store, peers, stopped, txn_id)
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (False, None)


async def test_a_refusal_does_not_wait_for_a_participant_that_did_not_answer(store, peers):
    """The reserve to a stopped participant times out: the refusal comes as soon as the
    participant that did answer has released what it held, not at the deadline, while the
    cancel to the stopped one still waits for it (and then reaches it)."""
    coordinator = CheckoutCoordinator(store, peers, timeout_s=60.0, lease_s=120.0)
    stopped = _stop_payment(peers)
    # Waiting for the stopped participant's cancel, or for the deadline, would take 60 s.
    error = await asyncio.wait_for(_refusal(coordinator.checkout("o1")), 10.0)
    assert error.reason == "DEPENDENCY_UNAVAILABLE"
    txn_id = peers.reserves[0][1]
    assert peers.settled("stock") == [(txn_id, False)]
    assert peers.settled("payment") == []
    await _continue_payment(coordinator, store, peers, stopped, txn_id)


@pytest.mark.parametrize(("refusing", "slow"), [("stock", "payment"), ("payment", "stock")])
async def test_a_refusal_waits_for_every_participant_that_answered(store, peers, refusing, slow):
    """A business refusal: both participants answered, so both cancels are in before the
    client reads the refusal, the slow one's too."""
    coordinator = CheckoutCoordinator(store, peers, timeout_s=60.0, lease_s=120.0)
    peers.refuse(refusing, "SAYS_NO")
    gate = peers.settle_gate[slow] = asyncio.Event()
    answer = asyncio.ensure_future(_refusal(coordinator.checkout("o1")))
    await asyncio.sleep(0.3)
    assert not answer.done()  # the slow participant's cancel is not in yet
    gate.set()
    error = await asyncio.wait_for(answer, 10.0)
    assert error.reason == "SAYS_NO"
    txn_id = peers.reserves[0][1]
    assert sorted(p for p, t, commit in peers.settles if t == txn_id and not commit) == [
        "payment",
        "stock",
    ]


@pytest.mark.parametrize(("down", "refusing"), [("stock", "payment"), ("payment", "stock")])
async def test_a_business_reason_beats_an_unreachable_participant(
    store, peers, coordinator, down, refusing
):
    peers.down(down)
    peers.refuse(refusing, "SAYS_NO")
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "SAYS_NO"
    txn_id = peers.reserves[0][1]
    assert (await _txn(store, txn_id)).refusal["reason"] == "SAYS_NO"


async def test_an_already_paid_order_calls_no_one(store, peers, coordinator):
    paid = await coordinator.checkout("paid")
    assert paid == Paid("paid", 3, "old")
    assert peers.reserves == peers.settles == []


async def test_checking_out_again_after_commit_charges_nothing_more(store, peers, coordinator):
    txn = await _logged(store, coordinator.checkout("o1"))
    again = await coordinator.checkout("o1")
    assert (again.txn_id, (await _order(store)).paid) == (txn.txn_id, True)
    assert len(peers.reserves) == 2 and len(peers.settles) == 2


async def test_an_unknown_order_is_not_found(peers, coordinator):
    error = await _refusal(coordinator.checkout("nope"))
    assert error.reason == "ORDER_NOT_FOUND"
    assert peers.reserves == []


# --- concurrent checkouts of one order ---


def _txn_id(result: Paid) -> str:
    assert isinstance(result, Paid)
    return result.txn_id


async def test_concurrent_checkouts_reserve_once_and_agree(store, peers, coordinator):
    peers.reserve_delay = {"stock": 0.05, "payment": 0.05}
    results = await asyncio.gather(*(coordinator.checkout("o1") for _ in range(5)))
    assert [peer for peer, *_ in peers.reserves] == ["stock", "payment"]
    txn_ids = {_txn_id(result) for result in results}
    assert txn_ids == {peers.reserves[0][1]}
    assert (await _order(store)).paid


async def test_concurrent_checkouts_refused_reserve_once_and_all_get_the_refusal(
    store, peers, coordinator
):
    peers.reserve_delay = {"stock": 0.05, "payment": 0.05}
    peers.refuse("payment", "INSUFFICIENT_CREDIT")
    results = await asyncio.gather(
        *(coordinator.checkout("o1") for _ in range(5)), return_exceptions=True
    )
    assert [peer for peer, *_ in peers.reserves] == ["stock", "payment"]
    assert [getattr(r, "reason", r) for r in results] == ["INSUFFICIENT_CREDIT"] * 5
    assert not (await _order(store)).paid


async def test_two_processes_on_one_file_charge_once(tmp_path: pathlib.Path):
    """Two coordinators, each with its own connection to the same order file (SQLite: the
    point is the file)."""
    store = order_sqlite.open_sqlite_store(tmp_path / "orders.db", "NORMAL")
    other_store = order_sqlite.open_sqlite_store(store.path, "NORMAL")
    await store.open()
    await other_store.open()
    await store.transact(_seed)
    try:
        peers_a, peers_b = FakePeers(), FakePeers()
        for peers in (peers_a, peers_b):
            peers.reserve_delay = {"stock": 0.05, "payment": 0.05}
        a = SettlingCoordinator(store, peers_a, timeout_s=5.0, lease_s=10.0)
        b = SettlingCoordinator(other_store, peers_b, timeout_s=5.0, lease_s=10.0)

        results = await asyncio.gather(
            *(coordinator.checkout("o1") for _ in range(3) for coordinator in (a, b))
        )

        credit = [r for r in peers_a.reserves + peers_b.reserves if r[0] == "payment"]
        assert len(credit) == 1
        assert {_txn_id(result) for result in results} == {credit[0][1]}
        assert (await _order(other_store)).paid
    finally:
        await other_store.close()
        await store.close()


async def test_a_refusal_is_answered_once_its_cancels_went_out(store, peers):
    """A refused checkout changes nothing, also for a client that looks at once."""
    coordinator = CheckoutCoordinator(store, peers, timeout_s=5.0, lease_s=10.0)
    peers.refuse("payment", "INSUFFICIENT_CREDIT")
    assert (await _refusal(coordinator.checkout("o1"))).reason == "INSUFFICIENT_CREDIT"
    txn_id = peers.reserves[0][1]
    assert peers.settled("stock") == peers.settled("payment") == [(txn_id, False)]
    assert (await _txn(store, txn_id)).finished


async def test_a_duplicate_checkout_answers_its_refusal_once_the_cancels_went_out(store, peers):
    """The request that waits on another's transaction answers no earlier than the one that
    decided it: by then both participants have released what it held."""
    coordinator = CheckoutCoordinator(store, peers, timeout_s=5.0, lease_s=10.0)
    peers.reserve_delay = {"stock": 0.05, "payment": 0.05}
    peers.refuse("payment", "INSUFFICIENT_CREDIT")
    cancels_sent_by_answer = []

    async def checkout_and_look() -> None:
        refusal = await _refusal(coordinator.checkout("o1"))
        assert refusal.reason == "INSUFFICIENT_CREDIT"
        cancels_sent_by_answer.append((len(peers.settled("stock")), len(peers.settled("payment"))))

    await asyncio.gather(*(checkout_and_look() for _ in range(3)))
    assert len(peers.reserves) == 2  # one transaction for all three requests
    assert all(stock >= 1 and payment >= 1 for stock, payment in cancels_sent_by_answer)


async def test_a_checkout_presuming_a_crashed_one_aborted_releases_its_holds_first(
    store, fast, clock
):
    """The crashed request had reserved on both; whoever presumes the abort cancels them
    before answering that nothing was taken."""
    coordinator, peers = fast
    await store.transact(_begin("crashed", "dead", timeout_s=0.1, lease_s=0.2, now=clock()))
    clock.advance(0.25)
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "CHECKOUT_TIMED_OUT"
    assert peers.settled("stock") == peers.settled("payment") == [("crashed", False)]
    assert (await _txn(store, "crashed")).finished


async def test_an_order_stored_with_too_many_units_is_refused_alone(store, peers, coordinator):
    """An order from before lines were bounded is refused before anything is reserved, and
    the checkouts logged in the same batch go through."""
    big = Order("big", "u", lines=[Line("a", MAX_INT32, 0), Line("a", MAX_INT32, 0)])
    await store.transact(lambda repo: repo.put_many(iter([big])))

    big_result, o1 = await asyncio.gather(
        coordinator.checkout("big"), coordinator.checkout("o1"), return_exceptions=True
    )
    assert getattr(big_result, "reason", big_result) == "QUANTITY_OVERFLOW"
    assert isinstance(o1, Paid)
    assert [txn_id for _, txn_id, *_ in peers.reserves] == [o1.txn_id] * 2
    assert (await _order(store, "big")).checkout_txn is None


async def test_an_order_overwritten_mid_checkout_is_not_marked_paid_by_the_old_txn(
    store, peers, coordinator
):
    """batch_init replaces order "o1" while its checkout reserves: the old transaction aborts
    (ORDER_CHANGED) and cancels, and the new order is left unpaid and unlocked."""
    peers.gate = asyncio.Event()
    checking_out = asyncio.ensure_future(coordinator.checkout("o1"))
    await peers.reserving.wait()
    replacement = Order("o1", "someone-else", lines=[Line("z", 1, 1)])
    await store.transact(partial(orders.load_orders, batch=[replacement]))
    peers.gate.set()

    error = await _refusal(checking_out)

    assert error.reason == "ORDER_CHANGED"
    txn_id = peers.reserves[0][1]
    assert peers.settled("stock") == peers.settled("payment") == [(txn_id, False)]
    order = await _order(store)
    assert (order.user_id, order.paid, order.checkout_txn) == ("someone-else", False, None)


class FailingLog:
    """The order store, whose batched log writes fail `failures` times once armed (a disk
    error, a Spanner deadline): what the decision meets if the store falters after BEGIN."""

    def __init__(self, store: OrderStore) -> None:
        self._store = store
        self.failures = 0

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    async def transact_each(self, works: list) -> list:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return await self._store.transact_each(works)


async def _checkout_with_failing_decision(store, peers, failures: int):
    failing = FailingLog(store)
    coordinator = CheckoutCoordinator(failing, peers, timeout_s=0.5, lease_s=10.0)
    peers.gate = asyncio.Event()
    checking_out = asyncio.ensure_future(coordinator.checkout("o1"))
    await peers.reserving.wait()
    failing.failures = failures
    peers.gate.set()
    return await asyncio.gather(checking_out, return_exceptions=True)


async def test_a_decision_the_store_fails_to_log_at_first_is_logged_again(store, peers):
    [paid] = await _checkout_with_failing_decision(store, peers, failures=2)
    assert (await _txn(store, paid.txn_id)).decision is Decision.COMMIT
    assert (await _order(store)).paid


async def test_a_decision_that_cannot_be_logged_says_so_and_leaves_the_holds_to_recovery(
    store, peers
):
    [error] = await _checkout_with_failing_decision(store, peers, failures=1000)
    assert error.reason == "CHECKOUT_UNDECIDED"
    assert "nothing" not in error.message
    txn = await _txn(store, peers.reserves[0][1])
    assert txn.decision is None  # recovery presumes abort once the lease has run out
    assert peers.settles == []  # no participant was told anything it could regret
    assert not (await _order(store)).paid


# --- phase two failing, and recovery ---


async def test_settle_failing_leaves_the_txn_unfinished_but_answers(store, peers, coordinator):
    peers.settle_error["payment"] = Aborted("DEPENDENCY_UNAVAILABLE", "payment is down")
    txn = await _logged(store, coordinator.checkout("o1"))
    assert txn.decision is Decision.COMMIT
    assert (await _order(store)).paid
    logged = await _txn(store, txn.txn_id)
    assert (logged.stock_done, logged.payment_done, logged.finished) == (True, False, False)


async def test_recovery_resends_commit_after_the_lease_expires(store, fast, clock):
    coordinator, peers = fast
    peers.settle_error["payment"] = Aborted("DEPENDENCY_UNAVAILABLE", "payment is down")
    txn = await _logged(store, coordinator.checkout("o1"))
    assert len(peers.settles) == 2
    # The request handed the unfinished transaction over (a retry event, lease released).
    assert await coordinator.recover_once() == 1  # still down: resent, still unfinished
    assert peers.settled("stock") == [(txn.txn_id, True)]
    assert peers.settled("payment") == [(txn.txn_id, True)] * 2
    assert not (await _txn(store, txn.txn_id)).finished

    peers.up("payment")
    clock.advance(PAST_THE_LEASE_S)  # recovery took a lease of its own
    assert await coordinator.recover_once() == 1
    assert peers.settled("stock") == [(txn.txn_id, True)]  # stock had acknowledged already
    assert peers.settled("payment") == [(txn.txn_id, True)] * 3
    assert (await _txn(store, txn.txn_id)).finished
    assert (await _order(store)).paid

    clock.advance(PAST_THE_LEASE_S)
    assert await coordinator.recover_once() == 0
    assert len(peers.settles) == 4


async def test_recovery_resends_cancel_after_an_abort(store, fast, clock):
    coordinator, peers = fast
    peers.refuse("stock", "INSUFFICIENT_STOCK")
    peers.settle_error["stock"] = Aborted("DEPENDENCY_UNAVAILABLE", "stock is down")
    error = await _refusal(coordinator.checkout("o1"))
    assert error.reason == "INSUFFICIENT_STOCK"
    txn_id = peers.reserves[0][1]

    peers.up("stock")
    clock.advance(PAST_THE_LEASE_S)
    assert await coordinator.recover_once() == 1
    assert peers.settled("stock") == [(txn_id, False)] * 2
    assert peers.settled("payment") == [(txn_id, False)]
    assert (await _txn(store, txn_id)).finished
    assert not (await _order(store)).paid


async def test_recovery_sends_many_decisions_in_one_call_per_participant(store, fast, clock):
    coordinator, peers = fast
    calls = []
    settle_many = peers.settle_many

    async def counting(peer, decisions):
        calls.append((peer, len(decisions)))
        return await settle_many(peer, decisions)

    peers.settle_many = counting
    order_ids = [f"crashed-{n}" for n in range(20)]
    await store.transact(
        lambda repo: repo.put_many(iter(Order(o, "u", lines=[Line("a", 1, 3)]) for o in order_ids))
    )
    for n, order_id in enumerate(order_ids):
        # Begun by a process that died before its reserves: overdue, so presumed aborted.
        await store.transact(
            _begin(f"t{n}", "dead", timeout_s=0.0, lease_s=0.0, order_id=order_id, now=clock())
        )
    clock.advance(0.01)

    assert await coordinator.recover_once() == 20
    assert sorted(calls) == [("payment", 20), ("stock", 20)]
    assert sorted(peers.settled("stock")) == sorted((f"t{n}", False) for n in range(20))
    assert all([(await _txn(store, f"t{n}")).finished for n in range(20)])


async def test_recovery_presumes_abort_of_an_undecided_txn_past_its_deadline(store, fast, clock):
    coordinator, peers = fast
    await store.transact(_begin("crashed", "dead", timeout_s=0.5, lease_s=1.0, now=clock()))
    assert await coordinator.recover_once() == 0  # the dead process's lease still runs
    assert await coordinator.outcome("crashed") is None

    clock.advance(1.1)
    assert await coordinator.recover_once() == 1
    assert peers.settled("stock") == peers.settled("payment") == [("crashed", False)]
    txn = await _txn(store, "crashed")
    assert (txn.decision, txn.refusal["reason"], txn.finished) == (
        Decision.ABORT,
        "CHECKOUT_TIMED_OUT",
        True,
    )
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (False, None)
    assert peers.reserves == []


async def test_a_checkout_waiting_on_a_crashed_one_gets_its_timeout(store, fast, clock):
    coordinator, peers = fast
    await store.transact(_begin("crashed", "dead", timeout_s=0.1, lease_s=0.2, now=clock()))
    waiting = asyncio.ensure_future(coordinator.checkout("o1"))
    await asyncio.sleep(0.05)  # it follows the crashed transaction while the lease runs
    assert not waiting.done()
    clock.advance(0.25)
    error = await _refusal(waiting)
    assert error.reason == "CHECKOUT_TIMED_OUT"
    assert peers.reserves == []
    # ... and then the order is free for a new checkout.
    txn = await _logged(store, coordinator.checkout("o1"))
    assert txn.txn_id != "crashed" and (await _order(store)).paid


# --- outcome: what a participant asking about a stale reservation hears ---


async def test_outcome_of_an_unknown_txn_is_abort(store, coordinator):
    assert await coordinator.outcome("never-heard-of") is Decision.ABORT
    assert await _txn(store, "never-heard-of") is None


async def test_outcome_of_an_undecided_txn_is_pending_then_a_durable_abort(store, fast, clock):
    coordinator, _ = fast
    await store.transact(_begin("t1", "other", timeout_s=0.5, lease_s=10.0, now=clock()))
    assert await coordinator.outcome("t1") is None
    assert (await _order(store)).checkout_txn == "t1"

    clock.advance(0.6)
    assert await coordinator.outcome("t1") is Decision.ABORT
    txn = await _txn(store, "t1")
    assert (txn.decision, txn.refusal["reason"]) == (Decision.ABORT, "CHECKOUT_TIMED_OUT")
    order = await _order(store)
    assert (order.paid, order.checkout_txn) == (False, None)
    # The first decision wins: the slow request cannot commit it any more.
    late = await store.transact(partial(checkout.decide, txn_id="t1", decision=Decision.COMMIT))
    assert late.decision is Decision.ABORT
    assert not (await _order(store)).paid


async def test_outcome_refuses_a_bad_txn_id(coordinator):
    error = await _refusal(coordinator.outcome(""))
    assert error.reason == "INVALID_ID"


# --- the lease ---


async def test_only_the_lease_holder_may_claim_the_txn(store):
    await store.transact(_begin("t1", owner="first", timeout_s=1.0, lease_s=10.0))
    now = time.time()

    def claim(owner, at):
        return store.transact(
            partial(checkout.claim, txn_id="t1", owner=owner, now=at, lease_s=10.0)
        )

    assert await claim("second", now) is None
    assert (await claim("first", now)).lease_owner == "first"
    taken = await claim("second", now + 11)  # after the lease expired
    assert (taken.lease_owner, taken.lease_until) == ("second", now + 21)
    assert await claim("first", now + 12) is None
    assert (
        await store.transact(
            partial(checkout.claim, txn_id="nope", owner="x", now=now, lease_s=1.0)
        )
        is None
    )


async def test_a_finished_txn_cannot_be_claimed(store, coordinator):
    txn = await _logged(store, coordinator.checkout("o1"))
    claimed = await store.transact(
        partial(checkout.claim, txn_id=txn.txn_id, owner="x", now=time.time() + 100, lease_s=1)
    )
    assert claimed is None


# --- the order is locked while its checkout is in progress ---


CHANGES = {
    "add_item": partial(orders.add_item, order_id="o1", line=Line("c", 1, 1)),
    "remove_item": partial(orders.remove_item, order_id="o1", item_id="a"),
    "delete_order": partial(orders.delete_order, order_id="o1"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
async def test_an_order_cannot_change_while_checking_out(store, peers, coordinator, change):
    peers.gate = asyncio.Event()
    checking_out = asyncio.create_task(coordinator.checkout("o1"))
    await peers.reserving.wait()

    error = await _refusal(store.transact(change))
    assert error.reason == "CHECKOUT_IN_PROGRESS"

    peers.gate.set()
    txn = await checking_out
    assert (txn.total_cost, (await _order(store)).total_cost) == (TOTAL, TOTAL)
    error = await _refusal(store.transact(change))
    assert error.reason == "ORDER_ALREADY_PAID"


# --- a short lease, renewed while the owner lives (any host) ---


def _replicas(store, clock) -> tuple[CheckoutCoordinator, FakePeers, CheckoutCoordinator]:
    """Two coordinators on one store with short (3 s) leases, a 5 s deadline and a long (10 s)
    recovery lease; the first one's payment reserve waits for its peers' gate."""
    first_peers, second_peers = FakePeers(), FakePeers()
    first_peers.gate = asyncio.Event()
    make = partial(CheckoutCoordinator, store, timeout_s=5.0, lease_s=10.0, clock=clock)
    first, second = make(first_peers, live_lease_s=3.0), make(second_peers, live_lease_s=3.0)
    return first, first_peers, second


async def test_a_retry_takes_over_from_a_silent_owner_once_its_short_lease_ran_out(store, clock):
    first, first_peers, second = _replicas(store, clock)
    stuck = asyncio.ensure_future(first.checkout("o1"))  # its process dies mid-checkout
    await first_peers.reserving.wait()
    clock.advance(1.0)
    retry = asyncio.ensure_future(second.checkout("o1"))
    await asyncio.sleep(0.1)
    assert not retry.done()  # the owner's lease still runs: it may be alive
    clock.advance(2.1)  # past the short lease, long before the 10 s one and the deadline
    paid = await asyncio.wait_for(retry, 3.0)
    assert paid.total_cost == TOTAL and (await _order(store)).paid
    first_peers.gate.set()  # a wrongly-presumed-dead owner only reads the abort back
    assert (await _refusal(stuck)).reason == "CHECKOUT_TIMED_OUT"
    assert (await _order(store)).checkout_txn == paid.txn_id


async def test_an_owner_that_renews_its_lease_keeps_its_checkout(store, clock):
    first, first_peers, second = _replicas(store, clock)
    under_way = asyncio.ensure_future(first.checkout("o1"))
    await first_peers.reserving.wait()
    clock.advance(2.0)
    await first.renew_leases()  # alive: renewed to 3 s from now
    clock.advance(2.0)
    retry = asyncio.ensure_future(second.checkout("o1"))
    await asyncio.sleep(0.1)
    assert not retry.done()
    first_peers.gate.set()
    paid = await asyncio.wait_for(under_way, 3.0)
    assert await asyncio.wait_for(retry, 3.0) == paid  # the repeat answers the first outcome


async def test_recovery_aborts_a_silent_owners_checkout_once_its_short_lease_ran_out(store, clock):
    first, first_peers, second = _replicas(store, clock)
    stuck = asyncio.ensure_future(first.checkout("o1"))  # its process dies mid-checkout
    await first_peers.reserving.wait()
    (txn_id,) = {txn_id for _, txn_id, *_ in first_peers.reserves}
    assert await second.recover_once() == 0  # the owner's lease still runs: it may be alive
    clock.advance(3.1)  # past the short lease, long before the 10 s one and the deadline
    assert await second.recover_once() == 1
    # Aborted now, not at the deadline: what it holds is released at once ...
    second_peers = second._peers
    assert second_peers.settled("stock") == second_peers.settled("payment") == [(txn_id, False)]
    txn = await _txn(store, txn_id)
    assert (txn.decision, txn.refusal["reason"], txn.finished) == (
        Decision.ABORT,
        "CHECKOUT_TIMED_OUT",
        True,
    )
    # ... and the client's retry checks out afresh instead of answering that abort.
    paid = await asyncio.wait_for(second.checkout("o1"), 3.0)
    assert paid.txn_id != txn_id and (await _order(store)).paid
    first_peers.gate.set()  # a wrongly-presumed-dead owner only reads the abort back
    assert (await _refusal(stuck)).reason == "CHECKOUT_TIMED_OUT"


async def test_a_retry_event_for_a_checkout_this_process_drives_does_not_abort_it(store, clock):
    first, first_peers, _ = _replicas(store, clock)
    under_way = asyncio.ensure_future(first.checkout("o1"))
    await first_peers.reserving.wait()
    (txn_id,) = {txn_id for _, txn_id, *_ in first_peers.reserves}
    clock.advance(3.1)  # its own short lease ran out (not renewed here), its owner is alive
    assert await first.redrive(txn_id) is False  # undecided: nothing to resend yet
    first_peers.gate.set()
    paid = await asyncio.wait_for(under_way, 3.0)
    assert paid.txn_id == txn_id and (await _order(store)).paid
