"""PaymentService over gRPC: protobuf in, rules, protobuf out. No rules here."""

import time
from functools import partial

from payment_svc import accounts
from payment_svc.store import PaymentStore
from shop.payment.v1 import payment_pb2 as pb
from shop.payment.v1 import payment_pb2_grpc
from shopmesh import faults
from shopmesh.errors import Aborted
from shopmesh.participant.servicer import ReservationEndpoints
from shopmesh.participant.stale import StaleReservationResolver


class PaymentApi(ReservationEndpoints, payment_pb2_grpc.PaymentServiceServicer):
    def __init__(
        self, store: PaymentStore, resolver: StaleReservationResolver | None = None
    ) -> None:
        self._store = store
        # Asks the coordinator about reservations still held (see GetPaymentStatus).
        self._resolver = resolver
        self._pb = pb
        self._rules = accounts

    async def CreateUser(self, request: pb.CreateUserRequest, context) -> pb.CreateUserResponse:
        user = await self._store.transact(accounts.create_user)
        return pb.CreateUserResponse(user_id=user.user_id)

    async def BatchInitUsers(
        self, request: pb.BatchInitUsersRequest, context
    ) -> pb.BatchInitUsersResponse:
        batch = accounts.batch_users(request.n, request.starting_money)
        await self._store.put_in_chunks(batch, accounts.load_users)
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
        status = partial(
            accounts.payment_status, user_id=request.user_id, order_id=request.order_id
        )
        undecided = partial(
            accounts.undecided_checkouts, user_id=request.user_id, order_id=request.order_id
        )
        # One snapshot: a commit arriving in between must not be missed by both reads.
        paid, held = await self._store.read(lambda repo: (status(repo), undecided(repo)))
        if not paid and held and self._resolver is not None:
            learned = [await self._resolver.resolve(txn_id) for txn_id in held]
            paid = await self._store.read(status)
            if not paid and not all(learned):
                # A checkout of the order may be paid already: "false" could be wrong.
                raise Aborted(
                    "DEPENDENCY_UNAVAILABLE",
                    f"order {request.order_id!r} has a checkout whose outcome the order service"
                    " could not tell; try again",
                    service="order",
                )
        return pb.GetPaymentStatusResponse(paid=paid)

    async def ReserveCredit(
        self, request: pb.ReserveCreditRequest, context
    ) -> pb.ReserveCreditResponse:
        reservation = await self._store.transact(self._reserve(request, time.time()))
        faults.crash_point("reserve.after_commit")
        return pb.ReserveCreditResponse(state=self.state(reservation))

    async def BatchReserveCredit(
        self, request: pb.BatchReserveCreditRequest, context
    ) -> pb.BatchReserveCreditResponse:
        results = await self.reserve_each(request.requests, self._reserve, pb.ReserveCreditResult)
        return pb.BatchReserveCreditResponse(results=results)

    @staticmethod
    def _reserve(request: pb.ReserveCreditRequest, now: float) -> partial:
        return partial(
            accounts.reserve_credit,
            txn_id=request.transaction_id,
            user_id=request.user_id,
            order_id=request.order_id,
            amount=request.amount,
            now=now,
        )
