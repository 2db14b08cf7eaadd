"""What must hold, checked against the stores after every tick of the monitor and once more
when the run is quiet. Reads the in-memory stores' tables directly: the simulator owns them."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from order_svc.checkout import CheckoutTxn, Decision
from shopmesh.participant.reservations import Reservation, State


class Violation(AssertionError):
    """An invariant broke; `about` names the orders and transactions involved, to filter the
    trace by."""

    def __init__(self, message: str, *about: str) -> None:
        super().__init__(message)
        self.about = [a for a in about if a]


def rows(store: Any, table: str) -> dict:
    """A table of an in-memory store as the last commit left it."""
    return store._state[table]


@dataclass
class Snapshot:
    txns: dict[str, CheckoutTxn]
    orders: dict[str, Any]
    reservations: dict[str, dict[str, Reservation]]  # participant -> txn id -> reservation

    @classmethod
    def of(cls, order_store: Any, stock_store: Any, payment_store: Any) -> "Snapshot":
        # No copies needed: a commit replaces the tables it wrote (copy-on-write).
        return cls(
            rows(order_store, "checkouts"),
            rows(order_store, "orders"),
            {
                "stock": rows(stock_store, "reservations"),
                "payment": rows(payment_store, "reservations"),
            },
        )


@dataclass
class Monitor:
    """Remembers what was seen, so that what must never change is checked across time."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    ended: dict[tuple[str, str], State] = field(default_factory=dict)
    paid: dict[str, str] = field(default_factory=dict)  # order -> txn, once seen paid

    def check(self, now: Snapshot) -> None:
        self._first_decision_wins(now)
        self._reservations_never_go_back(now)
        self._participants_follow_the_log(now)
        self._paid_stays_paid(now)
        self._charged_at_most_once(now)

    def _first_decision_wins(self, now: Snapshot) -> None:
        for txn_id, txn in now.txns.items():
            seen = self.decisions.get(txn_id)
            if seen is not None and txn.decision is not seen:
                raise Violation(f"decision of {txn_id} changed: {seen} -> {txn.decision}", txn_id)
            if txn.decision is not None:
                self.decisions[txn_id] = txn.decision

    def _reservations_never_go_back(self, now: Snapshot) -> None:
        for peer, reservations in now.reservations.items():
            for txn_id, reservation in reservations.items():
                seen = self.ended.get((peer, txn_id))
                if seen is not None and reservation.state is not seen:
                    raise Violation(
                        f"{peer} reservation of {txn_id} went {seen} -> {reservation.state}", txn_id
                    )
                if reservation.state is not State.HELD:
                    self.ended[(peer, txn_id)] = reservation.state

    def _participants_follow_the_log(self, now: Snapshot) -> None:
        for peer, reservations in now.reservations.items():
            for txn_id, reservation in reservations.items():
                txn = now.txns.get(txn_id)
                decision = txn.decision if txn is not None else None
                order = txn.order_id if txn is not None else ""
                if reservation.state is State.COMMITTED and decision is not Decision.COMMIT:
                    raise Violation(
                        f"{peer} committed {txn_id} but the log says {decision}", txn_id, order
                    )
                if reservation.state is State.CANCELLED and decision is Decision.COMMIT:
                    raise Violation(f"{peer} cancelled committed {txn_id}", txn_id, order)
        for txn_id, txn in now.txns.items():
            for peer in ("stock", "payment"):
                if not getattr(txn, f"{peer}_done"):
                    continue
                reservation = now.reservations[peer].get(txn_id)
                want = State.COMMITTED if txn.decision is Decision.COMMIT else State.CANCELLED
                if reservation is None or reservation.state is not want:
                    state = reservation.state if reservation else None
                    raise Violation(
                        f"log says {peer} acknowledged {txn.decision} of {txn_id}, {peer} has"
                        f" {state}",
                        txn_id,
                        txn.order_id,
                    )

    def _paid_stays_paid(self, now: Snapshot) -> None:
        for order_id, txn_id in self.paid.items():
            order = now.orders.get(order_id)
            if order is None or not order.paid or order.checkout_txn != txn_id:
                raise Violation(f"order {order_id} was paid by {txn_id}, now {order}", order_id)
        for order_id, order in now.orders.items():
            if not order.paid:
                continue
            txn = now.txns.get(order.checkout_txn or "")
            if txn is None or txn.decision is not Decision.COMMIT:
                raise Violation(f"order {order_id} is paid without a COMMIT", order_id)
            self.paid[order_id] = txn.txn_id

    def _charged_at_most_once(self, now: Snapshot) -> None:
        commits = Counter(
            txn.order_id for txn in now.txns.values() if txn.decision is Decision.COMMIT
        )
        for order_id, count in commits.items():
            if count > 1:
                raise Violation(f"order {order_id} committed {count} times", order_id)


def check_quiet(
    now: Snapshot,
    items: dict[str, Any],
    users: dict[str, Any],
    initial_stock: dict[str, int],
    initial_credit: dict[str, int],
    direct_paid: dict[str, int],
    audit: list[tuple[str, str]],
) -> None:
    """Once the faults stopped and the run went quiet: everything decided and finished,
    nothing held, every unit and every credit accounted for by paid orders, and the audit
    stream tells the same story as the log."""
    for txn_id, txn in now.txns.items():
        if not txn.finished:
            raise Violation(f"checkout {txn_id} never finished: {txn}", txn_id, txn.order_id)
    for peer, reservations in now.reservations.items():
        for txn_id, reservation in reservations.items():
            if reservation.state is State.HELD:
                raise Violation(f"{peer} still holds {txn_id}", txn_id)
    committed = [txn for txn in now.txns.values() if txn.decision is Decision.COMMIT]
    paid = {o.order_id for o in now.orders.values() if o.paid}
    if paid != {txn.order_id for txn in committed}:
        raise Violation(f"paid orders {sorted(paid)} != committed checkouts", *sorted(paid))
    sold: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    for txn in committed:
        sold.update(txn.lines)
        spent[txn.user_id] += txn.total
    for item_id, stock in initial_stock.items():
        item = items[item_id]
        if item.stock + sold[item_id] != stock or item.held:
            raise Violation(
                f"item {item_id}: {stock} at start, {item.stock} left + {sold[item_id]} sold"
                f" (held {item.held})",
                item_id,
            )
    for user_id, credit in initial_credit.items():
        user = users[user_id]
        if user.credit + spent[user_id] + direct_paid.get(user_id, 0) != credit or user.held:
            raise Violation(
                f"user {user_id}: {credit} at start, {user.credit} left + {spent[user_id]} spent"
                f" + {direct_paid.get(user_id, 0)} paid directly (held {user.held})",
                user_id,
            )
    told = Counter(audit)
    for txn_id, txn in now.txns.items():
        change = "checkout_committed" if txn.decision is Decision.COMMIT else "checkout_aborted"
        if told[(change, txn_id)] != 1 or told[("checkout_started", txn_id)] != 1:
            raise Violation(f"the audit stream does not tell {change} of {txn_id} once", txn_id)
    if len(told) != sum(1 for change, _ in told if change.startswith("checkout")) or any(
        txn_id not in now.txns for _, txn_id in told
    ):
        raise Violation("the audit stream tells of checkouts the log does not have")
