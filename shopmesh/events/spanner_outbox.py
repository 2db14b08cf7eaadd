"""The Outbox table in Spanner, mixed into every service's SpannerRepository."""

import base64
import zlib

from google.cloud import spanner

from shopmesh.events.audit import Event
from shopmesh.events.outbox import OutboxRow, encode_audit, encode_retry
from shopmesh.store.spanner import SpannerRepository

SHARDS = 16
_COLUMNS = ("Shard", "CommittedAt", "Position", "EventKey", "Topic", "Payload")


# Rows after (at, pos, shard, key) in (CommittedAt, Position, Shard, EventKey) order. The
# query helper types parameters as INT64 or STRING, so the timestamp travels as text.
_AFTER = (
    " WHERE CommittedAt > CAST(@at AS TIMESTAMP) OR (CommittedAt = CAST(@at AS TIMESTAMP)"
    " AND (Position > @pos OR (Position = @pos"
    " AND (Shard > @shard OR (Shard = @shard AND EventKey > @key)))))"
)


def _after_params(after: list) -> dict:
    shard, committed_at, position, key = after
    return {"at": committed_at.rfc3339(), "pos": position, "shard": shard, "key": key}


class SpannerOutbox(SpannerRepository):
    """Needs SpannerRepository's query/upsert/delete_rows and a class attribute SERVICE."""

    SERVICE: str
    _position = 0

    def record(self, event: Event) -> None:
        self._append(encode_audit(event, self.SERVICE))

    def record_retry(self, txn_id: str) -> None:
        self._append(encode_retry(txn_id))

    def _append(self, row: OutboxRow) -> None:
        # Position orders the events of one transaction, which share a commit timestamp.
        self._position += 1
        shard = zlib.crc32(row.key.encode()) % SHARDS
        payload = base64.b64encode(row.payload)  # the client takes BYTES base64-encoded
        values = (shard, spanner.COMMIT_TIMESTAMP, self._position, row.key, row.topic, payload)
        self.upsert("Outbox", _COLUMNS, [values])

    def pending_events(self, limit: int, after: list | None = None) -> list[tuple[list, OutboxRow]]:
        """The oldest `limit` rows, or the oldest after the row whose key is `after` (paging).
        Ordered by the whole primary key, so that a page never skips a row it ties with."""
        where, params = "", {}
        if after is not None:
            where, params = _AFTER, _after_params(after)
        rows = self.query(
            "SELECT Shard, CommittedAt, Position, EventKey, Topic, Payload FROM Outbox"
            f"{where} ORDER BY CommittedAt, Position, Shard, EventKey LIMIT @limit",
            limit=limit,
            **params,
        )
        # BYTES come back base64-encoded too.
        return [(row[:4], OutboxRow(row[4], row[3], base64.b64decode(row[5]))) for row in rows]

    def delete_events(self, keys: list) -> None:
        self.delete_rows("Outbox", [list(key) for key in keys])

    def outbox_size(self) -> int:
        return self.query("SELECT COUNT(*) FROM Outbox")[0][0]

    def claim_relay(self, owner: str, now: float, lease_s: float) -> bool:
        rows = self.query(
            "SELECT Owner, LeaseUntil FROM RelayLease WHERE Name = 'relay'", lock=True
        )
        if rows and rows[0][0] != owner and rows[0][1] > now:
            return False
        self.upsert(
            "RelayLease", ("Name", "Owner", "LeaseUntil"), [("relay", owner, now + lease_s)]
        )
        return True
