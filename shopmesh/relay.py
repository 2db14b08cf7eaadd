"""The outbox relay: publishes a store's outbox rows to Kafka, in outbox order, and deletes
them only once the broker has acknowledged them. Delivery is at least once (a crash between
publish and delete sends rows again); consumers deduplicate by event id.

Runs in every service process; a lease in the store lets one relay per store publish at a
time, so events leave in the order they were written. Kafka being down only delays events:
they wait in the outbox, and the request path never waits for Kafka.
"""

import asyncio
import logging
import time
import uuid

from shopmesh import faults
from shopmesh.kafka import KafkaSettings, ensure_topics, start_producer

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        store,
        settings: KafkaSettings,
        *,
        batch: int = 500,
        idle_s: float = 0.1,
        lease_s: float = 10.0,
    ) -> None:
        self._store = store
        self._settings = settings
        self._batch = batch
        self._idle_s = idle_s
        self._lease_s = lease_s
        self._owner = uuid.uuid4().hex
        self._producer = None

    async def run(self) -> None:
        backoff = 0.2
        try:
            while True:
                try:
                    sent = await self.relay_once()
                    backoff = 0.2
                except Exception as error:
                    log.warning("relay: %r; retrying in %.1fs", error, backoff)
                    await self._close_producer()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if sent < self._batch:
                    await asyncio.sleep(self._idle_s)
        finally:
            await self._close_producer()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows left the outbox."""
        claimed = await self._store.transact(
            lambda repo: repo.claim_relay(self._owner, time.time(), self._lease_s)
        )
        if not claimed:
            return 0
        rows = await self._store.read(lambda repo: repo.pending_events(self._batch))
        if not rows:
            return 0
        producer = await self._ensure_producer()
        acks = [
            await producer.send(
                self._settings.topic(row.topic), value=row.payload, key=row.key.encode()
            )
            for _, row in rows
        ]
        await asyncio.gather(*acks)
        faults.crash_point("relay.after_publish")
        keys = [key for key, _ in rows]
        await self._store.transact(lambda repo: repo.delete_events(keys))
        return len(rows)

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
