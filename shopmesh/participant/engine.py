"""The participant's engine, the same for stock and payment: phase one for a batch of
reservations and phase two for a batch of decisions, each in the store's transactions, with the
crash points the crash tests use. What a reservation holds and how it ends are the service's
rules (`Rules`); the engine knows only the protocol. Plain Python: no gRPC, no protobuf."""

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Protocol

from shopmesh import faults
from shopmesh.errors import Aborted, ShopError, TransactionTooLarge
from shopmesh.participant import reservations
from shopmesh.participant.reservations import Reservation

log = logging.getLogger(__name__)
Clock = Callable[[], float]
# One reservation's store work: (repo, now=...) -> Reservation; a ShopError refuses it.
Hold = Callable[..., Reservation]


class Rules(Protocol):
    """How a participant's reservations end (stock_svc.inventory, payment_svc.accounts)."""

    def commit_reservation(self, repo, txn_id: str, now: float) -> Reservation:
        """Finalise: what was held is taken for good."""
        ...

    def cancel_reservation(self, repo, txn_id: str, now: float) -> Reservation:
        """Release: what was held goes back."""
        ...


class Store(Protocol):
    async def transact(self, work): ...
    async def transact_each(self, works: list) -> list: ...


class ReservationEngine:
    def __init__(self, store: Store, rules: Rules, clock: Clock = time.time) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        # How often a settle was too large for one transaction and split itself.
        self.split_settles = 0

    async def reserve_each(
        self, txn_ids: list[str], holds: list[Hold | ShopError]
    ) -> list[Reservation | ShopError]:
        """Phase one for a batch: each hold in its own savepoint of one commit (a ShopError in
        place of a hold is that one's refusal, decided before the store). Each outcome is the
        reservation, or its refusal."""
        reservations.require_batch_size(len(holds), "reservations")
        now = self._clock()
        works = [
            _refused(hold) if isinstance(hold, ShopError) else partial(hold, now=now)
            for hold in holds
        ]
        outcomes = await self._store.transact_each(works)
        faults.crash_point("reserve.after_commit")
        return [
            _failed(txn_id)
            if isinstance(outcome, Exception) and not isinstance(outcome, ShopError)
            else outcome
            for txn_id, outcome in zip(txn_ids, outcomes, strict=True)
        ]

    async def settle_each(self, decisions: list[tuple[str, bool]]) -> list[Reservation | ShopError]:
        """Phase two for a batch: (txn_id, commit) each; a refusal is that one's outcome."""
        faults.crash_point("commit.before_apply")
        outcomes = await self._settle(decisions)
        faults.crash_point("commit.after_apply")
        return outcomes

    async def _settle(self, decisions: list[tuple[str, bool]]) -> list[Reservation | ShopError]:
        """All decisions in one local transaction, or, where the store finds that too large
        (reservations of many items: Spanner's mutation limit), in halves, and so on."""
        try:
            return await self._store.transact(
                partial(
                    reservations.settle_each,
                    settlements=decisions,
                    commit_rule=self._rules.commit_reservation,
                    cancel_rule=self._rules.cancel_reservation,
                    now=self._clock(),
                )
            )
        except TransactionTooLarge:
            if len(decisions) == 1:
                raise
            self.split_settles += 1
            log.info("a settle of %d is too large for one transaction: in halves", len(decisions))
            half = len(decisions) // 2
            return [*await self._settle(decisions[:half]), *await self._settle(decisions[half:])]


def _refused(refusal: ShopError) -> Callable:
    def work(repo) -> Reservation:
        raise refusal

    return work


def _failed(txn_id: str) -> ShopError:
    """What a reservation that failed unexpectedly answers (its work was undone, and the
    cause is in this service's log, not in the answer)."""
    return Aborted(
        "RESERVATION_FAILED",
        f"transaction {txn_id!r} could not be reserved; nothing is held",
        transaction_id=txn_id,
    )
