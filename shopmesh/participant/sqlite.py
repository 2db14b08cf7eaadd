"""The reservations table of a checkout participant (stock, payment) in SQLite."""

import json
import sqlite3

from shopmesh.participant.reservations import Reservation, State

SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    txn_id     TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'CANCELLED')),
    payload    TEXT,
    subject    TEXT NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reservations_held ON reservations (updated_at) WHERE state = 'HELD';
CREATE INDEX IF NOT EXISTS reservations_subject ON reservations (subject) WHERE subject != '';
"""

_COLUMNS = "txn_id, state, payload, subject, updated_at"


def _reservation(row: tuple) -> Reservation:
    payload = json.loads(row[2]) if row[2] is not None else None
    return Reservation(row[0], State(row[1]), payload, row[3], row[4])


class SqliteReservations:
    """Mixed into a participant's repository; needs `self._conn`."""

    _conn: sqlite3.Connection

    def get_reservation(self, txn_id: str) -> Reservation | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM reservations WHERE txn_id = ?", (txn_id,)
        ).fetchone()
        return _reservation(row) if row else None

    def put_reservation(self, reservation: Reservation) -> None:
        payload = json.dumps(reservation.payload) if reservation.payload is not None else None
        self._conn.execute(
            f"INSERT OR REPLACE INTO reservations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (
                reservation.txn_id,
                reservation.state.value,
                payload,
                reservation.subject,
                reservation.updated_at,
            ),
        )

    def held_since_before(self, cutoff: float, limit: int) -> list[str]:
        rows = self._conn.execute(
            "SELECT txn_id FROM reservations WHERE state = 'HELD' AND updated_at < ?"
            " ORDER BY updated_at LIMIT ?",
            (cutoff, limit),
        )
        return [row[0] for row in rows]

    def held_reservations(self) -> int:
        """How many are HELD now (the partial index counts them)."""
        sql = "SELECT COUNT(*) FROM reservations WHERE state = 'HELD'"
        return self._conn.execute(sql).fetchone()[0]

    def oldest_held_since(self) -> float | None:
        """The first entry of the partial index."""
        sql = "SELECT MIN(updated_at) FROM reservations WHERE state = 'HELD'"
        return self._conn.execute(sql).fetchone()[0]

    def reservations_for(self, subject: str) -> list[Reservation]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM reservations WHERE subject = ?", (subject,)
        )
        return [_reservation(row) for row in rows]
