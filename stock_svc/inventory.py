"""The stock rules: items, their price and stock, and how stock may change.

Pure Python: every function takes an `Items` repository that the store hands it inside one
transaction, so a read-check-write here is atomic whatever the store.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from shopmesh.errors import FailedPrecondition, NotFound
from shopmesh.events.audit import Event, Recorder, item_key
from shopmesh.participant import reservations
from shopmesh.participant.reservations import Reservation, Reservations
from shopmesh.store.bulk import Regenerated
from shopmesh.validation import checked_sum, require_id, require_non_negative, require_positive


@dataclass
class Item:
    item_id: str
    stock: int
    price: int
    # Units taken by reservations still HELD. They may come back (a cancel), so stock + held
    # must stay within the API's 32-bit range: every write that adds stock checks the sum.
    held: int = 0


class Items(Reservations, Recorder, Protocol):
    """The items and reservations tables as one transaction sees them."""

    def get(self, item_id: str) -> Item | None: ...

    def put(self, item: Item) -> None: ...

    def put_many(self, items: Iterable[Item]) -> None: ...

    def held_of(self, item_ids: list[str]) -> dict[str, int]:
        """Units held, for those of `item_ids` that hold any."""
        ...


def new_item(price: int) -> Item:
    require_non_negative(price, "price", "INVALID_PRICE")
    return Item(item_id=str(uuid.uuid4()), stock=0, price=price)


def create_item(items: Items, price: int) -> Item:
    item = new_item(price)
    items.put(item)
    items.record(Event(item_key(item.item_id), "item_created", {"price": price, "stock": 0}))
    return item


def load_items(items: Items, batch: list[Item]) -> None:
    """batch_init: (over)write items, each with its own event. Units a checkout holds stay
    held, and must still fit beside the new stock when they come back."""
    check_items(items, batch)  # again, if the store ran it before: a hold may have come since
    items.put_many(batch)
    for item in batch:
        fields = {"price": item.price, "stock": item.stock}
        items.record(Event(item_key(item.item_id), "item_created", fields))


def check_items(items: Items, batch: list[Item]) -> None:
    """batch_init's refusal (STOCK_OVERFLOW) on its own, writing nothing: each item of the
    batch takes the units held for it, and one that would not fit refuses. A store that loads
    in several transactions runs it over the whole batch before it writes the first chunk."""
    held = items.held_of([item.item_id for item in batch])
    for item in batch:
        item.held = held.get(item.item_id, 0)
        _check_room(item, 0)


def batch_items(n: int, starting_stock: int, item_price: int) -> Regenerated[Item]:
    require_positive(n, "n", "INVALID_COUNT")
    require_non_negative(starting_stock, "starting_stock", "INVALID_AMOUNT")
    require_non_negative(item_price, "item_price", "INVALID_PRICE")
    return Regenerated(lambda: (Item(str(i), starting_stock, item_price) for i in range(n)))


def find_item(items: Items, item_id: str) -> Item:
    require_id(item_id, "item_id")
    item = items.get(item_id)
    if item is None:
        raise NotFound("ITEM_NOT_FOUND", f"item {item_id!r} does not exist", item_id=item_id)
    return item


def _check_room(item: Item, amount: int) -> None:
    """Refuse stock that would not fit in 32 bits once every held unit came back."""
    if item.held:
        checked_sum(item.stock + item.held, amount, "stock plus units held", "STOCK_OVERFLOW")
    else:
        checked_sum(item.stock, amount, "stock", "STOCK_OVERFLOW")


def add_stock(items: Items, item_id: str, amount: int) -> Item:
    require_positive(amount, "amount", "INVALID_AMOUNT")
    item = find_item(items, item_id)
    _check_room(item, amount)
    item.stock += amount
    items.put(item)
    items.record(Event(item_key(item_id), "stock_added", {"amount": amount, "stock": item.stock}))
    return item


def subtract_stock(items: Items, item_id: str, amount: int) -> Item:
    item = _take(items, item_id, amount)
    fields = {"amount": amount, "stock": item.stock}
    items.record(Event(item_key(item_id), "stock_subtracted", fields))
    return item


def _take(items: Items, item_id: str, amount: int, *, hold: bool = False) -> Item:
    require_positive(amount, "amount", "INVALID_AMOUNT")
    item = find_item(items, item_id)
    if item.stock < amount:
        raise FailedPrecondition(
            "INSUFFICIENT_STOCK",
            f"item {item_id!r} has {item.stock} in stock, {amount} requested",
            item_id=item_id,
            stock=item.stock,
            requested=amount,
        )
    item.stock -= amount
    if hold:
        item.held += amount
    items.put(item)
    return item


def reserve_stock(items: Items, txn_id: str, lines: dict[str, int], now: float) -> Reservation:
    """Checkout phase one: take every line's units, all or none, held for `txn_id`."""

    def hold() -> dict:
        # Sorted, so that concurrent reservations lock rows in one order (Spanner).
        for item_id, quantity in sorted(lines.items()):
            require_positive(quantity, "quantity", "INVALID_QUANTITY")
            item = _take(items, item_id, quantity, hold=True)
            fields = {"quantity": quantity, "stock": item.stock}
            items.record(Event(item_key(item_id), "stock_reserved", fields, txn_id))
        return {"lines": lines}

    return reservations.reserve(items, txn_id, "", hold, now)


def commit_reservation(items: Items, txn_id: str, now: float) -> Reservation:
    def sell(payload: dict) -> None:
        for item_id, quantity in sorted(payload["lines"].items()):
            items.put(_unhold(items, item_id, quantity))
            fields = {"quantity": quantity}
            items.record(Event(item_key(item_id), "stock_committed", fields, txn_id))

    return reservations.commit(items, txn_id, now, sell)


def cancel_reservation(items: Items, txn_id: str, now: float) -> Reservation:
    def release(payload: dict) -> None:
        for item_id, quantity in sorted(payload["lines"].items()):
            # Giving back what was taken: it fits, since stock + held was kept in range.
            item = _unhold(items, item_id, quantity)
            item.stock += quantity
            items.put(item)
            fields = {"quantity": quantity, "stock": item.stock}
            items.record(Event(item_key(item_id), "stock_cancelled", fields, txn_id))

    return reservations.cancel(items, txn_id, release, now)


def _unhold(items: Items, item_id: str, quantity: int) -> Item:
    """A held reservation ends: its units are no longer held (sold, or given back by the
    caller, who writes the item). Never below zero: reservations made before `held` was
    counted are not in it."""
    item = find_item(items, item_id)
    item.held = max(0, item.held - quantity)
    return item
