"""Re-drives checkout decisions that could not be delivered, from the Kafka retry topic.

The coordinator publishes a CheckoutRetry (through its outbox) when a commit or cancel did not
reach every participant. Workers in one consumer group (one per order-service process, so
several may run) take them and re-send the decision with backoff until both participants
acknowledge. Offsets are committed only after a retry is handled, so a crashed worker's events
are taken by another. Store-driven recovery stays the safety net when Kafka is down.

A worker handles its partitions' events one after another, so one transaction that can never
finish (a participant that refuses the decision for good, e.g. RESERVATION_NOT_FOUND after
lost data) must not hold up the rest: after `give_up_after_s` it is left to recovery, which
keeps resending it in its batches, and counted (`retry_event_gave_up`) so that someone looks.

With tracing on, each retry event is handled in a `checkout retry` span (CONSUMER) and each
attempt in a `redrive checkout` span below it that links the checkout's own trace.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from opentelemetry.trace import SpanKind

from order_svc.coordinator import CheckoutCoordinator
from shop.events.v1 import events_pb2
from shopmesh.events.kafka import KafkaSettings
from shopmesh.telemetry import request_context, tracing
from shopmesh.telemetry.metrics import recovery_action

log = logging.getLogger(__name__)
GROUP = "order-checkout-retry"


class CheckoutRetryWorker:
    def __init__(
        self,
        coordinator: CheckoutCoordinator,
        settings: KafkaSettings,
        *,
        first_delay_s: float = 0.5,
        max_delay_s: float = 10.0,
        give_up_after_s: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._coordinator = coordinator
        self._settings = settings
        self._first_delay_s = first_delay_s
        self._max_delay_s = max_delay_s
        self._give_up_after_s = give_up_after_s

    async def run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                self._settings.retry_topic,
                **self._settings.client_options(),
                group_id=GROUP,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
            )
            try:
                await consumer.start()
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("retry worker: %r; reconnecting", error)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        async for record in consumer:
            retry = events_pb2.CheckoutRetry.FromString(record.value)
            attributes = {
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "shop.txn_id": retry.transaction_id,
            }
            with (
                request_context.detached(retry.transaction_id),
                tracing.span("checkout retry", kind=SpanKind.CONSUMER, attributes=attributes),
            ):
                await self.handle(retry)
            await consumer.commit()

    async def handle(self, retry: events_pb2.CheckoutRetry) -> None:
        """Re-send the decision until both participants acknowledge, backing off; past
        `give_up_after_s` since it was requested, leave it to recovery."""
        requested = retry.requested_at.ToNanoseconds() / 1e9
        give_up_at = self._clock() + self._give_up_after_s
        delay = self._first_delay_s
        await asyncio.sleep(max(0.0, requested + delay - self._clock()))
        while not await self._redrive(retry.transaction_id):
            delay = min(delay * 2, self._max_delay_s)
            if self._clock() + delay > give_up_at:
                log.error("retry of %s: not finished, left to recovery", retry.transaction_id)
                recovery_action("retry_event_gave_up")
                return
            await asyncio.sleep(delay)
        log.info("retry of %s finished", retry.transaction_id)
        recovery_action("retry_event_done")

    async def _redrive(self, txn_id: str) -> bool:
        try:
            return await self._coordinator.redrive(txn_id)
        except Exception as error:
            log.warning("retrying %s: %r", txn_id, error)
            return False
