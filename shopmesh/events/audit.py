"""Audit events as the rules see them: plain data, recorded through the repository in the
same transaction as the change they describe (the transactional outbox). Pure: the store's
outbox turns them into shop.events.v1 messages."""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Event:
    """One state change of one entity."""

    entity_key: str
    # The AuditEvent `change` field it fills, e.g. "stock_subtracted".
    change: str
    # That payload's fields, e.g. {"amount": 2, "stock": 8}.
    fields: dict = field(default_factory=dict)
    transaction_id: str = ""


class Recorder(Protocol):
    def record(self, event: Event) -> None:
        """Write the event to the outbox, in the caller's transaction."""


def item_key(item_id: str) -> str:
    return f"item/{item_id}"


def user_key(user_id: str) -> str:
    return f"user/{user_id}"


def order_key(order_id: str) -> str:
    return f"order/{order_id}"
