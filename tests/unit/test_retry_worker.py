"""The retry worker (order_svc.retry_worker) without Kafka: what it does with one retry event."""

import asyncio
import time

from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import REGISTRY

from order_svc.retry_worker import CheckoutRetryWorker
from shop.events.v1 import events_pb2
from shopmesh.events.kafka import KafkaSettings
from shopmesh.telemetry import metrics


class Coordinator:
    """Answers `redrive` from a script: False (not finished) `unfinished` times, then True."""

    def __init__(self, unfinished: int) -> None:
        self.unfinished = unfinished
        self.redrives = 0

    async def redrive(self, txn_id: str) -> bool:
        self.redrives += 1
        return self.redrives > self.unfinished


def _retry(txn_id: str) -> events_pb2.CheckoutRetry:
    now = Timestamp()
    now.FromNanoseconds(time.time_ns())
    return events_pb2.CheckoutRetry(event_id="e", transaction_id=txn_id, requested_at=now)


def _worker(coordinator: Coordinator, give_up_after_s: float) -> CheckoutRetryWorker:
    settings = KafkaSettings("", "audit", "retry", "test")
    return CheckoutRetryWorker(
        coordinator,
        settings,
        first_delay_s=0.01,
        max_delay_s=0.02,
        give_up_after_s=give_up_after_s,
    )


def _count(action: str) -> float:
    labels = {"service": "order", "action": action}
    return REGISTRY.get_sample_value("shop_recovery_actions_total", labels) or 0.0


async def test_a_retry_is_redriven_until_both_participants_acknowledge():
    metrics.initialise("order")
    done = _count("retry_event_done")
    coordinator = Coordinator(unfinished=3)
    await _worker(coordinator, give_up_after_s=30).handle(_retry("t1"))
    assert coordinator.redrives == 4
    assert _count("retry_event_done") == done + 1


async def test_a_transaction_that_never_finishes_is_left_to_recovery_and_counted():
    """A permanent refusal must not block the worker's partition for good."""
    metrics.initialise("order")
    gave_up = _count("retry_event_gave_up")
    coordinator = Coordinator(unfinished=10**9)
    # Bounded here: a worker that never gives up would hang the test, not fail it.
    await asyncio.wait_for(_worker(coordinator, give_up_after_s=0.2).handle(_retry("t1")), 10)
    assert 3 <= coordinator.redrives < 100
    assert _count("retry_event_gave_up") == gave_up + 1
