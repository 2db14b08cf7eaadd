"""The embedded default store: one SQLite file per order service."""

import json
import pathlib
import sqlite3
from collections.abc import Iterator

from order_svc.orders import Line, Order
from shopmesh.sqlite import SqliteStore

# Lines are read and written with their order, never alone: one JSON column keeps an order
# one row (one read, one write per change).
SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    paid     INTEGER NOT NULL,
    lines    TEXT NOT NULL
) WITHOUT ROWID;
"""


def _row(order: Order) -> tuple:
    lines = json.dumps([[ln.item_id, ln.quantity, ln.unit_price] for ln in order.lines])
    return (order.order_id, order.user_id, int(order.paid), lines)


class SqliteOrders:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, order_id: str) -> Order | None:
        row = self._conn.execute(
            "SELECT order_id, user_id, paid, lines FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return None
        lines = [Line(*line) for line in json.loads(row[3])]
        return Order(row[0], row[1], bool(row[2]), lines)

    def put(self, order: Order) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO orders (order_id, user_id, paid, lines) VALUES (?, ?, ?, ?)",
            _row(order),
        )

    def put_many(self, orders: Iterator[Order]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO orders (order_id, user_id, paid, lines) VALUES (?, ?, ?, ?)",
            (_row(order) for order in orders),
        )

    def delete(self, order_id: str) -> None:
        self._conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))


def open_sqlite_store(path: pathlib.Path, synchronous: str) -> SqliteStore[SqliteOrders]:
    return SqliteStore(path, SCHEMA, SqliteOrders, synchronous=synchronous)
