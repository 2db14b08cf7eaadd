"""Checkout's phase two off the request path, in batches.

Once a decision is in the log the client can have its answer: the decision is durable, and
sending it to the participants is the coordinator's job, not the client's. Decided
transactions queue up here; a sender takes everything queued (up to MAX_BATCH), sends one
SettleReservations call to each participant and records their acknowledgements in one local
transaction. While a batch is out the next one fills, so the batch grows with the load.

A transaction whose decision could not be delivered is handed over (retry event, lease
given up) exactly as on the request path; recovery remains the guarantee for a crash before
its batch went out.
"""

import asyncio
import contextlib
import logging
from functools import partial

from order_svc import checkout
from order_svc.checkout import CheckoutTxn, Decision
from order_svc.peers import Peers
from order_svc.store import OrderStore

log = logging.getLogger(__name__)
PARTICIPANTS = ("stock", "payment")
MAX_BATCH = 500


class Settler:
    def __init__(self, store: OrderStore, peers: Peers, *, max_in_flight: int = 2) -> None:
        self._store = store
        self._peers = peers
        self._queue: list[CheckoutTxn] = []
        self._queued = asyncio.Event()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sending: set[asyncio.Task] = set()

    def submit(self, txn: CheckoutTxn) -> None:
        """Queue a decided transaction; returns at once."""
        self._queue.append(txn)
        self._queued.set()

    async def run(self, stop_grace_s: float = 2.0) -> None:
        """Send batches until cancelled; then, for up to `stop_grace_s`, what is queued (a
        process that stops leaves no more than it must to recovery)."""
        try:
            while True:
                await self._queued.wait()
                await self._slots.acquire()
                self._start(self._take())
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self.flush(), stop_grace_s)

    def _take(self) -> list[CheckoutTxn]:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        if not self._queue:
            self._queued.clear()
        return batch

    def _start(self, batch: list[CheckoutTxn]) -> None:
        task = asyncio.create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    async def flush(self) -> None:
        """Send everything queued now, and wait for the batches underway."""
        while self._queue:
            await self._send(self._take())
        if self._sending:
            await asyncio.wait(set(self._sending))

    def _sent(self, task: asyncio.Task) -> None:
        self._sending.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("settling a batch failed: %r", task.exception())

    async def _send(self, batch: list[CheckoutTxn]) -> None:
        replies = await asyncio.gather(
            *(self._settle(peer, batch) for peer in PARTICIPANTS), return_exceptions=True
        )
        applied = dict(zip(PARTICIPANTS, replies, strict=True))
        acks = {
            txn.txn_id: tuple(
                getattr(txn, f"{peer}_done") or _applied(applied[peer], txn.txn_id, peer)
                for peer in PARTICIPANTS
            )
            for txn in batch
        }
        await self._store.transact(partial(checkout.record_settlements, acks=acks))

    async def _settle(self, peer: str, batch: list[CheckoutTxn]) -> dict[str, str]:
        decisions = [
            (txn.txn_id, txn.decision is Decision.COMMIT)
            for txn in batch
            if not getattr(txn, f"{peer}_done")
        ]
        return await self._peers.settle_many(peer, decisions) if decisions else {}


def _applied(reply: dict[str, str] | BaseException, txn_id: str, peer: str) -> bool:
    if isinstance(reply, BaseException):
        log.warning("decision for %s not delivered to %s: %r", txn_id, peer, reply)
        return False
    refusal = reply.get(txn_id)
    if refusal:
        log.warning("%s refused the decision for %s: %s", peer, txn_id, refusal)
    return refusal == ""
