"""Checkout's phase two, in batches: every decision the coordinator sends goes out here.

Once a commit decision is in the log the client can have its answer: the decision is durable,
and sending it to the participants is the coordinator's job, not the client's. Decided
transactions queue up here, once per participant; each participant's sender takes everything
queued for it (up to MAX_BATCH) in one Settle call, and the acknowledgements, as both
participants' come in, are recorded many to one local transaction. While a batch is out the
next one fills, so the batch grows with the load; a participant that hangs holds up only the
calls to itself.

There is one way in, `settle(txn, if_undelivered)`, which returns a future of whether both
participants acknowledged (`send` is the same with each participant's acknowledgement apart):
the request path settles a commit and moves on, and awaits the cancels of the participants
that answered its reserve, so that a refused checkout has released what it held before the
client reads the refusal. What becomes of a decision that could not be delivered is the
caller's to say: the request path hands it over (retry event, lease given up) and a retry
worker takes it on; recovery and the retry worker keep it, with their lease, and try again
later themselves (handing over again would publish a new retry event every pass). Recovery
remains the guarantee for a crash before a batch went out.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
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


log = logging.getLogger(__name__)
PARTICIPANTS = ("stock", "payment")
MAX_BATCH = 500
# A commit is off every client's path: its batch waits this long for company, so that light
# load, too, sends many decisions per call (a reservation is held that much longer). A cancel
# does not wait (Batcher's `urgent`): its refusal is answered once it is delivered.
LINGER_S = 0.025


@dataclass(frozen=True)
class Sending:
    """A decision on its way: `delivered[peer]` is whether that participant applied it (known
    as soon as its call returns), `recorded` whether both did, once that is in the log."""

    delivered: dict[str, "asyncio.Future[bool]"]
    recorded: "asyncio.Future[bool]"


class Settler:
    def __init__(self, store: OrderStore, peers: CheckoutPeers, *, max_in_flight: int = 2) -> None:
        self._store = store
        self._peers = peers
        # One sender per participant: one that hangs (stopped, partitioned) holds up its own
        # calls only, and the other's acknowledgements come back meanwhile.
        self._deliveries = {
            peer: Batcher(
                partial(self._deliver, peer),
                max_batch=MAX_BATCH,
                max_in_flight=max_in_flight,
                linger_s=LINGER_S,
                scope=tracing.LinkedBatch(f"settle {peer} batch"),
            )
            for peer in PARTICIPANTS
        }
        # The acknowledgements of many transactions in one local transaction.
        self._records: Batcher[Recording, bool] = Batcher(self._record, max_batch=MAX_BATCH)
        self._sending: set[asyncio.Future[bool]] = set()

    def settle(self, txn: CheckoutTxn, if_undelivered: Undelivered) -> "asyncio.Future[bool]":
        """Send a decided transaction's decision with the next batches: a future of whether
        both participants acknowledged it (await it to wait for the batch, or drop it)."""
        return self.send(txn, if_undelivered).recorded

    def send(self, txn: CheckoutTxn, if_undelivered: Undelivered) -> Sending:
        """`settle`, with each participant's acknowledgement to wait for on its own."""
        loop = asyncio.get_running_loop()
        delivered: dict[str, asyncio.Future[bool]] = {}
        for peer in PARTICIPANTS:
            if getattr(txn, f"{peer}_done"):
                delivered[peer] = loop.create_future()
                delivered[peer].set_result(True)
            else:
                # A cancel goes out at once: a refused checkout (or one that follows it) waits
                # for its release. A commit lingers for company: nobody waits for it.
                urgent = txn.decision is not Decision.COMMIT
                delivered[peer] = self._deliveries[peer].submit(txn, urgent=urgent)
        recorded: asyncio.Future[bool] = loop.create_future()
        self._sending.add(recorded)
        recorded.add_done_callback(self._sending.discard)
        # Callbacks, not a task per decision: once both participants answered, the
        # acknowledgements join the next record batch (once: the last answer submits them),
        # whose outcome is `recorded`'s.
        waiting = [future for future in delivered.values() if not future.done()]
        remaining = len(waiting) or 1

        def answered(_: object = None) -> None:
            nonlocal remaining
            remaining -= 1
            if remaining > 0 or recorded.done():
                return
            try:
                if any(_interrupted(future) for future in delivered.values()):
                    recorded.cancel()  # the service is stopping: nothing is recorded
                    return
                acks = (_acknowledged(delivered["stock"]), _acknowledged(delivered["payment"]))
                _chain(self._records.submit((txn, acks, if_undelivered)), recorded)
            except Exception as error:  # noqa: BLE001 - never leave a waiter hanging
                recorded.set_exception(error)

        for future in waiting:
            future.add_done_callback(answered)
        if not waiting:
            answered()
        return Sending(delivered, recorded)

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
        while self._sending:
            await asyncio.wait(set(self._sending))

    async def _deliver(self, peer: str, txns: list[CheckoutTxn]) -> list[bool]:
        decisions = [(txn.txn_id, txn.decision is Decision.COMMIT) for txn in txns]
        try:
            reply = await self._peers.settle_many(peer, decisions)
        except Exception as error:  # noqa: BLE001 - undelivered: the caller's to say what now
            for txn in txns:
                log.warning("decision for %s not delivered to %s: %r", txn.txn_id, peer, error)
            return [False] * len(txns)
        return [_applied(reply, txn.txn_id, peer) for txn in txns]

    async def _record(self, batch: list["Recording"]) -> list[bool]:
        acks = {txn.txn_id: ack for txn, ack, _ in batch}
        handing_over = {txn.txn_id for txn, _, then in batch if then is Undelivered.HAND_OVER}
        try:
            recorded = await self._store.transact(
                partial(checkout.record_settlements, acks=acks, handing_over=handing_over)
            )
        except Exception:
            log.exception(
                "recording a batch of %d settlements failed; recovery takes over", len(batch)
            )
            return [False] * len(batch)
        finished = {txn.txn_id for txn in recorded if txn.finished}
        return [txn.txn_id in finished for txn, _, _ in batch]


# A transaction, whether (stock, payment) acknowledged its decision, and what to do if not all.
Recording = tuple[CheckoutTxn, tuple[bool, bool], Undelivered]


def _interrupted(future: asyncio.Future) -> bool:
    """Cancelled, or failed with a cancellation (its batch was cancelled as the service stops)."""
    return future.cancelled() or isinstance(future.exception(), asyncio.CancelledError)


def _acknowledged(delivered: "asyncio.Future[bool]") -> bool:
    """Whether a finished delivery was applied (a failure: the delivery batch logged it)."""
    return delivered.exception() is None and delivered.result()


def _chain(source: "asyncio.Future[bool]", target: "asyncio.Future[bool]") -> None:
    """`target` gets `source`'s outcome (unless it was cancelled meanwhile)."""

    def copy(_: object) -> None:
        if target.done():
            return
        if _interrupted(source):
            target.cancel()
        elif source.exception() is not None:
            target.set_exception(source.exception())  # type: ignore[arg-type]
        else:
            target.set_result(source.result())

    source.add_done_callback(copy)


def _applied(reply: dict[str, str], txn_id: str, peer: str) -> bool:
    refusal = reply.get(txn_id)
    if refusal:
        log.warning("%s refused the decision for %s: %s", peer, txn_id, refusal)
    return refusal == ""
