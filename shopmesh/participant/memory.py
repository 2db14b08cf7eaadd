"""The reservations table of a checkout participant (stock, payment) in memory, for tests and
the simulator (shopmesh.store.memory)."""

import json

from shopmesh.participant.reservations import Reservation, State
from shopmesh.store.memory import Tables, check

TABLES = ("reservations",)


def _copy(reservation: Reservation) -> Reservation:
    # Through JSON, as the SQL adapters store the payload: what is not JSON-able fails here too.
    payload = reservation.payload
    if payload is not None:
        payload = json.loads(json.dumps(payload))
    return Reservation(
        reservation.txn_id,
        State(reservation.state),
        payload,
        reservation.subject,
        reservation.updated_at,
    )


class MemoryReservations:
    """Mixed into a participant's repository; needs `self._tables`."""

    _tables: Tables

    def get_reservation(self, txn_id: str) -> Reservation | None:
        row = self._tables.rows("reservations").get(txn_id)
        return _copy(row) if row is not None else None

    def put_reservation(self, reservation: Reservation) -> None:
        check(isinstance(reservation.state, State), "state IN ('HELD', 'COMMITTED', 'CANCELLED')")
        check(reservation.subject is not None, "subject NOT NULL")
        self._tables.writable("reservations")[reservation.txn_id] = _copy(reservation)

    def held_since_before(self, cutoff: float, limit: int) -> list[str]:
        held = [r for r in self._held() if r.updated_at < cutoff]
        held.sort(key=lambda r: r.updated_at)
        return [r.txn_id for r in held[:limit]]

    def held_reservations(self) -> int:
        """How many are HELD now."""
        return sum(1 for _ in self._held())

    def oldest_held_since(self) -> float | None:
        return min((r.updated_at for r in self._held()), default=None)

    def reservations_for(self, subject: str) -> list[Reservation]:
        rows = self._tables.rows("reservations")
        return [_copy(rows[txn_id]) for txn_id in sorted(rows) if rows[txn_id].subject == subject]

    def _held(self):
        return (r for r in self._tables.rows("reservations").values() if r.state is State.HELD)
