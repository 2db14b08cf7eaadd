"""The payment service's tables in memory (shopmesh.store.memory): for tests and the
simulator; the data is lost when the process exits."""

import dataclasses
from collections.abc import Iterable

from payment_svc.accounts import DirectPayment, User
from shopmesh.events import memory_outbox
from shopmesh.events.memory_outbox import MemoryOutbox
from shopmesh.participant import memory as memory_reservations
from shopmesh.participant.memory import MemoryReservations
from shopmesh.store.memory import MemoryStore, Tables, check, check_ints

TABLES = memory_reservations.TABLES + memory_outbox.TABLES + ("users", "direct_payments")


class MemoryAccounts(MemoryReservations, MemoryOutbox):
    SERVICE = "payment"

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def get_user(self, user_id: str) -> User | None:
        user = self._tables.rows("users").get(user_id)
        return dataclasses.replace(user) if user is not None else None

    def put_user(self, user: User) -> None:
        self.put_users([user])

    def put_users(self, users: Iterable[User]) -> None:
        rows = self._tables.writable("users")
        for user in users:
            check_ints(credit=user.credit, held=user.held)
            check(user.credit >= 0 and user.held >= 0, "users >= 0")
            rows[user.user_id] = dataclasses.replace(user)

    def held_of(self, user_ids: list[str]) -> dict[str, int]:
        rows = self._tables.rows("users")
        held = ((i, rows[i].held) for i in dict.fromkeys(user_ids) if i in rows)
        return {user_id: amount for user_id, amount in held if amount > 0}

    def get_payment(self, user_id: str, order_id: str) -> DirectPayment | None:
        payment = self._tables.rows("direct_payments").get((user_id, order_id))
        return dataclasses.replace(payment) if payment is not None else None

    def put_payment(self, payment: DirectPayment) -> None:
        check_ints(amount=payment.amount)
        check(payment.amount > 0, "amount > 0")
        key = (payment.user_id, payment.order_id)
        self._tables.writable("direct_payments")[key] = dataclasses.replace(
            payment, refunded=bool(payment.refunded)
        )


def open_memory_store() -> MemoryStore[MemoryAccounts]:
    return MemoryStore(TABLES, MemoryAccounts, name="payment")
