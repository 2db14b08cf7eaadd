"""The gRPC side of a checkout participant that is the same for stock and payment: commit and
cancel of reservations, one at a time or in batches, and the mapping of reservation states to
the service's enum."""

import logging
import time
from collections.abc import Callable
from functools import partial
from types import ModuleType

from shopmesh import faults
from shopmesh.errors import Aborted, InvalidArgument, ShopError, TransactionTooLarge
from shopmesh.participant import reservations
from shopmesh.participant.reservations import Reservation
from shopmesh.rpc.status import status_message

log = logging.getLogger(__name__)


class ReservationEndpoints:
    """Mixed into a participant's servicer, which sets `_store`, `_pb` (its generated
    messages module) and `_rules` (the module with commit_reservation/cancel_reservation)."""

    _store: object
    _pb: ModuleType
    _rules: ModuleType
    # How often a SettleReservations was too large for one transaction and split itself.
    split_settles = 0

    def state(self, reservation: Reservation) -> int:
        return self._pb.ReservationState.Value(f"RESERVATION_STATE_{reservation.state.value}")

    async def _apply(self, rule: Callable, txn_id: str) -> Reservation:
        return await self._store.transact(partial(rule, txn_id=txn_id, now=time.time()))

    async def CommitReservation(self, request, context):
        faults.crash_point("commit.before_apply")
        reservation = await self._apply(self._rules.commit_reservation, request.transaction_id)
        faults.crash_point("commit.after_apply")
        return self._pb.CommitReservationResponse(state=self.state(reservation))

    async def CancelReservation(self, request, context):
        reservation = await self._apply(self._rules.cancel_reservation, request.transaction_id)
        return self._pb.CancelReservationResponse(state=self.state(reservation))

    @property
    def _domain(self) -> str:
        return f"{self._pb.DESCRIPTOR.package.split('.')[1]}.shopmesh"

    async def reserve_each(self, requests, reserve: Callable, result_type) -> list:
        """Phase one for a batch: `reserve(request, now)` is one request's store work; each
        result is its state, or the status the single call would have failed with."""
        reservations.require_batch_size(len(requests), "requests")
        now = time.time()
        outcomes = await self._store.transact_each([reserve(request, now) for request in requests])
        faults.crash_point("reserve.after_commit")
        results = []
        for request, outcome in zip(requests, outcomes, strict=True):
            result = result_type(transaction_id=request.transaction_id)
            if isinstance(outcome, Exception):
                refusal = outcome if isinstance(outcome, ShopError) else _failed(request)
                result.error.CopyFrom(status_message(refusal, self._domain))
            else:
                result.state = self.state(outcome)
            results.append(result)
        return results

    def _decisions(self, request) -> list[tuple[str, bool]]:
        commit, cancel = self._pb.SETTLEMENT_DECISION_COMMIT, self._pb.SETTLEMENT_DECISION_CANCEL
        decisions = []
        for settlement in request.settlements:
            if settlement.decision not in (commit, cancel):
                raise InvalidArgument(
                    "INVALID_DECISION",
                    f"transaction {settlement.transaction_id!r} needs COMMIT or CANCEL",
                    field="decision",
                )
            decisions.append((settlement.transaction_id, settlement.decision == commit))
        return decisions

    async def _settle(self, decisions: list[tuple[str, bool]]) -> list:
        """All decisions in one local transaction, or, where the store finds that too large
        (reservations of many items: Spanner's mutation limit), in halves, and so on."""
        try:
            return await self._store.transact(
                partial(
                    reservations.settle_each,
                    settlements=decisions,
                    commit_rule=self._rules.commit_reservation,
                    cancel_rule=self._rules.cancel_reservation,
                    now=time.time(),
                )
            )
        except TransactionTooLarge:
            if len(decisions) == 1:
                raise
            self.split_settles += 1
            log.info("a settle of %d is too large for one transaction: in halves", len(decisions))
            half = len(decisions) // 2
            return [*await self._settle(decisions[:half]), *await self._settle(decisions[half:])]

    def _result(self, txn_id: str, outcome: Reservation | ShopError):
        if isinstance(outcome, ShopError):
            return self._pb.SettlementResult(transaction_id=txn_id, refusal_reason=outcome.reason)
        return self._pb.SettlementResult(transaction_id=txn_id, state=self.state(outcome))

    async def SettleReservations(self, request, context):
        decisions = self._decisions(request)
        faults.crash_point("commit.before_apply")
        outcomes = await self._settle(decisions)
        faults.crash_point("commit.after_apply")
        results = [
            self._result(txn_id, outcome)
            for (txn_id, _), outcome in zip(decisions, outcomes, strict=True)
        ]
        return self._pb.SettleReservationsResponse(results=results)


def _failed(request) -> ShopError:
    """What a reservation that failed unexpectedly answers (its work was undone, and the
    cause is in this service's log, not in the answer)."""
    return Aborted(
        "RESERVATION_FAILED",
        f"transaction {request.transaction_id!r} could not be reserved; nothing is held",
        transaction_id=request.transaction_id,
    )
