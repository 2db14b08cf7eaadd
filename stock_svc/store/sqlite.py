"""The embedded default store: one SQLite file per stock service."""

import pathlib
import sqlite3
from collections.abc import Iterator

from shopmesh import sqlite_outbox, sqlite_reservations
from shopmesh.sqlite import SqliteStore
from shopmesh.sqlite_outbox import SqliteOutbox
from shopmesh.sqlite_reservations import SqliteReservations
from stock_svc.inventory import Item

SCHEMA = (
    sqlite_reservations.SCHEMA
    + sqlite_outbox.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    stock   INTEGER NOT NULL CHECK (stock >= 0),
    price   INTEGER NOT NULL CHECK (price >= 0)
) WITHOUT ROWID;
"""
)


class SqliteItems(SqliteReservations, SqliteOutbox):
    SERVICE = "stock"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, item_id: str) -> Item | None:
        row = self._conn.execute(
            "SELECT item_id, stock, price FROM items WHERE item_id = ?", (item_id,)
        ).fetchone()
        return Item(*row) if row else None

    def put(self, item: Item) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO items (item_id, stock, price) VALUES (?, ?, ?)",
            (item.item_id, item.stock, item.price),
        )

    def put_many(self, items: Iterator[Item]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO items (item_id, stock, price) VALUES (?, ?, ?)",
            ((i.item_id, i.stock, i.price) for i in items),
        )


def open_sqlite_store(path: pathlib.Path, synchronous: str) -> SqliteStore[SqliteItems]:
    return SqliteStore(path, SCHEMA, SqliteItems, synchronous=synchronous)
