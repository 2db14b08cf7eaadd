"""The order rules: orders, their lines and what may change while they are unpaid.

Pure Python: every function takes an `Orders` repository that the store hands it inside one
transaction, so a read-check-write here is atomic whatever the store.
"""

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from shopmesh.errors import FailedPrecondition, NotFound, OutOfRange
from shopmesh.events.audit import Event, Recorder, order_key
from shopmesh.validation import MAX_INT32, require_id, require_non_negative, require_positive


@dataclass
class Line:
    item_id: str
    quantity: int
    unit_price: int

    @property
    def cost(self) -> int:
        return self.quantity * self.unit_price


@dataclass
class Order:
    order_id: str
    user_id: str
    paid: bool = False
    lines: list[Line] = field(default_factory=list)
    # The checkout transaction under way, or the one that paid the order.
    checkout_txn: str | None = None

    @property
    def total_cost(self) -> int:
        return sum(line.cost for line in self.lines)

    def quantities(self) -> dict[str, int]:
        """Units per item, summed over the lines."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.item_id] = totals.get(line.item_id, 0) + line.quantity
        return totals


class Orders(Recorder, Protocol):
    """The orders table as one transaction sees it."""

    def get(self, order_id: str) -> Order | None: ...

    def put(self, order: Order) -> None: ...

    def put_many(self, orders: Iterable[Order]) -> None: ...

    def delete(self, order_id: str) -> None: ...


def new_order(user_id: str) -> Order:
    return Order(order_id=str(uuid.uuid4()), user_id=require_id(user_id, "user_id"))


def create_order(orders: Orders, order: Order) -> Order:
    orders.put(order)
    fields = {"user_id": order.user_id, "total_cost": order.total_cost}
    orders.record(Event(order_key(order.order_id), "order_created", fields))
    return order


def load_orders(orders: Orders, batch: list[Order]) -> None:
    """batch_init: (over)write orders, each with its own event."""
    orders.put_many(batch)
    for order in batch:
        fields = {"user_id": order.user_id, "total_cost": order.total_cost}
        orders.record(Event(order_key(order.order_id), "order_created", fields))


def batch_orders(
    n: int, n_items: int, n_users: int, item_price: int, rng: random.Random | None = None
) -> Iterator[Order]:
    require_positive(n, "n", "INVALID_COUNT")
    require_positive(n_items, "n_items", "INVALID_COUNT")
    require_positive(n_users, "n_users", "INVALID_COUNT")
    require_non_negative(item_price, "item_price", "INVALID_PRICE")
    if 2 * item_price > MAX_INT32:
        raise OutOfRange("COST_OVERFLOW", "two lines of item_price exceed the 32-bit range")
    rng = rng or random.Random()

    def order(i: int) -> Order:
        lines = [Line(str(rng.randrange(n_items)), 1, item_price) for _ in range(2)]
        return Order(str(i), str(rng.randrange(n_users)), False, lines)

    return (order(i) for i in range(n))


def find_order(orders: Orders, order_id: str) -> Order:
    require_id(order_id, "order_id")
    order = orders.get(order_id)
    if order is None:
        raise NotFound("ORDER_NOT_FOUND", f"order {order_id!r} does not exist", order_id=order_id)
    return order


def find_unpaid(orders: Orders, order_id: str) -> Order:
    order = find_order(orders, order_id)
    if order.paid:
        raise FailedPrecondition(
            "ORDER_ALREADY_PAID", f"order {order_id!r} is paid and cannot change", order_id=order_id
        )
    if order.checkout_txn:
        raise FailedPrecondition(
            "CHECKOUT_IN_PROGRESS",
            f"order {order_id!r} is being checked out and cannot change",
            order_id=order_id,
        )
    return order


def check_new_line(item_id: str, quantity: int) -> None:
    """What can be checked of a line before its price is known."""
    require_id(item_id, "item_id")
    require_positive(quantity, "quantity", "INVALID_QUANTITY")


def check_quantities(order: Order) -> None:
    """Every item's units over all lines, and all units of the order, must fit the 32 bits a
    reservation line and the API carry (prices may be 0, so the cost does not bound them)."""
    quantities = order.quantities()
    for item_id, units in quantities.items():
        if units > MAX_INT32:
            raise OutOfRange(
                "QUANTITY_OVERFLOW",
                f"order {order.order_id!r} would hold {units} units of item {item_id!r};"
                f" at most {MAX_INT32}",
                order_id=order.order_id,
                item_id=item_id,
            )
    if sum(quantities.values()) > MAX_INT32:
        raise OutOfRange(
            "QUANTITY_OVERFLOW",
            f"order {order.order_id!r} would hold more than {MAX_INT32} units in all",
            order_id=order.order_id,
        )


def add_item(orders: Orders, order_id: str, line: Line) -> Order:
    check_new_line(line.item_id, line.quantity)
    order = find_unpaid(orders, order_id)
    total = order.total_cost + line.cost
    if total > MAX_INT32:
        raise OutOfRange(
            "COST_OVERFLOW",
            f"total cost would exceed {MAX_INT32} ({order.total_cost} + {line.cost})",
            order_id=order_id,
        )
    check_quantities(Order(order.order_id, order.user_id, lines=[*order.lines, line]))
    order.lines.append(line)
    orders.put(order)
    fields = {
        "item_id": line.item_id,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "total_cost": order.total_cost,
    }
    orders.record(Event(order_key(order_id), "order_item_added", fields))
    return order


def remove_item(orders: Orders, order_id: str, item_id: str) -> Order:
    require_id(item_id, "item_id")
    order = find_unpaid(orders, order_id)
    kept = [line for line in order.lines if line.item_id != item_id]
    if len(kept) == len(order.lines):
        raise NotFound(
            "ITEM_NOT_IN_ORDER",
            f"order {order_id!r} has no line of item {item_id!r}",
            order_id=order_id,
            item_id=item_id,
        )
    order.lines = kept
    orders.put(order)
    fields = {"item_id": item_id, "total_cost": order.total_cost}
    orders.record(Event(order_key(order_id), "order_item_removed", fields))
    return order


def delete_order(orders: Orders, order_id: str) -> None:
    find_unpaid(orders, order_id)
    orders.delete(order_id)
    orders.record(Event(order_key(order_id), "order_deleted"))
