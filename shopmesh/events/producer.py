"""What the outbox relay needs of a Kafka producer (aiokafka's AIOKafkaProducer has it), so
that anything else that has it (a test's fake broker, the simulator's) can stand in."""

import asyncio
from typing import Protocol


class RecordBatch(Protocol):
    """A record batch being filled: appended to the partition whole or not at all."""

    def append(self, *, key: bytes | None, value: bytes | None, timestamp: int | None) -> object:
        """The record's metadata, or None when the batch is full."""
        ...


class BatchProducer(Protocol):
    async def partitions_for(self, topic: str) -> set[int]: ...

    def create_batch(self) -> RecordBatch: ...

    async def send_batch(
        self, batch: RecordBatch, topic: str, *, partition: int
    ) -> "asyncio.Future[object]":
        """Queue the batch for the partition; the future resolves once the broker acked it."""
        ...

    async def stop(self) -> None: ...
