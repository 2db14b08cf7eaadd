"""The outbox relay: publishes a store's outbox rows to Kafka, in outbox order, and deletes
them only once the broker has acknowledged them. Delivery is at least once (a crash between
publish and delete sends rows again); consumers deduplicate by event id.

Runs in every service process; a lease in the store lets one relay per store publish at a
time, so events leave in the order they were written. Kafka being down only delays events:
they wait in the outbox, and the request path never waits for Kafka.

Each pass costs two store commits and a round trip to the broker however few rows it carries,
so after a pass that did not fill a batch the relay lingers a moment (`linger_s`) to let rows
gather, and it renews its lease only when half of it has run out. Events are audit, not on
any request's path: a few more milliseconds before they reach Kafka cost nobody anything.
"""

import asyncio
import logging
import time
import uuid

from shopmesh import faults
from shopmesh.kafka import KafkaSettings, ensure_topics, start_producer
from shopmesh.metrics import OUTBOX_PUBLISHED, RELAY_ERRORS

log = logging.getLogger(__name__)


def first_per_key(rows: list) -> list:
    """The oldest pending row of each key. Sending at most one event per key at a time keeps
    each entity's events in order even when some sends fail and others succeed: a failed
    event is sent again before anything that followed it."""
    seen: set[str] = set()
    wave = []
    for entry in rows:
        if entry[1].key not in seen:
            seen.add(entry[1].key)
            wave.append(entry)
    return wave


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)


class OutboxRelay:
    def __init__(
        self,
        store,
        settings: KafkaSettings,
        *,
        batch: int = 500,
        idle_s: float = 0.1,
        linger_s: float = 0.02,
        lease_s: float = 10.0,
        service: str = "",
    ) -> None:
        self._store = store
        self._settings = settings
        self._batch = batch
        self._idle_s = idle_s
        self._linger_s = linger_s
        self._lease_s = lease_s
        self._lease_until = 0.0  # when the lease this relay holds runs out (0: none)
        self._owner = uuid.uuid4().hex
        self._producer = None
        # Counted per service, for shop_outbox_published_total and _relay_errors_total.
        self._published = OUTBOX_PUBLISHED.labels(service or settings.client_id)
        self._errors = RELAY_ERRORS.labels(service or settings.client_id)

    async def run(self) -> None:
        backoff = 0.2
        try:
            while True:
                try:
                    sent = await self.relay_once()
                    backoff = 0.2
                except Exception as error:
                    self._errors.inc()
                    log.warning("relay: %r; retrying in %.1fs", error, backoff)
                    await self._close_producer()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if sent == 0:
                    await asyncio.sleep(self._idle_s)
                elif sent < self._batch:
                    await asyncio.sleep(self._linger_s)
        finally:
            await self._close_producer()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows left the outbox."""
        if not await self._hold_lease():
            return 0
        rows = await self._store.read(lambda repo: repo.pending_events(self._batch))
        if not rows:
            return 0
        wave = first_per_key(rows)
        producer = await self._ensure_producer()
        acks = [
            await producer.send(
                self._settings.topic(row.topic), value=row.payload, key=row.key.encode()
            )
            for _, row in wave
        ]
        results = await asyncio.gather(*acks, return_exceptions=True)
        faults.crash_point("relay.after_publish")
        delivered = [
            key for (key, _), result in zip(wave, results, strict=True) if not _failed(result)
        ]
        if delivered:
            await self._store.transact(lambda repo: repo.delete_events(delivered))
            self._published.inc(len(delivered))
        failures = [result for result in results if _failed(result)]
        if failures:
            raise failures[0]
        return len(delivered)

    async def _hold_lease(self) -> bool:
        """Whether this relay may publish: it holds the lease, renewed when half has run out."""
        now = time.time()
        if now < self._lease_until - self._lease_s / 2:
            return True
        claimed = await self._store.transact(
            lambda repo: repo.claim_relay(self._owner, now, self._lease_s)
        )
        self._lease_until = now + self._lease_s if claimed else 0.0
        return claimed

    async def _ensure_producer(self):
        if self._producer is None:
            await ensure_topics(self._settings)
            self._producer = await start_producer(self._settings)
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except Exception as error:
                log.debug("closing the producer: %r", error)
