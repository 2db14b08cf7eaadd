"""shop.participant.v1.ParticipantService over gRPC, one servicer for stock and payment:
protobuf in, the engine (`engine.py`), protobuf out. What differs between the two is a small
strategy (`Participant`): how one reservation message becomes the service's hold, and the
service's commit and cancel rules."""

import time
from typing import Protocol

from shop.participant.v1 import participant_pb2 as pb
from shop.participant.v1 import participant_pb2_grpc
from shopmesh.errors import InvalidArgument, ShopError
from shopmesh.participant.engine import Clock, Hold, ReservationEngine, Rules, Store
from shopmesh.participant.reservations import Reservation, State
from shopmesh.rpc.status import status_message


class Participant(Rules, Protocol):
    """A participant's strategy: its commit and cancel rules, and how it holds."""

    def hold(self, reservation: pb.Reservation) -> Hold:
        """The store work that holds what `reservation` asks for; a ShopError (e.g.
        INVALID_HOLD for the other participant's kind of hold) refuses it."""
        ...


def wrong_hold(reservation: pb.Reservation, expected: str) -> InvalidArgument:
    """The refusal of a reservation that does not hold what this participant holds."""
    return InvalidArgument(
        "INVALID_HOLD",
        f"transaction {reservation.transaction_id!r} must hold {expected}, not"
        f" {reservation.WhichOneof('hold') or 'nothing'}",
        field="hold",
        transaction_id=reservation.transaction_id,
    )


class ParticipantServicer(participant_pb2_grpc.ParticipantServiceServicer):
    def __init__(
        self, store: Store, participant: Participant, domain: str, clock: Clock = time.time
    ) -> None:
        self._participant = participant
        # The ErrorInfo domain of refusals carried in results (e.g. "stock.shopmesh").
        self._domain = domain
        self.engine = ReservationEngine(store, participant, clock)

    async def Reserve(self, request: pb.ReserveRequest, context) -> pb.ReserveResponse:
        txn_ids = [reservation.transaction_id for reservation in request.reservations]
        holds = [self._hold(reservation) for reservation in request.reservations]
        outcomes = await self.engine.reserve_each(txn_ids, holds)
        results = [
            self._reserved(txn_id, outcome)
            for txn_id, outcome in zip(txn_ids, outcomes, strict=True)
        ]
        return pb.ReserveResponse(results=results)

    async def Settle(self, request: pb.SettleRequest, context) -> pb.SettleResponse:
        decisions = _decisions(request)
        outcomes = await self.engine.settle_each(decisions)
        results = [
            _settled(txn_id, outcome)
            for (txn_id, _), outcome in zip(decisions, outcomes, strict=True)
        ]
        return pb.SettleResponse(results=results)

    def _hold(self, reservation: pb.Reservation) -> Hold | ShopError:
        try:
            return self._participant.hold(reservation)
        except ShopError as refusal:
            return refusal

    def _reserved(self, txn_id: str, outcome: Reservation | ShopError) -> pb.ReserveResult:
        result = pb.ReserveResult(transaction_id=txn_id)
        if isinstance(outcome, ShopError):
            result.error.CopyFrom(status_message(outcome, self._domain))
        else:
            result.state = state(outcome)
        return result


_STATES = {
    State.HELD: pb.RESERVATION_STATE_HELD,
    State.COMMITTED: pb.RESERVATION_STATE_COMMITTED,
    State.CANCELLED: pb.RESERVATION_STATE_CANCELLED,
}


def state(reservation: Reservation) -> "pb.ReservationState":
    return _STATES[reservation.state]


def _decisions(request: pb.SettleRequest) -> list[tuple[str, bool]]:
    """(txn_id, commit) per settlement; the whole call is refused if one has no decision."""
    decisions = []
    for settlement in request.settlements:
        if settlement.decision not in (
            pb.SETTLEMENT_DECISION_COMMIT,
            pb.SETTLEMENT_DECISION_CANCEL,
        ):
            raise InvalidArgument(
                "INVALID_DECISION",
                f"transaction {settlement.transaction_id!r} needs COMMIT or CANCEL",
                field="decision",
            )
        decisions.append(
            (settlement.transaction_id, settlement.decision == pb.SETTLEMENT_DECISION_COMMIT)
        )
    return decisions


def _settled(txn_id: str, outcome: Reservation | ShopError) -> pb.SettlementResult:
    if isinstance(outcome, ShopError):
        return pb.SettlementResult(transaction_id=txn_id, refusal_reason=outcome.reason)
    return pb.SettlementResult(transaction_id=txn_id, state=state(outcome))


PARTICIPANT_SERVICE = pb.DESCRIPTOR.services_by_name["ParticipantService"].full_name


def add_to_server(servicer: ParticipantServicer, server) -> None:
    participant_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, server)
