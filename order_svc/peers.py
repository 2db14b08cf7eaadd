"""The order service's view of stock and payment: typed gRPC calls with deadlines. Each is
reached through its own service (FindItem, FindUser) and, for checkout, through the one
participant contract both implement (shop.participant.v1.ParticipantService)."""

from shop.participant.v1 import participant_pb2 as participant
from shop.participant.v1 import participant_pb2_grpc
from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.errors import ShopError
from shopmesh.rpc.clients import call, open_channel
from shopmesh.rpc.status import error_from_status

STOCK_SERVICE = stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name
PAYMENT_SERVICE = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name
PARTICIPANT_SERVICE = participant.DESCRIPTOR.services_by_name["ParticipantService"].full_name


class Peers:
    def __init__(self, stock_addr: str, payment_addr: str, timeout_s: float) -> None:
        self._stock_channel = open_channel(stock_addr, [STOCK_SERVICE, PARTICIPANT_SERVICE])
        self._payment_channel = open_channel(payment_addr, [PAYMENT_SERVICE, PARTICIPANT_SERVICE])
        self.stock = stock_pb2_grpc.StockServiceStub(self._stock_channel)
        self.payment = payment_pb2_grpc.PaymentServiceStub(self._payment_channel)
        # One typed stub per participant, by the peer name the coordinator uses.
        self.participants = {
            "stock": participant_pb2_grpc.ParticipantServiceStub(self._stock_channel),
            "payment": participant_pb2_grpc.ParticipantServiceStub(self._payment_channel),
        }
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
        return await self._reserve(
            "stock",
            [
                participant.Reservation(transaction_id=txn_id, stock=_stock_hold(lines))
                for txn_id, lines in reservations
            ],
            timeout_s,
        )

    async def reserve_credit_many(
        self, reservations: list[tuple[str, str, str, int]], timeout_s: float
    ) -> list[ShopError | None]:
        """Phase one at payment: (txn_id, user_id, order_id, amount) each."""
        return await self._reserve(
            "payment",
            [
                participant.Reservation(
                    transaction_id=txn_id,
                    credit=participant.CreditHold(
                        user_id=user_id, order_id=order_id, amount=amount
                    ),
                )
                for txn_id, user_id, order_id, amount in reservations
            ],
            timeout_s,
        )

    async def _reserve(
        self, peer: str, reservations: list[participant.Reservation], timeout_s: float
    ) -> list[ShopError | None]:
        request = participant.ReserveRequest(reservations=reservations)
        reply = await call(self.participants[peer].Reserve, request, timeout_s=timeout_s, peer=peer)
        return [error_from_status(r.error) if r.HasField("error") else None for r in reply.results]

    async def settle_many(self, peer: str, decisions: list[tuple[str, bool]]) -> dict[str, str]:
        """Send many decisions to one participant in one call: (txn_id, commit) each. Returns
        each transaction's refusal reason, "" where the decision was applied."""
        commit, cancel = (
            participant.SETTLEMENT_DECISION_COMMIT,
            participant.SETTLEMENT_DECISION_CANCEL,
        )
        request = participant.SettleRequest(
            settlements=[
                participant.Settlement(transaction_id=txn_id, decision=commit if yes else cancel)
                for txn_id, yes in decisions
            ]
        )
        reply = await call(
            self.participants[peer].Settle, request, timeout_s=self.timeout_s, peer=peer
        )
        return {result.transaction_id: result.refusal_reason for result in reply.results}


def _stock_hold(lines: dict[str, int]) -> participant.StockHold:
    return participant.StockHold(
        lines=[participant.StockLine(item_id=i, quantity=q) for i, q in lines.items()]
    )
