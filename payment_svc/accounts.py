"""The payment rules: users, their credit, and direct payments for orders.

Pure Python: every function takes an `Accounts` repository that the store hands it inside one
transaction, so a read-check-write here is atomic whatever the store.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from shopmesh.errors import AlreadyExists, FailedPrecondition, NotFound
from shopmesh.events.audit import Event, Recorder, user_key
from shopmesh.participant import reservations
from shopmesh.participant.reservations import Reservation, Reservations, State
from shopmesh.store.bulk import Regenerated
from shopmesh.validation import checked_sum, require_id, require_non_negative, require_positive


@dataclass
class User:
    user_id: str
    credit: int
    # Credit taken by reservations still HELD. It may come back (a cancel), so credit + held
    # must stay within the API's 32-bit range: every write that adds credit checks the sum.
    held: int = 0


@dataclass
class DirectPayment:
    """A payment made for (user, order) through the 2023 pay endpoint."""

    user_id: str
    order_id: str
    amount: int
    refunded: bool = False


class Accounts(Reservations, Recorder, Protocol):
    """Users, direct payments and checkout reservations as one transaction sees them."""

    def get_user(self, user_id: str) -> User | None: ...

    def put_user(self, user: User) -> None: ...

    def put_users(self, users: Iterable[User]) -> None: ...

    def held_of(self, user_ids: list[str]) -> dict[str, int]:
        """Credit held, for those of `user_ids` that hold any."""
        ...

    def get_payment(self, user_id: str, order_id: str) -> DirectPayment | None: ...

    def put_payment(self, payment: DirectPayment) -> None: ...

    def reservations_for(self, subject: str) -> list[Reservation]: ...


def new_user() -> User:
    return User(user_id=str(uuid.uuid4()), credit=0)


def create_user(accounts: Accounts) -> User:
    user = new_user()
    accounts.put_user(user)
    accounts.record(Event(user_key(user.user_id), "user_created", {"credit": 0}))
    return user


def load_users(accounts: Accounts, batch: list[User]) -> None:
    """batch_init: (over)write users, each with its own event. Credit a checkout holds stays
    held, and must still fit beside the new credit when it comes back."""
    check_users(accounts, batch)  # again, if the store ran it before: a hold may have come since
    accounts.put_users(batch)
    for user in batch:
        accounts.record(Event(user_key(user.user_id), "user_created", {"credit": user.credit}))


def check_users(accounts: Accounts, batch: list[User]) -> None:
    """batch_init's refusal (CREDIT_OVERFLOW) on its own, writing nothing: each user of the
    batch takes the credit held for it, and one that would not fit refuses. A store that loads
    in several transactions runs it over the whole batch before it writes the first chunk."""
    held = accounts.held_of([user.user_id for user in batch])
    for user in batch:
        user.held = held.get(user.user_id, 0)
        _check_room(user, 0)


def batch_users(n: int, starting_money: int) -> Regenerated[User]:
    require_positive(n, "n", "INVALID_COUNT")
    require_non_negative(starting_money, "starting_money", "INVALID_AMOUNT")
    return Regenerated(lambda: (User(str(i), starting_money) for i in range(n)))


def find_user(accounts: Accounts, user_id: str) -> User:
    require_id(user_id, "user_id")
    user = accounts.get_user(user_id)
    if user is None:
        raise NotFound("USER_NOT_FOUND", f"user {user_id!r} does not exist", user_id=user_id)
    return user


def _check_room(user: User, amount: int) -> None:
    """Refuse credit that would not fit in 32 bits once all held credit came back."""
    if user.held:
        checked_sum(user.credit + user.held, amount, "credit plus credit held", "CREDIT_OVERFLOW")
    else:
        checked_sum(user.credit, amount, "credit", "CREDIT_OVERFLOW")


def add_funds(accounts: Accounts, user_id: str, amount: int) -> User:
    require_positive(amount, "amount", "INVALID_AMOUNT")
    user = find_user(accounts, user_id)
    _check_room(user, amount)
    user.credit += amount
    accounts.put_user(user)
    fields = {"amount": amount, "credit": user.credit}
    accounts.record(Event(user_key(user_id), "funds_added", fields))
    return user


def pay(accounts: Accounts, user_id: str, amount: int, order_id: str = "") -> User:
    user = _take(accounts, user_id, amount)
    fields = {"amount": amount, "credit": user.credit, "order_id": order_id}
    accounts.record(Event(user_key(user_id), "credit_paid", fields))
    return user


def _take(accounts: Accounts, user_id: str, amount: int, *, hold: bool = False) -> User:
    require_positive(amount, "amount", "INVALID_AMOUNT")
    user = find_user(accounts, user_id)
    if user.credit < amount:
        raise FailedPrecondition(
            "INSUFFICIENT_CREDIT",
            f"user {user_id!r} has credit {user.credit}, {amount} requested",
            user_id=user_id,
            credit=user.credit,
            requested=amount,
        )
    user.credit -= amount
    if hold:
        user.held += amount
    accounts.put_user(user)
    return user


def pay_order(accounts: Accounts, user_id: str, order_id: str, amount: int) -> User:
    """Pay once per (user, order): a repeat with the same amount is a no-op."""
    require_id(order_id, "order_id")
    require_positive(amount, "amount", "INVALID_AMOUNT")
    payment = accounts.get_payment(user_id, order_id)
    if payment and not payment.refunded:
        if payment.amount != amount:
            raise AlreadyExists(
                "PAYMENT_CONFLICT",
                f"order {order_id!r} is already paid with {payment.amount}, not {amount}",
                user_id=user_id,
                order_id=order_id,
            )
        return find_user(accounts, user_id)
    user = pay(accounts, user_id, amount, order_id)
    accounts.put_payment(DirectPayment(user_id, order_id, amount))
    return user


def cancel_payment(accounts: Accounts, user_id: str, order_id: str) -> User:
    """Refund a direct payment; refunding it again is a no-op."""
    require_id(order_id, "order_id")
    user = find_user(accounts, user_id)
    payment = accounts.get_payment(user_id, order_id)
    owned = any(
        r.state is not State.CANCELLED for r in _checkout_reservations(accounts, user_id, order_id)
    )
    if payment is None and owned:
        raise FailedPrecondition(
            "PAYMENT_OWNED_BY_CHECKOUT",
            f"order {order_id!r} is paid by checkout, not by a direct payment",
            user_id=user_id,
            order_id=order_id,
        )
    if payment is None:
        raise NotFound(
            "PAYMENT_NOT_FOUND",
            f"user {user_id!r} made no direct payment for order {order_id!r}",
            user_id=user_id,
            order_id=order_id,
        )
    if not payment.refunded:
        _check_room(user, payment.amount)
        user.credit += payment.amount
        payment.refunded = True
        accounts.put_user(user)
        accounts.put_payment(payment)
        fields = {"amount": payment.amount, "credit": user.credit, "order_id": order_id}
        accounts.record(Event(user_key(user_id), "credit_refunded", fields))
    return user


def payment_status(accounts: Accounts, user_id: str, order_id: str) -> bool:
    require_id(order_id, "order_id")
    find_user(accounts, user_id)
    payment = accounts.get_payment(user_id, order_id)
    paid_directly = payment is not None and not payment.refunded
    checkouts = _checkout_reservations(accounts, user_id, order_id)
    return paid_directly or any(r.state is State.COMMITTED for r in checkouts)


def undecided_checkouts(accounts: Accounts, user_id: str, order_id: str) -> list[str]:
    """The order's checkout transactions still HELD here: the coordinator may have decided
    them already (it sends decisions after answering the client), and its decision counts."""
    return [
        r.txn_id
        for r in _checkout_reservations(accounts, user_id, order_id)
        if r.state is State.HELD
    ]


def _checkout_reservations(accounts: Accounts, user_id: str, order_id: str) -> list[Reservation]:
    return [
        r
        for r in accounts.reservations_for(order_id)
        if r.payload and r.payload["user_id"] == user_id
    ]


def reserve_credit(
    accounts: Accounts, txn_id: str, user_id: str, order_id: str, amount: int, now: float
) -> Reservation:
    """Checkout phase one: take `amount` of the user's credit, held for `txn_id`."""
    require_id(order_id, "order_id")
    require_non_negative(amount, "amount", "INVALID_AMOUNT")

    def hold() -> dict:
        user = (
            _take(accounts, user_id, amount, hold=True) if amount else find_user(accounts, user_id)
        )
        fields = {"amount": amount, "credit": user.credit, "order_id": order_id}
        accounts.record(Event(user_key(user_id), "credit_reserved", fields, txn_id))
        return {"user_id": user.user_id, "order_id": order_id, "amount": amount}

    return reservations.reserve(accounts, txn_id, order_id, hold, now)


