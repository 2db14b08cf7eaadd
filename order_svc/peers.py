"""The order service's view of stock and payment: typed gRPC calls with deadlines."""

from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.errors import ShopError
from shopmesh.rpc.clients import call, open_channel
from shopmesh.rpc.status import error_from_status

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

    async def reserve_stock_many(
        self, reservations: list[tuple[str, dict[str, int]]], timeout_s: float
    ) -> list[ShopError | None]:
        """Phase one at stock for many transactions: (txn_id, units per item) each. Returns
        each one's refusal, or None where the stock is held."""
        request = stock_pb2.BatchReserveStockRequest(
            requests=[
                stock_pb2.ReserveStockRequest(
                    transaction_id=txn_id,
                    lines=[
                        stock_pb2.ReservationLine(item_id=i, quantity=q) for i, q in lines.items()
                    ],
                )
                for txn_id, lines in reservations
            ]
        )
        reply = await call(self.stock.BatchReserveStock, request, timeout_s=timeout_s, peer="stock")
        return _refusals(reply.results)

    async def reserve_credit_many(
        self, reservations: list[tuple[str, str, str, int]], timeout_s: float
    ) -> list[ShopError | None]:
        """Phase one at payment: (txn_id, user_id, order_id, amount) each."""
        request = payment_pb2.BatchReserveCreditRequest(
            requests=[
                payment_pb2.ReserveCreditRequest(
                    transaction_id=txn_id, user_id=user_id, order_id=order_id, amount=amount
                )
                for txn_id, user_id, order_id, amount in reservations
            ]
        )
        reply = await call(
            self.payment.BatchReserveCredit, request, timeout_s=timeout_s, peer="payment"
        )
        return _refusals(reply.results)

    def _participant(self, peer: str):
        """The generated messages module and the stub of "stock" or "payment"."""
        return (stock_pb2, self.stock) if peer == "stock" else (payment_pb2, self.payment)

    async def settle_many(self, peer: str, decisions: list[tuple[str, bool]]) -> dict[str, str]:
        """Send many decisions to one participant in one call: (txn_id, commit) each. Returns
        each transaction's refusal reason, "" where the decision was applied."""
        module, stub = self._participant(peer)
        commit, cancel = module.SETTLEMENT_DECISION_COMMIT, module.SETTLEMENT_DECISION_CANCEL
        request = module.SettleReservationsRequest(
            settlements=[
                module.Settlement(transaction_id=txn_id, decision=commit if yes else cancel)
                for txn_id, yes in decisions
            ]
        )
        reply = await call(stub.SettleReservations, request, timeout_s=self.timeout_s, peer=peer)
        return {result.transaction_id: result.refusal_reason for result in reply.results}


def _refusals(results) -> list[ShopError | None]:
    return [error_from_status(r.error) if r.HasField("error") else None for r in results]
