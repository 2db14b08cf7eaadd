"""The embedded default store: one SQLite file per payment service."""

import json
import pathlib
import sqlite3
from collections.abc import Iterable

from payment_svc.accounts import DirectPayment, User
from shopmesh.events import sqlite_outbox
from shopmesh.events.sqlite_outbox import SqliteOutbox
from shopmesh.participant import sqlite as sqlite_reservations
from shopmesh.participant.sqlite import SqliteReservations
from shopmesh.store.sqlite import SqliteStore, add_column

SCHEMA = (
    sqlite_reservations.SCHEMA
    + sqlite_outbox.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    credit  INTEGER NOT NULL CHECK (credit >= 0),
    held    INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS direct_payments (
    user_id  TEXT NOT NULL,
    order_id TEXT NOT NULL,
    amount   INTEGER NOT NULL CHECK (amount > 0),
    refunded INTEGER NOT NULL,
    PRIMARY KEY (user_id, order_id)
) WITHOUT ROWID;
"""
)


def migrate(conn: sqlite3.Connection) -> None:
    """Files made before users counted their held credit get the column, filled from the
    reservations still HELD."""
    if add_column(conn, "users", "held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0)"):
        for (payload,) in conn.execute("SELECT payload FROM reservations WHERE state = 'HELD'"):
            held = json.loads(payload)
            conn.execute(
                "UPDATE users SET held = held + ? WHERE user_id = ?",
                (held["amount"], held["user_id"]),
            )


_PUT_USER = "INSERT OR REPLACE INTO users (user_id, credit, held) VALUES (?, ?, ?)"


def _user_row(user: User) -> tuple:
    return (user.user_id, user.credit, user.held)


class SqliteAccounts(SqliteReservations, SqliteOutbox):
    SERVICE = "payment"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get_user(self, user_id: str) -> User | None:
        row = self._conn.execute(
            "SELECT user_id, credit, held FROM users WHERE user_id = ?", (user_id,)
        ).fetchone()
        return User(*row) if row else None

    def put_user(self, user: User) -> None:
        self._conn.execute(_PUT_USER, _user_row(user))  # one row: no executemany around it

    def put_users(self, users: Iterable[User]) -> None:
        self._conn.executemany(_PUT_USER, map(_user_row, users))

    def held_of(self, user_ids: list[str]) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT user_id, held FROM users"
            " WHERE user_id IN (SELECT value FROM json_each(?)) AND held > 0",
            (json.dumps(user_ids),),
        )
        return dict(rows)

    def get_payment(self, user_id: str, order_id: str) -> DirectPayment | None:
        row = self._conn.execute(
            "SELECT user_id, order_id, amount, refunded FROM direct_payments"
            " WHERE user_id = ? AND order_id = ?",
            (user_id, order_id),
        ).fetchone()
        return DirectPayment(row[0], row[1], row[2], bool(row[3])) if row else None

    def put_payment(self, payment: DirectPayment) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO direct_payments (user_id, order_id, amount, refunded)"
            " VALUES (?, ?, ?, ?)",
            (payment.user_id, payment.order_id, payment.amount, int(payment.refunded)),
        )


def open_sqlite_store(path: pathlib.Path, synchronous: str) -> SqliteStore[SqliteAccounts]:
    return SqliteStore(path, SCHEMA, SqliteAccounts, synchronous=synchronous, migrate=migrate)
