"""PaymentService over gRPC, and payment's part in checkout (ParticipantService): protobuf
in, rules or the service layer, protobuf out. No rules here."""

from functools import partial

from payment_svc import accounts, status
from payment_svc.store import PaymentStore
from shop.participant.v1 import participant_pb2
from shop.payment.v1 import payment_pb2 as pb
from shop.payment.v1 import payment_pb2_grpc
from shopmesh.participant.engine import Hold
from shopmesh.participant.servicer import wrong_hold


class PaymentParticipant:
    """Payment in checkout: a reservation holds a user's credit for an order; accounts'
    rules end it."""

    commit_reservation = staticmethod(accounts.commit_reservation)
    cancel_reservation = staticmethod(accounts.cancel_reservation)

    @staticmethod
    def hold(reservation: participant_pb2.Reservation) -> Hold:
        if reservation.WhichOneof("hold") != "credit":
            raise wrong_hold(reservation, "credit")
        credit = reservation.credit
        return partial(
            accounts.reserve_credit,
            txn_id=reservation.transaction_id,
            user_id=credit.user_id,
            order_id=credit.order_id,
            amount=credit.amount,
        )


class PaymentApi(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, store: PaymentStore, resolver: status.Resolver | None = None) -> None:
        self._store = store
        # Asks the coordinator about reservations still held (see GetPaymentStatus).
        self._resolver = resolver

    async def CreateUser(self, request: pb.CreateUserRequest, context) -> pb.CreateUserResponse:
        user = await self._store.transact(accounts.create_user)
        return pb.CreateUserResponse(user_id=user.user_id)

    async def BatchInitUsers(
        self, request: pb.BatchInitUsersRequest, context
    ) -> pb.BatchInitUsersResponse:
        batch = accounts.batch_users(request.n, request.starting_money)
        await self._store.put_in_chunks(batch, accounts.load_users, accounts.check_users)
        return pb.BatchInitUsersResponse(msg=f"Batch init for {request.n} users successful")

    async def FindUser(self, request: pb.FindUserRequest, context) -> pb.FindUserResponse:
        user = await self._store.read(partial(accounts.find_user, user_id=request.user_id))
        return pb.FindUserResponse(user_id=user.user_id, credit=user.credit)

    async def AddFunds(self, request: pb.AddFundsRequest, context) -> pb.AddFundsResponse:
        await self._store.transact(
            partial(accounts.add_funds, user_id=request.user_id, amount=request.amount)
        )
        return pb.AddFundsResponse(done=True)

    async def Pay(self, request: pb.PayRequest, context) -> pb.PayResponse:
        user = await self._store.transact(
            partial(accounts.pay, user_id=request.user_id, amount=request.amount)
        )
        return pb.PayResponse(user_id=user.user_id, credit=user.credit)

    async def PayOrder(self, request: pb.PayOrderRequest, context) -> pb.PayOrderResponse:
        user = await self._store.transact(
            partial(
                accounts.pay_order,
                user_id=request.user_id,
                order_id=request.order_id,
                amount=request.amount,
            )
        )
        return pb.PayOrderResponse(user_id=user.user_id, credit=user.credit)

    async def CancelPayment(
        self, request: pb.CancelPaymentRequest, context
    ) -> pb.CancelPaymentResponse:
        user = await self._store.transact(
            partial(accounts.cancel_payment, user_id=request.user_id, order_id=request.order_id)
        )
        return pb.CancelPaymentResponse(user_id=user.user_id, credit=user.credit)

    async def GetPaymentStatus(
        self, request: pb.GetPaymentStatusRequest, context
    ) -> pb.GetPaymentStatusResponse:
        paid = await status.is_paid(self._store, self._resolver, request.user_id, request.order_id)
        return pb.GetPaymentStatusResponse(paid=paid)
