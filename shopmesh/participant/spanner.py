"""The Reservations table of a checkout participant (stock, payment) in Spanner."""

import json

from shopmesh.participant.reservations import Reservation, State
from shopmesh.store.spanner import NULL_FILTERED_OK, SpannerRepository

_COLUMNS = ("TxnId", "State", "Payload", "Subject", "UpdatedAt", "HeldSince")
_SELECT = "SELECT TxnId, State, Payload, Subject, UpdatedAt FROM Reservations"


def _reservation(row: list) -> Reservation:
    payload = json.loads(row[2]) if row[2] is not None else None
    return Reservation(row[0], State(row[1]), payload, row[3], row[4])


class SpannerReservations(SpannerRepository):
    """Mixed into a participant's SpannerRepository."""

    def get_reservation(self, txn_id: str) -> Reservation | None:
        found, reservation = self.recall("Reservations", txn_id)
        if found:
            return reservation
        rows = self.query(f"{_SELECT} WHERE TxnId = @txn_id", lock=True, txn_id=txn_id)
        return _reservation(rows[0]) if rows else None

    def put_reservation(self, reservation: Reservation) -> None:
        held = reservation.state is State.HELD
        payload = json.dumps(reservation.payload) if reservation.payload is not None else None
        row = (
            reservation.txn_id,
            reservation.state.value,
            payload,
            reservation.subject,
            reservation.updated_at,
            reservation.updated_at if held else None,
        )
        self.upsert("Reservations", _COLUMNS, [row])
        self.remember("Reservations", reservation.txn_id, reservation)

    def held_since_before(self, cutoff: float, limit: int) -> list[str]:
        rows = self.query(
            "SELECT TxnId FROM Reservations"
            f"@{{FORCE_INDEX=ReservationsByHeldSince, {NULL_FILTERED_OK}}}"
            " WHERE HeldSince IS NOT NULL AND HeldSince < @cutoff ORDER BY HeldSince LIMIT @limit",
            cutoff=cutoff,
            limit=limit,
        )
        return [row[0] for row in rows]

    def held_reservations(self) -> int:
        """How many are HELD now (HeldSince is set exactly while HELD)."""
        hint = f"@{{FORCE_INDEX=ReservationsByHeldSince, {NULL_FILTERED_OK}}}"
        sql = f"SELECT COUNT(*) FROM Reservations{hint} WHERE HeldSince IS NOT NULL"
        return self.query(sql)[0][0]

    def oldest_held_since(self) -> float | None:
        hint = f"@{{FORCE_INDEX=ReservationsByHeldSince, {NULL_FILTERED_OK}}}"
        sql = f"SELECT MIN(HeldSince) FROM Reservations{hint} WHERE HeldSince IS NOT NULL"
        return self.query(sql)[0][0]

    def reservations_for(self, subject: str) -> list[Reservation]:
        return [
            _reservation(row)
            for row in self.query(f"{_SELECT} WHERE Subject = @subject", subject=subject)
        ]
