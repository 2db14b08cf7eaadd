"""The production store: the payment service's own Spanner database."""

import pathlib
from collections.abc import Iterable

from payment_svc.accounts import DirectPayment, User
from shopmesh.events.spanner_outbox import SpannerOutbox
from shopmesh.participant.spanner import SpannerReservations
from shopmesh.store.spanner import SpannerSettings, SpannerStore
from shopmesh.store.spanner_schema import migrate

# The schema, as numbered DDL files (shopmesh.store.spanner_schema applies them).
DDL_DIR = pathlib.Path(__file__).with_name("spanner_ddl")


class SpannerAccounts(SpannerReservations, SpannerOutbox):
    SERVICE = "payment"

    def get_user(self, user_id: str) -> User | None:
        found, user = self.recall("Users", user_id)
        if found:
            return user
        rows = self.query(
            "SELECT UserId, Credit, Held FROM Users WHERE UserId = @user_id",
            lock=True,
            user_id=user_id,
        )
        return User(*rows[0]) if rows else None

    def put_user(self, user: User) -> None:
        self.put_users([user])

    def put_users(self, users: Iterable[User]) -> None:
        users = list(users)
        columns = ("UserId", "Credit", "Held")
        self.upsert("Users", columns, [(u.user_id, u.credit, u.held) for u in users])
        for user in users:
            self.remember("Users", user.user_id, user)

    def held_of(self, user_ids: list[str]) -> dict[str, int]:
        rows = self.query(
            "SELECT UserId, Held FROM Users WHERE UserId IN UNNEST(@ids) AND Held > 0",
            ids=user_ids,
        )
        return {user_id: held for user_id, held in rows}

    def get_payment(self, user_id: str, order_id: str) -> DirectPayment | None:
        found, payment = self.recall("DirectPayments", (user_id, order_id))
        if found:
            return payment
        rows = self.query(
            "SELECT UserId, OrderId, Amount, Refunded FROM DirectPayments"
            " WHERE UserId = @user_id AND OrderId = @order_id",
            lock=True,
            user_id=user_id,
            order_id=order_id,
        )
        return DirectPayment(*rows[0]) if rows else None

    def put_payment(self, payment: DirectPayment) -> None:
        self.upsert(
            "DirectPayments",
            ("UserId", "OrderId", "Amount", "Refunded"),
            [(payment.user_id, payment.order_id, payment.amount, payment.refunded)],
        )
        self.remember("DirectPayments", (payment.user_id, payment.order_id), payment)


def open_spanner_store(settings: SpannerSettings) -> SpannerStore[SpannerAccounts]:
    return SpannerStore(settings, SpannerAccounts, lambda: migrate(DDL_DIR, settings))
