"""The gRPC side of a checkout participant that is the same for stock and payment: commit and
cancel of a reservation, and the mapping of reservation states to the service's enum."""

import time
from collections.abc import Callable
from functools import partial
from types import ModuleType

from shopmesh import faults
from shopmesh.participant import Reservation


class ReservationEndpoints:
    """Mixed into a participant's servicer, which sets `_store`, `_pb` (its generated
    messages module) and `_rules` (the module with commit_reservation/cancel_reservation)."""

    _store: object
    _pb: ModuleType
    _rules: ModuleType

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

