"""The outbox in memory (shopmesh.store.memory), mixed into every service's in-memory
repository: the same rows, sequence and relay lease as the SQLite outbox."""

from itertools import islice

from shopmesh.events.audit import Event
from shopmesh.events.outbox import OutboxRow, encode_audit, encode_retry
from shopmesh.store.memory import Tables

# `outbox` maps seq -> OutboxRow in seq order (rows are only appended, with a growing seq);
# `outbox_seq` keeps the last seq given, never reused, like SQLite's AUTOINCREMENT.
TABLES = ("outbox", "outbox_seq", "relay_lease")


class MemoryOutbox:
    """Needs `self._tables` and a class attribute SERVICE."""

    _tables: Tables
    SERVICE: str

    def record(self, event: Event) -> None:
        self._append(encode_audit(event, self.SERVICE))

    def record_retry(self, txn_id: str) -> None:
        self._append(encode_retry(txn_id))

    def _append(self, row: OutboxRow) -> None:
        sequence = self._tables.writable("outbox_seq")
        seq = sequence.get("outbox", 0) + 1
        sequence["outbox"] = seq
        self._tables.writable("outbox")[seq] = row

    def pending_events(self, limit: int, after: int | None = None) -> list[tuple[int, OutboxRow]]:
        """The oldest `limit` rows, or the oldest after the row whose id is `after` (paging)."""
        start = -1 if after is None else after
        rows = self._tables.rows("outbox").items()
        return list(islice(((seq, row) for seq, row in rows if seq > start), limit))

    def delete_events(self, seqs: list) -> None:
        outbox = self._tables.writable("outbox")
        for seq in seqs:
            outbox.pop(seq, None)

    def outbox_size(self) -> int:
        return len(self._tables.rows("outbox"))

    def claim_relay(self, owner: str, now: float, lease_s: float) -> bool:
        """One relay per store, so that events leave in outbox order."""
        lease = self._tables.rows("relay_lease").get("relay")
        if lease and lease[0] != owner and lease[1] > now:
            return False
        self._tables.writable("relay_lease")["relay"] = (owner, now + lease_s)
        return True
