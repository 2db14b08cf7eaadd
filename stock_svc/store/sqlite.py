"""The embedded default store: one SQLite file per stock service."""

import json
import pathlib
import sqlite3
from collections.abc import Iterable

from shopmesh.events import sqlite_outbox
from shopmesh.events.sqlite_outbox import SqliteOutbox
from shopmesh.participant import sqlite as sqlite_reservations
from shopmesh.participant.sqlite import SqliteReservations
from shopmesh.store.sqlite import SqliteStore, add_column
from stock_svc.inventory import Item

SCHEMA = (
    sqlite_reservations.SCHEMA
    + sqlite_outbox.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    stock   INTEGER NOT NULL CHECK (stock >= 0),
    price   INTEGER NOT NULL CHECK (price >= 0),
    held    INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0)
) WITHOUT ROWID;
"""
)


def migrate(conn: sqlite3.Connection) -> None:
    """Files made before items counted their held units get the column, filled from the
    reservations still HELD."""
    if add_column(conn, "items", "held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0)"):
        for (payload,) in conn.execute("SELECT payload FROM reservations WHERE state = 'HELD'"):
            for item_id, quantity in json.loads(payload)["lines"].items():
                conn.execute(
                    "UPDATE items SET held = held + ? WHERE item_id = ?", (quantity, item_id)
                )


_PUT_ITEM = "INSERT OR REPLACE INTO items (item_id, stock, price, held) VALUES (?, ?, ?, ?)"


def _item_row(item: Item) -> tuple:
    return (item.item_id, item.stock, item.price, item.held)


class SqliteItems(SqliteReservations, SqliteOutbox):
    SERVICE = "stock"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, item_id: str) -> Item | None:
        row = self._conn.execute(
            "SELECT item_id, stock, price, held FROM items WHERE item_id = ?", (item_id,)
        ).fetchone()
        return Item(*row) if row else None

    def put(self, item: Item) -> None:
        self._conn.execute(_PUT_ITEM, _item_row(item))  # one row: no executemany around it

    def put_many(self, items: Iterable[Item]) -> None:
        self._conn.executemany(_PUT_ITEM, map(_item_row, items))

    def held_of(self, item_ids: list[str]) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT item_id, held FROM items"
            " WHERE item_id IN (SELECT value FROM json_each(?)) AND held > 0",
            (json.dumps(item_ids),),
        )
        return dict(rows)


def open_sqlite_store(path: pathlib.Path, synchronous: str) -> SqliteStore[SqliteItems]:
    return SqliteStore(path, SCHEMA, SqliteItems, synchronous=synchronous, migrate=migrate)
