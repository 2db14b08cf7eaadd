"""The order service's tables in memory (shopmesh.store.memory), orders and the checkout log:
for tests and the simulator; the data is lost when the process exits."""

import dataclasses
import json
from collections.abc import Iterable

from order_svc.checkout import CheckoutTxn, Decision
from order_svc.orders import Line, Order
from shopmesh.events import memory_outbox
from shopmesh.events.memory_outbox import MemoryOutbox
from shopmesh.store.memory import MemoryStore, Tables, check, check_ints

TABLES = memory_outbox.TABLES + ("orders", "checkouts")


def _order(order: Order) -> Order:
    lines = [Line(ln.item_id, ln.quantity, ln.unit_price) for ln in order.lines]
    for line in lines:
        check_ints(quantity=line.quantity, unit_price=line.unit_price)
    return dataclasses.replace(order, paid=bool(order.paid), lines=lines)


def _json(value: dict | None) -> dict | None:
    # Through JSON, as the SQL adapters store it: what is not JSON-able fails here too.
    return json.loads(json.dumps(value)) if value else None


def _txn(txn: CheckoutTxn) -> CheckoutTxn:
    check(txn.decision is None or isinstance(txn.decision, Decision), "decision IN (...)")
    check_ints(total=txn.total)
    return dataclasses.replace(txn, lines=dict(txn.lines), refusal=_json(txn.refusal))


class MemoryOrders(MemoryOutbox):
    SERVICE = "order"

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def get(self, order_id: str) -> Order | None:
        order = self._tables.rows("orders").get(order_id)
        return _order(order) if order is not None else None

    def put(self, order: Order) -> None:
        self.put_many([order])

    def put_many(self, orders: Iterable[Order]) -> None:
        rows = self._tables.writable("orders")
        for order in orders:
            rows[order.order_id] = _order(order)

    def delete(self, order_id: str) -> None:
        self._tables.writable("orders").pop(order_id, None)

    def get_txn(self, txn_id: str) -> CheckoutTxn | None:
        txn = self._tables.rows("checkouts").get(txn_id)
        return _txn(txn) if txn is not None else None

    def put_txn(self, txn: CheckoutTxn) -> None:
        self._tables.writable("checkouts")[txn.txn_id] = _txn(txn)

    def unfinished_txns(self, lease_expired_before: float, limit: int) -> list[str]:
        due = [
            txn
            for txn in self._tables.rows("checkouts").values()
            if not txn.finished and txn.lease_until < lease_expired_before
        ]
        due.sort(key=lambda txn: txn.lease_until)
        return [txn.txn_id for txn in due[:limit]]


def open_memory_store() -> MemoryStore[MemoryOrders]:
    return MemoryStore(TABLES, MemoryOrders, name="order")
