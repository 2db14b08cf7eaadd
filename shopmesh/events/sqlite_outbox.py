"""The outbox table in SQLite, mixed into every service's repository."""

import sqlite3

from google.protobuf.timestamp_pb2 import Timestamp

from shopmesh.events import outbox
from shopmesh.events.audit import Event
from shopmesh.events.outbox import OutboxRow, encode_audit, encode_retry

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    topic   TEXT NOT NULL,
    key     TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS relay_lease (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
) WITHOUT ROWID;
"""


class SqliteOutbox:
    """Needs `self._conn` and a class attribute SERVICE. One instance serves one store
    transaction (SqliteStore makes a repository per transaction)."""

    _conn: sqlite3.Connection
    SERVICE: str
    # The transaction's moment, taken at its first event: every event it records shares it.
    _occurred_at: Timestamp | None = None

    def record(self, event: Event) -> None:
        if self._occurred_at is None:
            self._occurred_at = outbox.now()
        self._append(encode_audit(event, self.SERVICE, self._occurred_at))

    def record_retry(self, txn_id: str) -> None:
        self._append(encode_retry(txn_id))

    def _append(self, row: OutboxRow) -> None:
        self._conn.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES (?, ?, ?)",
            (row.topic, row.key, row.payload),
        )

    def pending_events(self, limit: int, after: int | None = None) -> list[tuple[int, OutboxRow]]:
        """The oldest `limit` rows, or the oldest after the row whose id is `after` (paging)."""
        rows = self._conn.execute(
            "SELECT seq, topic, key, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (-1 if after is None else after, limit),
        )
        return [(seq, OutboxRow(topic, key, payload)) for seq, topic, key, payload in rows]

    def delete_events(self, seqs: list) -> None:
        self._conn.executemany("DELETE FROM outbox WHERE seq = ?", ((s,) for s in seqs))

    def outbox_size(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def claim_relay(self, owner: str, now: float, lease_s: float) -> bool:
        """One relay per store, so that events leave in outbox order."""
        row = self._conn.execute(
            "SELECT owner, until FROM relay_lease WHERE name = 'relay'"
        ).fetchone()
        if row and row[0] != owner and row[1] > now:
            return False
        self._conn.execute(
            "INSERT OR REPLACE INTO relay_lease (name, owner, until) VALUES ('relay', ?, ?)",
            (owner, now + lease_s),
        )
        return True
