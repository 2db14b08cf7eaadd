"""OrderService over gRPC: protobuf in, rules, protobuf out. No rules here."""

import logging
from functools import partial

from google.protobuf import struct_pb2

from order_svc import ordering, orders
from order_svc.checkout import Decision
from order_svc.coordinator import CheckoutCoordinator
from order_svc.orders import Order
from order_svc.peers import Peers
from order_svc.store import OrderStore
from shop.order.v1 import order_pb2 as pb
from shop.order.v1 import order_pb2_grpc
from shopmesh.errors import ShopError
from shopmesh.telemetry import metrics, request_context

log = logging.getLogger(__name__)

_OUTCOMES = {
    None: pb.CHECKOUT_OUTCOME_PENDING,
    Decision.COMMIT: pb.CHECKOUT_OUTCOME_COMMITTED,
    Decision.ABORT: pb.CHECKOUT_OUTCOME_ABORTED,
}


def _answered(order_id: str, reason: str) -> None:
    """Count and log how a checkout ended: "OK" (paid) or the refusal's reason. The line names
    the request and its transaction (see shopmesh.telemetry.logs), in every service alike."""
    metrics.checkout_outcome(reason)
    log.info("checkout of order %s: %s", order_id, reason)


def _items(order: Order) -> list[struct_pb2.ListValue]:
    pairs = []
    for line in order.lines:
        pair = struct_pb2.ListValue()
        pair.extend([line.item_id, line.quantity])
        pairs.append(pair)
    return pairs


class OrderApi(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, store: OrderStore, peers: Peers, coordinator: CheckoutCoordinator) -> None:
        self._store = store
        self._peers = peers
        self._coordinator = coordinator

    async def CreateOrder(self, request: pb.CreateOrderRequest, context) -> pb.CreateOrderResponse:
        order = await ordering.create_order(self._store, self._peers, request.user_id)
        return pb.CreateOrderResponse(order_id=order.order_id)

    async def BatchInitOrders(
        self, request: pb.BatchInitOrdersRequest, context
    ) -> pb.BatchInitOrdersResponse:
        batch = orders.batch_orders(request.n, request.n_items, request.n_users, request.item_price)
        await self._store.put_in_chunks(batch, orders.load_orders)
        return pb.BatchInitOrdersResponse(msg=f"Batch init for {request.n} orders successful")

    async def FindOrder(self, request: pb.FindOrderRequest, context) -> pb.FindOrderResponse:
        order = await self._store.read(partial(orders.find_order, order_id=request.order_id))
        return pb.FindOrderResponse(
            order_id=order.order_id,
            paid=order.paid,
            items=_items(order),
            user_id=order.user_id,
            total_cost=order.total_cost,
        )

    async def AddItem(self, request: pb.AddItemRequest, context) -> pb.AddItemResponse:
        quantity = request.quantity if request.HasField("quantity") else 1
        order = await ordering.add_item(
            self._store, self._peers, request.order_id, request.item_id, quantity
        )
        return pb.AddItemResponse(order_id=order.order_id, total_cost=order.total_cost)

    async def RemoveItem(self, request: pb.RemoveItemRequest, context) -> pb.RemoveItemResponse:
        order = await self._store.transact(
            partial(orders.remove_item, order_id=request.order_id, item_id=request.item_id)
        )
        return pb.RemoveItemResponse(order_id=order.order_id, total_cost=order.total_cost)

    async def DeleteOrder(self, request: pb.DeleteOrderRequest, context) -> pb.DeleteOrderResponse:
        await self._store.transact(partial(orders.delete_order, order_id=request.order_id))
        return pb.DeleteOrderResponse(order_id=request.order_id)

    async def Checkout(self, request: pb.CheckoutRequest, context) -> pb.CheckoutResponse:
        try:
            paid = await self._coordinator.checkout(request.order_id)
        except ShopError as refusal:
            _answered(request.order_id, refusal.reason)
            raise
        except Exception:
            _answered(request.order_id, "INTERNAL")
            raise
        request_context.note_txn(paid.txn_id)
        _answered(request.order_id, "OK")
        return pb.CheckoutResponse(
            order_id=paid.order_id,
            paid=True,
            total_cost=paid.total_cost,
            transaction_id=paid.txn_id,
        )

    async def GetCheckoutOutcome(
        self, request: pb.GetCheckoutOutcomeRequest, context
    ) -> pb.GetCheckoutOutcomeResponse:
        decision = await self._coordinator.outcome(request.transaction_id)
        return pb.GetCheckoutOutcomeResponse(outcome=_OUTCOMES[decision])
