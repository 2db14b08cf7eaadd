"""The transactional outbox's wire format: events encoded as shop.events.v1 messages.

Stores keep encoded rows (topic, key, payload) next to their data; the relay
(`shopmesh.events.relay`) publishes them and deletes them once the broker has acknowledged.

An event made while serving a request carries the request's id. Its transaction id is then
the request's too (where the request did not name one), so that the log lines that follow
name the checkout transaction the order service just began. With tracing on it carries the
call's trace id too.
"""

import time
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp

from shop.events.v1 import events_pb2
from shopmesh.events.audit import Event
from shopmesh.ids import new_id
from shopmesh.telemetry import request_context, tracing

AUDIT = "audit"
RETRY = "retry"


@dataclass(frozen=True)
class OutboxRow:
    """An event ready to publish: the logical topic (AUDIT or RETRY), the Kafka key, bytes."""

    topic: str
    key: str
    payload: bytes


def now() -> Timestamp:
    """This moment, for an event (shoptools.sim replaces it with its clock)."""
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    return Timestamp(seconds=seconds, nanos=nanos)


def encode_audit(event: Event, service: str, occurred_at: Timestamp | None = None) -> OutboxRow:
    """`occurred_at` defaults to now; a store passes its transaction's one moment, shared by
    every event the transaction records (they all happen at its commit)."""
    request = request_context.current()
    request_context.note_txn(event.transaction_id)
    message = events_pb2.AuditEvent(
        event_id=new_id(),
        occurred_at=occurred_at or now(),
        entity_key=event.entity_key,
        service=service,
        transaction_id=event.transaction_id,
        request_id=request.request_id if request is not None else "",
        trace_id=tracing.trace_id() if tracing.enabled() else "",
        **{event.change: event.fields},
    )
    return OutboxRow(AUDIT, event.entity_key, message.SerializeToString())


def encode_retry(txn_id: str) -> OutboxRow:
    message = events_pb2.CheckoutRetry(event_id=new_id(), transaction_id=txn_id, requested_at=now())
    return OutboxRow(RETRY, txn_id, message.SerializeToString())
