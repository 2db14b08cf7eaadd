"""Checkout's phase two off the request path (`order_svc.settler.Settler`): decided
transactions go out to the participants in batches, acknowledgements land in the (in-memory)
order store, and whatever was not acknowledged is handed over to the retry worker/recovery."""

import asyncio
import time
from collections.abc import AsyncIterator
from functools import partial

import pytest
from doubles import FakePeers

from order_svc import checkout
from order_svc.checkout import CheckoutTxn, Decision
from order_svc.orders import Line, Order
from order_svc.settler import Settler, Undelivered
from order_svc.store import OrderStore
from shopmesh.errors import Aborted, FailedPrecondition
from shopmesh.events.outbox import RETRY

# The request's lease: long enough that only a hand-over can have given it up in a test.
LEASE_S = 60.0


class BatchPeers(FakePeers):
    """FakePeers that also records every Settle call as (peer, its decisions),
    can hold every such call until `release` is set, and can refuse one transaction's
    decision at one participant (a per-settlement refusal_reason, the call itself succeeds)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, list[tuple[str, bool]]]] = []
        self.called = asyncio.Event()
        self.release: asyncio.Event | None = None
        self.refusals: dict[tuple[str, str], str] = {}

    async def settle_many(self, peer: str, decisions: list[tuple[str, bool]]) -> dict[str, str]:
        self.calls.append((peer, list(decisions)))
        self.called.set()
        if self.release is not None:
            await self.release.wait()
        return await super().settle_many(peer, decisions)

    async def settle(self, peer: str, txn_id: str, commit: bool) -> None:
        await super().settle(peer, txn_id, commit)
        reason = self.refusals.get((peer, txn_id))
        if reason:
            raise FailedPrecondition(reason, f"{peer} refuses {txn_id}")

    def calls_to(self, peer: str) -> list[list[tuple[str, bool]]]:
        return [decisions for p, decisions in self.calls if p == peer]


@pytest.fixture
def store(order_store: OrderStore) -> OrderStore:
    """The order store, in memory."""
    return order_store


@pytest.fixture
def peers() -> BatchPeers:
    return BatchPeers()


@pytest.fixture
async def settler(store: OrderStore, peers: BatchPeers) -> AsyncIterator[Settler]:
    """A Settler with `run` in the background, as the order service runs it."""
    settler = Settler(store, peers)
    running = asyncio.create_task(settler.run(stop_grace_s=2.0))
    await asyncio.sleep(0)  # run() is waiting for work
    yield settler
    if peers.release is not None:
        peers.release.set()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await settler.flush()


async def _decided(
    store: OrderStore, txn_ids: list[str], decision: Decision = Decision.COMMIT
) -> list[CheckoutTxn]:
    """One order per transaction (1 of "a" at 3, user "u"), each begun and decided as the
    request does, so what the Settler gets is what the coordinator submits."""

    def work(repo) -> list[CheckoutTxn]:
        txns = []
        for txn_id in txn_ids:
            order_id = f"order-of-{txn_id}"
            repo.put(Order(order_id, "u", lines=[Line("a", 1, 3)]))
            checkout.begin(
                repo, order_id, txn_id, time.time(), timeout_s=5.0, owner="req", lease_s=LEASE_S
            )
            refusal = None if decision is Decision.COMMIT else {"reason": "INSUFFICIENT_STOCK"}
            txns.append(checkout.decide(repo, txn_id, decision, refusal))
        return txns

    return await store.transact(work)


async def _txns(store: OrderStore, txn_ids: list[str]) -> dict[str, CheckoutTxn]:
    return await store.read(lambda repo: {txn_id: repo.get_txn(txn_id) for txn_id in txn_ids})


async def _retries(store: OrderStore) -> list[str]:
    """The transactions a retry event was published for (still in the outbox)."""
    rows = await store.read(lambda repo: repo.pending_events(100_000))
    return sorted(row.key for _, row in rows if row.topic == RETRY)


async def _recoverable(store: OrderStore) -> list[str]:
    """What recovery would take over right now."""
    return sorted(await store.read(lambda repo: repo.unfinished_txns(time.time(), 1000)))


def _ids(n: int, prefix: str = "t") -> list[str]:
    return [f"{prefix}{i:02}" for i in range(n)]


# --- batching ---------------------------------------------------------------------------


async def test_many_decisions_go_out_in_a_few_calls(store, peers, settler):
    txn_ids = _ids(50)
    txns = await _decided(store, txn_ids)
    peers.release = asyncio.Event()

    settler.settle(txns[0], Undelivered.HAND_OVER)
    await peers.called.wait()  # the first batch is out and the participants are slow
    for txn in txns[1:]:
        settler.settle(txn, Undelivered.HAND_OVER)
        await asyncio.sleep(0)  # each request answers its client in between
    peers.release.set()
    await settler.flush()

    for peer in ("stock", "payment"):
        calls = peers.calls_to(peer)
        assert len(calls) <= 3, [len(decisions) for decisions in calls]
        sent = sorted(txn_id for decisions in calls for txn_id, _ in decisions)
        assert sent == txn_ids  # each decision once
        assert all(commit for decisions in calls for _, commit in decisions)
    logged = await _txns(store, txn_ids)
    assert [txn_id for txn_id, txn in logged.items() if not txn.finished] == []
    assert await _retries(store) == []


async def test_submit_returns_at_once_while_the_participants_are_slow(store, peers, settler):
    [txn] = await _decided(store, ["t1"])
    peers.release = asyncio.Event()
    settler.settle(txn, Undelivered.HAND_OVER)
    await peers.called.wait()
    assert not (await _txns(store, ["t1"]))["t1"].finished

    peers.release.set()
    await settler.flush()
    assert (await _txns(store, ["t1"]))["t1"].finished


async def test_commits_linger_for_company_and_a_cancel_takes_them_along_at_once(
    store, peers, monkeypatch
):
    """Nobody waits for a commit: its batch lingers. A refusal waits for its cancel: the
    cancel goes out at once, with the commits queued before it."""
    monkeypatch.setattr("order_svc.settler.LINGER_S", 60.0)
    settler = Settler(store, peers)
    committed = await _decided(store, ["c1", "c2"])
    [aborted] = await _decided(store, ["a1"], Decision.ABORT)
    for txn in committed:
        settler.settle(txn, Undelivered.HAND_OVER)
    await asyncio.sleep(0.05)
    assert peers.calls == []  # lingering: nothing sent yet

    cancels = settler.send(aborted, Undelivered.HAND_OVER)
    assert await asyncio.wait_for(cancels.recorded, timeout=30)
    for peer in ("stock", "payment"):
        assert peers.calls_to(peer) == [[("c1", True), ("c2", True), ("a1", False)]]
    await settler.flush()


# --- acknowledgements -------------------------------------------------------------------


async def test_acknowledged_decisions_finish_their_transactions(store, peers, settler):
    commits = await _decided(store, _ids(3, "c"))
    aborts = await _decided(store, _ids(2, "x"), Decision.ABORT)
    for txn in commits + aborts:
        settler.settle(txn, Undelivered.HAND_OVER)
    await settler.flush()

    expected = sorted([(t.txn_id, True) for t in commits] + [(t.txn_id, False) for t in aborts])
    assert sorted(peers.settled("stock")) == sorted(peers.settled("payment")) == expected
    logged = await _txns(store, [t.txn_id for t in commits + aborts])
    assert {(t.stock_done, t.payment_done, t.finished) for t in logged.values()} == {
        (True, True, True)
    }
    assert await _retries(store) == []
    assert await _recoverable(store) == []
    paid = await store.read(lambda repo: [repo.get(f"order-of-{t.txn_id}").paid for t in commits])
    assert paid == [True] * 3


async def test_answers_from_both_participants_in_one_turn_record_the_decision_once(
    store, peers, settler
):
    """Both deliveries finish in the same turn of the loop: the acknowledgements are recorded
    (and an undelivered decision handed over, one retry event) once, not once per answer."""
    txn_ids = _ids(3)
    txns = await _decided(store, txn_ids, Decision.ABORT)
    peers.down("stock", settle_too=True)
    peers.down("payment", settle_too=True)
    recording = []
    record = settler._record

    async def spy(batch):
        recording.extend(txn.txn_id for txn, _, _ in batch)
        return await record(batch)

    settler._records._run_batch = spy
    sent = [settler.send(txn, Undelivered.HAND_OVER) for txn in txns]
    assert await asyncio.wait_for(asyncio.gather(*(s.recorded for s in sent)), 30) == [False] * 3
    assert sorted(recording) == txn_ids
    assert await _retries(store) == txn_ids


# --- what is not acknowledged is handed over --------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        Aborted("DEPENDENCY_UNAVAILABLE", "payment did not answer", service="payment"),
        RuntimeError("connection reset"),
    ],
    ids=["unavailable", "unexpected"],
)
async def test_a_participant_down_hands_every_txn_over(store, peers, settler, failure):
    txn_ids = _ids(3)
    txns = await _decided(store, txn_ids)
    peers.settle_error["payment"] = failure
    for txn in txns:
        settler.settle(txn, Undelivered.HAND_OVER)
    await settler.flush()

    logged = await _txns(store, txn_ids)
    for txn in logged.values():
        # Stock applied the decision, payment did not: a retry event, and the lease is free.
        assert (txn.stock_done, txn.payment_done, txn.finished) == (True, False, False)
        assert txn.lease_until == 0.0
        assert txn.decision is Decision.COMMIT
    assert await _retries(store) == txn_ids
    assert await _recoverable(store) == txn_ids
    # The client's answer stands: the orders are paid.
    assert (
        await store.read(lambda repo: [repo.get(f"order-of-{i}").paid for i in txn_ids])
        == [True] * 3
    )


async def test_a_refusal_of_one_txn_leaves_only_that_one_unacknowledged(store, peers, settler):
    txn_ids = _ids(3)
    txns = await _decided(store, txn_ids)
    peers.refusals[("stock", "t01")] = "TRANSACTION_CANCELLED"
    for txn in txns:
        settler.settle(txn, Undelivered.HAND_OVER)
    await settler.flush()

    logged = await _txns(store, txn_ids)
    assert [(t.stock_done, t.payment_done, t.finished) for t in logged.values()] == [
        (True, True, True),
        (False, True, False),
        (True, True, True),
    ]
    assert logged["t01"].lease_until == 0.0
    assert min(logged["t00"].lease_until, logged["t02"].lease_until) > time.time()
    assert await _retries(store) == ["t01"]
    assert await _recoverable(store) == ["t01"]
    # One call per participant carried all three: the refusal did not fail the call.
    assert [len(decisions) for _, decisions in peers.calls] == [3, 3]


async def test_a_handed_over_txn_is_resent_only_where_unacknowledged(store, peers):
    """A transaction submitted again (e.g. re-driven) with stock already acknowledged."""
    settler = Settler(store, peers)
    [txn] = await _decided(store, ["t1"])
    txn.stock_done = True
    await store.transact(partial(checkout.acknowledge, txn_id="t1", stock=True, payment=False))

    settler.settle(txn, Undelivered.HAND_OVER)
    await settler.flush()

    assert [peer for peer, _ in peers.calls] == ["payment"]
    assert (await _txns(store, ["t1"]))["t1"].finished


# --- settle: recovery and the retry worker wait, and keep their lease -------------------


async def test_settle_answers_whether_the_txn_finished(store, peers, settler):
    txns = await _decided(store, _ids(2))
    peers.refusals[("payment", "t01")] = "TRANSACTION_CANCELLED"
    assert await asyncio.gather(*(settler.settle(txn, Undelivered.KEEP) for txn in txns)) == [
        True,
        False,
    ]
    # Both went out together.
    assert [len(decisions) for _, decisions in peers.calls] == [2, 2]


async def test_an_undelivered_settle_keeps_its_lease_and_publishes_no_retry(store, peers, settler):
    """Recovery resends on its next pass, and the retry worker backs off and resends: handing
    over again would publish a new retry event (and start a new retry loop) every time."""
    [txn] = await _decided(store, ["t1"])
    peers.settle_error["payment"] = Aborted("DEPENDENCY_UNAVAILABLE", "payment is down")
    assert await settler.settle(txn, Undelivered.KEEP) is False
    logged = (await _txns(store, ["t1"]))["t1"]
    assert (logged.stock_done, logged.payment_done) == (True, False)
    assert logged.lease_until > time.time()
    assert await _retries(store) == []

    peers.settle_error["payment"] = None
    logged.stock_done = True
    assert await settler.settle(logged, Undelivered.KEEP) is True
    assert [peer for peer, _ in peers.calls] == ["stock", "payment", "payment"]


# --- stopping ---------------------------------------------------------------------------


async def test_cancelling_run_flushes_what_is_queued(store, peers):
    settler = Settler(store, peers)
    running = asyncio.create_task(settler.run(stop_grace_s=5.0))
    await asyncio.sleep(0)
    txn_ids = _ids(5)
    for txn in await _decided(store, txn_ids):
        settler.settle(txn, Undelivered.HAND_OVER)
    running.cancel()  # before run() took any of them

    with pytest.raises(asyncio.CancelledError):
        await running

    assert all(txn.finished for txn in (await _txns(store, txn_ids)).values())
    assert sorted(peers.settled("stock")) == [(txn_id, True) for txn_id in txn_ids]
    assert await _retries(store) == []


async def test_cancelling_run_waits_for_the_batch_underway_and_the_queue(store, peers):
    settler = Settler(store, peers)
    running = asyncio.create_task(settler.run(stop_grace_s=5.0))
    txns = await _decided(store, _ids(6))
    peers.release = asyncio.Event()
    settler.settle(txns[0], Undelivered.HAND_OVER)
    await peers.called.wait()  # t00 is out, the participants have not answered
    for txn in txns[1:]:
        settler.settle(txn, Undelivered.HAND_OVER)
    running.cancel()
    await asyncio.sleep(0.1)
    assert not running.done()  # still flushing
    peers.release.set()

    with pytest.raises(asyncio.CancelledError):
        await running

    logged = await _txns(store, _ids(6))
    assert [t.txn_id for t in logged.values() if not t.finished] == []


async def test_stopping_gives_up_after_the_grace_period(store, peers):
    """Participants that never answer do not keep the process from stopping; what was not
    acknowledged stays unfinished, for recovery once the request's lease runs out."""
    settler = Settler(store, peers)
    running = asyncio.create_task(settler.run(stop_grace_s=0.3))
    txns = await _decided(store, _ids(2))
    peers.release = asyncio.Event()
    for txn in txns:
        settler.settle(txn, Undelivered.HAND_OVER)
    await peers.called.wait()
    started = time.monotonic()
    running.cancel()

    with pytest.raises(asyncio.CancelledError):
        await running

    assert time.monotonic() - started < 2.0
    assert not any(t.finished for t in (await _txns(store, _ids(2))).values())
    peers.release.set()
    await settler.flush()  # the batch still underway lands before the store closes
