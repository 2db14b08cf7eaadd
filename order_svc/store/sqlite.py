"""The embedded default store: one SQLite file per order service (orders and the checkout log)."""

import json
import pathlib
import sqlite3
from collections.abc import Iterable

from order_svc.checkout import CheckoutTxn, Decision
from order_svc.orders import Line, Order
from shopmesh.events import sqlite_outbox
from shopmesh.events.sqlite_outbox import SqliteOutbox
from shopmesh.store.sqlite import SqliteStore, add_column

# Lines are read and written with their order, never alone: one JSON column keeps an order
# one row (one read, one write per change).
SCHEMA = (
    sqlite_outbox.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS orders (
    order_id     TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    paid         INTEGER NOT NULL,
    lines        TEXT NOT NULL,
    checkout_txn TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkouts (
    txn_id       TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    lines        TEXT NOT NULL,
    total        INTEGER NOT NULL,
    deadline     REAL NOT NULL,
    decision     TEXT CHECK (decision IN ('COMMIT', 'ABORT')),
    refusal      TEXT,
    stock_done   INTEGER NOT NULL,
    payment_done INTEGER NOT NULL,
    lease_owner  TEXT NOT NULL,
    lease_until  REAL NOT NULL,
    finished     INTEGER NOT NULL,
    trace_parent TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS checkouts_unfinished ON checkouts (lease_until) WHERE finished = 0;
"""
)

_ORDER_COLUMNS = "order_id, user_id, paid, lines, checkout_txn"
_TXN_COLUMNS = (
    "txn_id, order_id, user_id, lines, total, deadline, decision, refusal,"
    " stock_done, payment_done, lease_owner, lease_until, finished, trace_parent"
)


def migrate(conn: sqlite3.Connection) -> None:
    """Files made before checkouts kept their trace get the column (empty: nothing to link)."""
    add_column(conn, "checkouts", "trace_parent TEXT")


def _order_row(order: Order) -> tuple:
    lines = json.dumps([[ln.item_id, ln.quantity, ln.unit_price] for ln in order.lines])
    return (order.order_id, order.user_id, int(order.paid), lines, order.checkout_txn)


def _txn_row(txn: CheckoutTxn) -> tuple:
    return (
        txn.txn_id,
        txn.order_id,
        txn.user_id,
        json.dumps(txn.lines),
        txn.total,
        txn.deadline,
        txn.decision.value if txn.decision else None,
        json.dumps(txn.refusal) if txn.refusal else None,
        int(txn.stock_done),
        int(txn.payment_done),
        txn.lease_owner,
        txn.lease_until,
        int(txn.finished),
        txn.trace_parent or None,
    )


def _txn(row: tuple) -> CheckoutTxn:
    return CheckoutTxn(
        txn_id=row[0],
        order_id=row[1],
        user_id=row[2],
        lines=json.loads(row[3]),
        total=row[4],
        deadline=row[5],
        decision=Decision(row[6]) if row[6] else None,
        refusal=json.loads(row[7]) if row[7] else None,
        stock_done=bool(row[8]),
        payment_done=bool(row[9]),
        lease_owner=row[10],
        lease_until=row[11],
        trace_parent=row[13] or "",
    )


class SqliteOrders(SqliteOutbox):
    SERVICE = "order"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, order_id: str) -> Order | None:
        row = self._conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return None
        lines = [Line(*line) for line in json.loads(row[3])]
        return Order(row[0], row[1], bool(row[2]), lines, row[4])

    def put(self, order: Order) -> None:
        self._conn.execute(
            f"INSERT OR REPLACE INTO orders ({_ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            _order_row(order),
        )

    def put_many(self, orders: Iterable[Order]) -> None:
        self._conn.executemany(
            f"INSERT OR REPLACE INTO orders ({_ORDER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (_order_row(order) for order in orders),
        )

    def delete(self, order_id: str) -> None:
        self._conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))

    def get_txn(self, txn_id: str) -> CheckoutTxn | None:
        row = self._conn.execute(
            f"SELECT {_TXN_COLUMNS} FROM checkouts WHERE txn_id = ?", (txn_id,)
        ).fetchone()
        return _txn(row) if row else None

    def put_txn(self, txn: CheckoutTxn) -> None:
        self._conn.execute(
            f"INSERT OR REPLACE INTO checkouts ({_TXN_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _txn_row(txn),
        )

    def unfinished_txns(self, lease_expired_before: float, limit: int) -> list[str]:
        rows = self._conn.execute(
            "SELECT txn_id FROM checkouts WHERE finished = 0 AND lease_until < ?"
            " ORDER BY lease_until LIMIT ?",
            (lease_expired_before, limit),
        )
        return [row[0] for row in rows]


def open_sqlite_store(path: pathlib.Path, synchronous: str) -> SqliteStore[SqliteOrders]:
    return SqliteStore(path, SCHEMA, SqliteOrders, synchronous=synchronous, migrate=migrate)
