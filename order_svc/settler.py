"""Checkout's phase two, in batches: every decision the coordinator sends goes out here.

Once a commit decision is in the log the client can have its answer: the decision is durable,
and sending it to the participants is the coordinator's job, not the client's. Decided
transactions queue up here; a sender takes everything queued (up to MAX_BATCH), sends one
Settle call to each participant and records their acknowledgements in one local
transaction. While a batch is out the next one fills, so the batch grows with the load.

There is one way in, `settle(txn, if_undelivered)`, which returns a future of whether both
participants acknowledged: the request path settles a commit and moves on, and awaits a
cancel, so that a refused checkout has released what it held before the client reads the
refusal. What becomes of a decision that could not be delivered is the caller's to say:
the request path hands it over (retry event, lease given up) and a retry worker takes it on;
recovery and the retry worker keep it, with their lease, and try again later themselves
(handing over again would publish a new retry event every pass). Recovery remains the
guarantee for a crash before a batch went out.
"""

import asyncio
import contextlib
import logging
from enum import Enum
from functools import partial

from order_svc import checkout
from order_svc.checkout import CheckoutTxn, Decision
from order_svc.checkout_peers import CheckoutPeers
from order_svc.store import OrderStore
from shopmesh.batching import Batcher
from shopmesh.telemetry import tracing


class Undelivered(Enum):
    """What to do with a decision some participant did not acknowledge."""

    HAND_OVER = "hand over"  # publish a retry event and give up the lease (the request path)
    KEEP = "keep"  # keep the lease and try again later (recovery, the retry worker)


# A transaction to settle, and what to do if its decision is not delivered.
Settling = tuple[CheckoutTxn, Undelivered]

log = logging.getLogger(__name__)
PARTICIPANTS = ("stock", "payment")
MAX_BATCH = 500
# Phase two is off every client's path: a batch waits this long for company, so that light
# load, too, sends many decisions per call (a reservation is held that much longer).
LINGER_S = 0.01


class Settler:
    def __init__(self, store: OrderStore, peers: CheckoutPeers, *, max_in_flight: int = 2) -> None:
        self._store = store
        self._peers = peers
        self._batches = Batcher(
            self._send,
            max_batch=MAX_BATCH,
            max_in_flight=max_in_flight,
            linger_s=LINGER_S,
            scope=tracing.LinkedBatch("settle batch"),
        )

    def settle(self, txn: CheckoutTxn, if_undelivered: Undelivered) -> "asyncio.Future[bool]":
        """Send a decided transaction's decision with the next batch: a future of whether both
        participants acknowledged it (await it to wait for the batch, or drop it)."""
        return self._batches.submit((txn, if_undelivered))

    async def run(self, stop_grace_s: float = 2.0) -> None:
        """Batches go out by themselves; this waits to be cancelled and then, for up to
        `stop_grace_s`, for what is queued (a process that stops leaves no more than it must
        to recovery)."""
        try:
            await asyncio.Event().wait()
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self.flush(), stop_grace_s)

    async def flush(self) -> None:
        """Wait until everything submitted so far has been sent and recorded."""
        await self._batches.drain()

    async def _send(self, batch: list[Settling]) -> list[bool]:
        try:
            return await self._settle_batch(batch)
        except Exception:
            log.exception("settling a batch of %d failed; recovery takes over", len(batch))
            return [False] * len(batch)

    async def _settle_batch(self, batch: list[Settling]) -> list[bool]:
        txns = [txn for txn, _ in batch]
        replies = await asyncio.gather(
            *(self._settle(peer, txns) for peer in PARTICIPANTS), return_exceptions=True
        )
        applied = dict(zip(PARTICIPANTS, replies, strict=True))
        acks = {
            txn.txn_id: (
                txn.stock_done or _applied(applied["stock"], txn.txn_id, "stock"),
                txn.payment_done or _applied(applied["payment"], txn.txn_id, "payment"),
            )
            for txn in txns
        }
        handing_over = {txn.txn_id for txn, then in batch if then is Undelivered.HAND_OVER}
        recorded = await self._store.transact(
            partial(checkout.record_settlements, acks=acks, handing_over=handing_over)
        )
        finished = {txn.txn_id for txn in recorded if txn.finished}
        return [txn.txn_id in finished for txn in txns]

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
