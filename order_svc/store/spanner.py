"""The production store: the order service's own Spanner database (orders and checkout log)."""

import json
import pathlib
from collections.abc import Iterable

from order_svc.checkout import CheckoutTxn, Decision
from order_svc.orders import Line, Order
from shopmesh.events.spanner_outbox import SpannerOutbox
from shopmesh.store.spanner import (
    NULL_FILTERED_OK,
    SpannerSettings,
    SpannerStore,
)
from shopmesh.store.spanner_schema import migrate

# The schema, as numbered DDL files (shopmesh.store.spanner_schema applies them).
DDL_DIR = pathlib.Path(__file__).with_name("spanner_ddl")

_ORDER_COLUMNS = ("OrderId", "UserId", "Paid", "Lines", "CheckoutTxn")
_TXN_COLUMNS = (
    "TxnId",
    "OrderId",
    "UserId",
    "Lines",
    "Total",
    "Deadline",
    "Decision",
    "Refusal",
    "StockDone",
    "PaymentDone",
    "LeaseOwner",
    "LeaseUntil",
    "TraceParent",
    "UnfinishedLeaseUntil",
)


def _order_row(order: Order) -> tuple:
    lines = json.dumps([[ln.item_id, ln.quantity, ln.unit_price] for ln in order.lines])
    return (order.order_id, order.user_id, order.paid, lines, order.checkout_txn)


def _txn_row(txn: CheckoutTxn) -> tuple:
    return (
        txn.txn_id,
        txn.order_id,
        txn.user_id,
        json.dumps(txn.lines),
        txn.total,
        txn.deadline,
        txn.decision.value if txn.decision else None,
        json.dumps(txn.refusal) if txn.refusal else None,
        txn.stock_done,
        txn.payment_done,
        txn.lease_owner,
        txn.lease_until,
        txn.trace_parent or None,
        None if txn.finished else txn.lease_until,
    )


def _txn(row: list) -> CheckoutTxn:
    return CheckoutTxn(
        txn_id=row[0],
        order_id=row[1],
        user_id=row[2],
        lines=json.loads(row[3]),
        total=row[4],
        deadline=row[5],
        decision=Decision(row[6]) if row[6] else None,
        refusal=json.loads(row[7]) if row[7] else None,
        stock_done=row[8],
        payment_done=row[9],
        lease_owner=row[10],
        lease_until=row[11],
        trace_parent=row[12] or "",
    )


class SpannerOrders(SpannerOutbox):
    SERVICE = "order"

    def get(self, order_id: str) -> Order | None:
        found, order = self.recall("Orders", order_id)
        if found:
            return order
        rows = self.query(
            f"SELECT {', '.join(_ORDER_COLUMNS)} FROM Orders WHERE OrderId = @order_id",
            lock=True,
            order_id=order_id,
        )
        if not rows:
            return None
        order_id, user_id, paid, lines, checkout_txn = rows[0]
        return Order(order_id, user_id, paid, [Line(*ln) for ln in json.loads(lines)], checkout_txn)

    def put(self, order: Order) -> None:
        self.put_many([order])

    def put_many(self, orders: Iterable[Order]) -> None:
        orders = list(orders)
        self.upsert("Orders", _ORDER_COLUMNS, [_order_row(order) for order in orders])
        for order in orders:
            self.remember("Orders", order.order_id, order)

    def delete(self, order_id: str) -> None:
        self.delete_rows("Orders", [[order_id]])
        self.remember("Orders", order_id, None)

    def get_txn(self, txn_id: str) -> CheckoutTxn | None:
        found, txn = self.recall("Checkouts", txn_id)
        if found:
            return txn
        rows = self.query(
            f"SELECT {', '.join(_TXN_COLUMNS[:-1])} FROM Checkouts WHERE TxnId = @txn_id",
            lock=True,
            txn_id=txn_id,
        )
        return _txn(rows[0]) if rows else None

    def put_txn(self, txn: CheckoutTxn) -> None:
        self.upsert("Checkouts", _TXN_COLUMNS, [_txn_row(txn)])
        self.remember("Checkouts", txn.txn_id, txn)

    def unfinished_txns(self, lease_expired_before: float, limit: int) -> list[str]:
        rows = self.query(
            f"SELECT TxnId FROM Checkouts@{{FORCE_INDEX=UnfinishedCheckouts, {NULL_FILTERED_OK}}}"
            " WHERE UnfinishedLeaseUntil IS NOT NULL AND UnfinishedLeaseUntil < @before"
            " ORDER BY UnfinishedLeaseUntil LIMIT @limit",
            before=lease_expired_before,
            limit=limit,
        )
        return [row[0] for row in rows]


def open_spanner_store(settings: SpannerSettings) -> SpannerStore[SpannerOrders]:
    return SpannerStore(settings, SpannerOrders, lambda: migrate(DDL_DIR, settings))