def commit_reservation(accounts: Accounts, txn_id: str, now: float) -> Reservation:
    def spend(payload: dict) -> None:
        accounts.put_user(_unhold(accounts, payload["user_id"], payload["amount"]))
        fields = {"amount": payload["amount"]}
        accounts.record(Event(user_key(payload["user_id"]), "credit_committed", fields, txn_id))

    return reservations.commit(accounts, txn_id, now, spend)


def cancel_reservation(accounts: Accounts, txn_id: str, now: float) -> Reservation:
    def release(payload: dict) -> None:
        # Giving back what was taken: it fits, since credit + held was kept in range.
        user = _unhold(accounts, payload["user_id"], payload["amount"])
        user.credit += payload["amount"]
        accounts.put_user(user)
        fields = {"amount": payload["amount"], "credit": user.credit}
        accounts.record(Event(user_key(user.user_id), "credit_cancelled", fields, txn_id))

    return reservations.cancel(accounts, txn_id, release, now)


def _unhold(accounts: Accounts, user_id: str, amount: int) -> User:
    """A held reservation ends: its credit is no longer held (spent, or given back by the
    caller, who writes the user). Never below zero: reservations made before `held` was
    counted are not in it."""
    user = find_user(accounts, user_id)
    user.held = max(0, user.held - amount)
    return user
