"""Checkout as a two-phase reserve/commit transaction across stock and payment.

    begin (log txn, lock order) -> reserve on both, in parallel, with a deadline
    -> decide (log decision; order paid on commit) -> answer a commit
    -> commit/cancel on both, batched with other transactions (order_svc.settler) -> acknowledge
    -> answer an abort (so that a refusal has released what it held when the client reads it)

The durable log (`order_svc.checkout`) makes every step resumable: recovery, on start and
periodically, finishes every transaction whose lease has expired: undecided ones past their
deadline abort (presumed abort), decided ones get their commit/cancel resent until both
participants acknowledge. A lease in the store lets only one process drive a transaction.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, TypeVar

from order_svc import checkout, orphans
from order_svc.checkout import (
    AlreadyPaid,
    Checkouts,
    CheckoutTxn,
    Decision,
    Paid,
    Started,
    UnderWay,
)
from order_svc.checkout_peers import CheckoutPeers
from order_svc.settler import PARTICIPANTS, Sending, Settler, Undelivered
from order_svc.store import OrderStore
from shopmesh import faults
from shopmesh.batching import Batcher, in_this_context
from shopmesh.errors import Aborted, ShopError, error_from_dict, error_to_dict
from shopmesh.telemetry import tracing
from shopmesh.telemetry.metrics import recovery_action
from shopmesh.validation import require_id

log = logging.getLogger(__name__)
T = TypeVar("T")
RECOVERY_BATCH = 200


class CheckoutCoordinator:
    def __init__(
        self,
        store: OrderStore,
        peers: CheckoutPeers,
        *,
        timeout_s: float,
        lease_s: float,
        poll_s: float = 0.01,
        clock: Callable[[], float] = time.time,
        live_lease_s: float | None = None,
    ) -> None:
        self._store = store
        self._peers = peers
        self._clock = clock
        self._timeout_s = timeout_s
        # The request holds the lease past its deadline long enough to send its decision.
        self._lease_s = max(lease_s, timeout_s + 2 * peers.timeout_s)
        # With `live_lease_s` the request path's lease is that short one instead, renewed
        # while this process drives the transaction (run_lease_renewal): a dead owner is
        # known on any host once it runs out (docs/checkout.md, "a dead owner").
        self._live_lease_s = live_lease_s
        self._driving: set[str] = set()
        self._poll_s = poll_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Phase two of the request path; run `settler.run` in the background.
        self.settler = Settler(store, peers)
        # The request path's log writes and reserves go out in natural batches (see
        # shopmesh.batching): one commit, or one call per participant, for many checkouts.
        self._log_writes: Batcher[Callable[[Checkouts], Any], Any] = Batcher(store.transact_each)
        # With tracing on, a batch's span links every checkout it serves.
        self._stock_reserves = Batcher(
            self._reserve_stock_batch, scope=tracing.LinkedBatch("reserve stock batch")
        )
        self._credit_reserves = Batcher(
            self._reserve_credit_batch, scope=tracing.LinkedBatch("reserve credit batch")
        )

    async def checkout(self, order_id: str) -> Paid:
        """Pay for the order (or find it paid already); a refusal is raised as a ShopError."""
        require_id(order_id, "order_id")
        # Shielded: a client that hangs up must not stop a transaction half way. Its outcome
        # then has no reader: retrieve it, so that a refusal is not logged as an error.
        work = asyncio.ensure_future(self._checkout(order_id))
        work.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(work)

    async def _checkout(self, order_id: str) -> Paid:
        begun = await self._log(
            partial(
                checkout.begin,
                order_id=order_id,
                # Random, not shopmesh.ids: a Spanner primary key must not grow in order.
                txn_id=str(uuid.uuid4()),
                now=self._clock(),
                timeout_s=self._timeout_s,
                owner=self.owner,
                lease_s=self._live_lease_s or self._lease_s,
                trace_parent=tracing.traceparent(),
            )
        )
        match begun:
            case AlreadyPaid(order):
                return Paid(order.order_id, order.total_cost, order.checkout_txn or "")
            case UnderWay(txn_id):
                found = await self._await_decision(txn_id)
                if orphans.check_out_anew(found):  # its coordinator died undecided
                    return await self._checkout(order_id)
                return self._answer(found)
            case Started(txn):
                self._driving.add(txn.txn_id)
                try:
                    return self._answer(await self._run(txn))
                finally:
                    self._driving.discard(txn.txn_id)
        raise AssertionError(f"begin answered {begun!r}")

    async def _run(self, txn: CheckoutTxn) -> CheckoutTxn:
        """Reserve, decide, and send the decision: a commit after the answer, a cancel before
        (a refusal has released what it held, or handed it over, when the client reads it)."""
        refusal, answered = await self._reserve(txn)
        faults.crash_point("checkout.before_decision")
        txn = await self._decide(txn, refusal)
        faults.crash_point("checkout.after_decision")
        sending = self.settler.send(txn, Undelivered.HAND_OVER)
        if txn.decision is Decision.ABORT:
            await self._released(sending, answered, txn)
        return txn

    async def _released(self, sending: Sending, answered: list[str], txn: CheckoutTxn) -> None:
        """Wait for the cancels of the participants that answered their reserve, but not past
        the checkout's deadline. One that did not answer (stopped, partitioned, overloaded) is
        not waited for: what it may hold is released when the cancel reaches it, and the
        settler goes on sending it (logged already) and hands it over if undelivered."""
        cancels = [sending.delivered[peer] for peer in answered]
        if cancels:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(asyncio.gather(*cancels, return_exceptions=True)),
                    max(0.0, txn.deadline - self._clock()),
                )

    async def _decide(self, txn: CheckoutTxn, refusal: dict | None) -> CheckoutTxn:
        """Log the decision; a store that fails is tried again (deciding is idempotent: the
        first decision recorded wins) until the request's deadline. If it never succeeds the
        outcome is not knowable here: what is held stays held until recovery presumes abort
        once the lease runs out, and the client is told exactly that."""
        decision = Decision.COMMIT if refusal is None else Decision.ABORT
        decide = partial(checkout.decide, txn_id=txn.txn_id, decision=decision, refusal=refusal)
        delay = 0.05
        while True:
            try:
                return await self._log(decide)
            except ShopError:
                raise
            except Exception as error:
                if self._clock() + delay > txn.deadline:
                    log.error("could not log the decision of %s: %r", txn.txn_id, error)
                    raise _undecided(txn, self._lease_s) from error
                log.warning("logging the decision of %s failed (%r); again", txn.txn_id, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _log(self, work: Callable[[Checkouts], T]) -> T:
        """One write to the checkout log, committed together with others under way."""
        result: T = await self._log_writes.submit(in_this_context(work))
        return result

    async def _reserve(self, txn: CheckoutTxn) -> tuple[dict | None, list[str]]:
        """Phase one on both participants: the refusal to report (None if both hold), and
        the participants that answered."""
        timeout_s = max(0.05, min(self._peers.timeout_s, txn.deadline - self._clock()))
        reserves = (self._stock_reserves.submit(txn), self._credit_reserves.submit(txn))
        await _settled_or_timed_out(reserves, timeout_s)
        outcomes = dict(zip(PARTICIPANTS, map(_outcome, reserves), strict=True))
        refusals = {peer: _as_refusal(r) for peer, r in outcomes.items() if r is not None}
        answered = [p for p in PARTICIPANTS if not _unanswered(refusals.get(p))]
        if not refusals:
            return None, answered
        # A business reason (out of stock, no credit) says more than "did not answer".
        first = min(refusals.values(), key=_unanswered)
        return error_to_dict(first), answered

    async def _reserve_stock_batch(self, txns: list[CheckoutTxn]) -> list[ShopError | None]:
        reservations = [(txn.txn_id, txn.lines) for txn in txns]
        return await self._peers.reserve_stock_many(reservations, self._peers.timeout_s)

    async def _reserve_credit_batch(self, txns: list[CheckoutTxn]) -> list[ShopError | None]:
        reservations = [(txn.txn_id, txn.user_id, txn.order_id, txn.total) for txn in txns]
        return await self._peers.reserve_credit_many(reservations, self._peers.timeout_s)

    async def _await_decision(self, txn_id: str) -> CheckoutTxn:
        """Another request (maybe in another process) is checking out this order: follow it,
        and presume abort when its lease ran out undecided. A refusal is answered only once
        what the transaction held is released, as the request that decided it does: the
        cancels go out again from here (they are idempotent, and batched with others)."""
        while True:
            txn = await self._store.read(partial(checkout.existing, txn_id=txn_id))
            if txn.decision is None and self._owner_gone(txn):
                # A dead owner's transaction need not wait for its lease (orphans.py).
                abort = partial(orphans.abort_orphan, txn_id=txn_id)
                txn = await self._abort_abandoned(
                    txn, abort, "abort orphaned checkout", "abort_orphan"
                )
            elif txn.decision is None and self._clock() > txn.lease_until:
                abort = partial(checkout.presume_abort, txn_id=txn_id, now=self._clock())
                txn = await self._abort_abandoned(txn, abort, "presume abort", "presume_abort")
            elif txn.decision is Decision.ABORT and not txn.finished:
                await self.settler.settle(txn, Undelivered.KEEP)
            if txn.decision is not None:
                return txn
            await asyncio.sleep(self._poll_s)

    async def _abort_abandoned(
        self, txn: CheckoutTxn, abort: Callable[[Checkouts], CheckoutTxn], name: str, action: str
    ) -> CheckoutTxn:
        """Abort a transaction its coordinator left undecided and release what it holds, in
        a span (of the request that found it) linking the trace the checkout began in; counted
        as the recovery `action` when it aborted."""
        with _linked_span(txn, name):
            txn = await self._store.transact(abort)
            # ABORT, or the decision its owner logged first (ours then loses).
            tracing.set_attribute("shop.decision", txn.decision.value if txn.decision else "")
            if txn.decision is Decision.ABORT:
                recovery_action(action)
            if txn.decision is Decision.ABORT and not txn.finished:
                await self.settler.settle(txn, Undelivered.KEEP)
            return txn

    def _owner_gone(self, txn: CheckoutTxn) -> bool:
        """Known dead on this host, or (short leases on) its lease ran out before the deadline:
        the owner stopped renewing it, and a decision it might still try loses to ours."""
        now = self._clock()
        renewing = self._live_lease_s is not None and txn.lease_owner != self.owner
        expired = renewing and txn.lease_until < now <= txn.deadline
        return expired or orphans.owner_known_dead(txn.lease_owner)

    async def run_lease_renewal(self) -> None:
        """While alive, renew the short leases of the transactions this process drives, a
        third of the lease apart (one store transaction for all of them)."""
        if self._live_lease_s is None:
            return
        while True:
            await asyncio.sleep(self._live_lease_s / 3)
            try:
                await self.renew_leases()
            except Exception:
                log.exception("renewing %d leases failed; again", len(self._driving))

    async def renew_leases(self) -> None:
        if self._driving and self._live_lease_s is not None:
            renew = partial(
                checkout.renew_leases,
                txn_ids=list(self._driving),
                owner=self.owner,
                now=self._clock(),
                lease_s=self._live_lease_s,
            )
            await self._store.transact(renew)

    def _answer(self, txn: CheckoutTxn) -> Paid:
        if txn.decision is Decision.COMMIT:
            return Paid.by(txn)
        raise error_from_dict(txn.refusal or checkout.timed_out(txn))

    async def outcome(self, txn_id: str) -> Decision | None:
        return await self._store.transact(
            partial(checkout.outcome, txn_id=txn_id, now=self._clock())
        )

    async def redrive(self, txn_id: str) -> bool:
        """Finish one transaction now (a retry event asked); True once it is finished."""
        txn = await self._take_over(txn_id)
        if txn is None:
            # Finished, unknown, or another process holds it: nothing for us to do.
            return True
        if txn.decision is None:
            return False
        with _linked_span(txn, "redrive checkout"):
            return await self.settler.settle(txn, Undelivered.KEEP)

    async def recover_once(self) -> int:
        """Finish every transaction whose lease expired; returns how many were driven."""
        expired = await self._store.read(
            lambda repo: repo.unfinished_txns(self._clock(), RECOVERY_BATCH)
        )
        taken = await asyncio.gather(*(self._take_over(txn_id) for txn_id in expired))
        decided = [txn for txn in taken if txn is not None and txn.decision is not None]
        # All in the settler's next batches: one call per participant for many transactions.
        await asyncio.gather(*(self._recover(txn) for txn in decided))
        return len(decided)

    async def _recover(self, txn: CheckoutTxn) -> bool:
        with _linked_span(txn, "recover checkout"):
            decision = txn.decision.value if txn.decision else ""
            log.info("recovering %s: resending %s", txn.txn_id, decision)
            recovery_action(f"resend_{decision.lower()}")
            return await self.settler.settle(txn, Undelivered.KEEP)

    async def _take_over(self, txn_id: str) -> CheckoutTxn | None:
        """Take the lease of an unfinished transaction (None: finished, unknown, or another
        process holds it); abort it if its owner left it undecided, or it is overdue."""
        txn = await self._log(
            partial(
                orphans.take_over,
                txn_id=txn_id,
                owner=self.owner,
                now=self._clock(),
                lease_s=self._lease_s,
                gone=self._owner_gone,
            )
        )
        if txn is None or txn.decision is not None:
            return txn
        return await self._log(partial(checkout.presume_abort, txn_id=txn_id, now=self._clock()))

    async def run_recovery(self, interval_s: float) -> None:
        while True:
            try:
                await self.recover_once()
            except Exception:
                log.exception("recovery pass failed; retrying")
            await asyncio.sleep(interval_s)


def _linked_span(txn: CheckoutTxn, name: str) -> AbstractContextManager[object]:
    """Work that finishes a checkout after its request: a span linking the checkout's trace."""
    decision = txn.decision.value if txn.decision else ""
    attributes = {"shop.txn_id": txn.txn_id, "shop.decision": decision}
    return tracing.span(name, links=[txn.trace_parent], attributes=attributes)


