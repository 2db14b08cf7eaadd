"""The order service's view of stock and payment: typed gRPC calls with deadlines."""

from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.clients import call, open_channel

STOCK_SERVICE = stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name
PAYMENT_SERVICE = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name


class Peers:
    def __init__(self, stock_addr: str, payment_addr: str, timeout_s: float) -> None:
        self._stock_channel = open_channel(stock_addr, [STOCK_SERVICE])
        self._payment_channel = open_channel(payment_addr, [PAYMENT_SERVICE])
        self.stock = stock_pb2_grpc.StockServiceStub(self._stock_channel)
        self.payment = payment_pb2_grpc.PaymentServiceStub(self._payment_channel)
        self.timeout_s = timeout_s

    async def item_price(self, item_id: str) -> int:
        """The item's current price; ITEM_NOT_FOUND if stock does not know it."""
        found = await call(
            self.stock.FindItem,
            stock_pb2.FindItemRequest(item_id=item_id),
            timeout_s=self.timeout_s,
            peer="stock",
        )
        return found.price

    async def require_user(self, user_id: str) -> None:
        """USER_NOT_FOUND unless payment knows the user."""
        await call(
            self.payment.FindUser,
            payment_pb2.FindUserRequest(user_id=user_id),
            timeout_s=self.timeout_s,
            peer="payment",
        )

    async def close(self) -> None:
        await self._stock_channel.close()
        await self._payment_channel.close()

    async def reserve_stock(self, txn_id: str, lines: dict[str, int], timeout_s: float) -> None:
        request = stock_pb2.ReserveStockRequest(
            transaction_id=txn_id,
            lines=[stock_pb2.ReservationLine(item_id=i, quantity=q) for i, q in lines.items()],
        )
        await call(self.stock.ReserveStock, request, timeout_s=timeout_s, peer="stock")

    async def reserve_credit(
        self, txn_id: str, user_id: str, order_id: str, amount: int, timeout_s: float
    ) -> None:
        request = payment_pb2.ReserveCreditRequest(
            transaction_id=txn_id, user_id=user_id, order_id=order_id, amount=amount
        )
        await call(self.payment.ReserveCredit, request, timeout_s=timeout_s, peer="payment")

    async def settle(self, peer: str, txn_id: str, commit: bool) -> None:
        """Send the decision to one participant: commit or cancel its reservation."""
        module = stock_pb2 if peer == "stock" else payment_pb2
        stub = self.stock if peer == "stock" else self.payment
        if commit:
            method, request = stub.CommitReservation, module.CommitReservationRequest
        else:
            method, request = stub.CancelReservation, module.CancelReservationRequest
        await call(method, request(transaction_id=txn_id), timeout_s=self.timeout_s, peer=peer)