def _undecided(txn: CheckoutTxn, lease_s: float) -> ShopError:
    return Aborted(
        "CHECKOUT_UNDECIDED",
        f"the checkout of order {txn.order_id!r} could not record its decision; check out"
        " again to learn the outcome: the order is paid only if that answers 200, and otherwise"
        f" the stock and credit it holds are released within {lease_s:.0f} s",
        order_id=txn.order_id,
    )


def _unanswered(refusal: ShopError | None) -> bool:
    return refusal is not None and refusal.reason == "DEPENDENCY_UNAVAILABLE"


async def _settled_or_timed_out(futures: tuple[asyncio.Future, ...], timeout_s: float) -> None:
    """Wait until every future is done or `timeout_s` passed, whichever comes first. A future
    still out is left alone (its batch goes on without this waiter). One timer and one waiter
    for all: on the hot path this is asyncio.wait without its bookkeeping."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def release(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    def check(_: object = None) -> None:
        if all(future.done() for future in futures):
            release()

    for future in futures:
        future.add_done_callback(check)
    timer = loop.call_later(timeout_s, release)
    try:
        check()
        await waiter
    finally:
        timer.cancel()


def _outcome(reserve: asyncio.Future) -> BaseException | None:
    """A reserve's result (None: held; a refusal), or its failure; TimeoutError if still out."""
    if not reserve.done():
        return TimeoutError()
    if reserve.cancelled():
        return asyncio.CancelledError()
    return reserve.exception() or reserve.result()


def _as_refusal(result: BaseException) -> ShopError:
    if isinstance(result, ShopError):
        return result
    if isinstance(result, TimeoutError):
        return Aborted("DEPENDENCY_UNAVAILABLE", "a participant did not answer in time")
    # The cause is for the log; the client learns only that the checkout did not happen.
    log.warning("reserve failed unexpectedly: %r", result)
    return Aborted("DEPENDENCY_UNAVAILABLE", "a participant failed to answer; nothing was taken")
