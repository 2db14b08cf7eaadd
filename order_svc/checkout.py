"""The coordinator's rules for checkout transactions: its durable log and decisions.

A checkout transaction is recorded (and the order locked) before any reserve is sent; the
decision is recorded before any commit or cancel is sent, and the order becomes paid in the
same local transaction as a commit decision. The first decision wins: whoever decides later
(the request, recovery, a participant asking) finds it and follows it. Every change here is a
conditional update inside one store transaction, so several coordinator processes on one
store stay correct without in-process locks.

Pure: every function takes a `Checkouts` repository handed in by the store.
"""

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from order_svc.orders import Order, Orders, check_quantities, find_order
from shopmesh.errors import Aborted, error_to_dict
from shopmesh.events.audit import Event, order_key
from shopmesh.validation import require_id


class Decision(Enum):
    COMMIT = "COMMIT"
    ABORT = "ABORT"


@dataclass
class CheckoutTxn:
    txn_id: str
    order_id: str
    user_id: str
    lines: dict[str, int]
    total: int
    deadline: float
    decision: Decision | None = None
    # Why it aborted, as shopmesh.errors.error_to_dict, to answer every waiter alike.
    refusal: dict | None = None
    stock_done: bool = False
    payment_done: bool = False
    # Who may drive the transaction until when (the request, then one recovering process).
    lease_owner: str = ""
    lease_until: float = 0.0
    # The W3C traceparent of the request that began it, when that was traced ("" otherwise):
    # recovery and the retry worker link their spans to it.
    trace_parent: str = ""

    @property
    def finished(self) -> bool:
        """Decided and acknowledged by both participants: nothing left to do."""
        return self.decision is not None and self.stock_done and self.payment_done


class Checkouts(Orders, Protocol):
    def get_txn(self, txn_id: str) -> CheckoutTxn | None: ...

    def put_txn(self, txn: CheckoutTxn) -> None: ...

    def unfinished_txns(self, lease_expired_before: float, limit: int) -> list[str]: ...

    def record_retry(self, txn_id: str) -> None:
        """Publish (through the outbox) a request to re-drive the transaction's decision."""


@dataclass
class Started:
    """`begin` logged a new transaction and locked the order: reserve next."""

    txn: CheckoutTxn


@dataclass
class UnderWay:
    """Another request's transaction holds the order: follow its decision."""

    txn_id: str


@dataclass
class AlreadyPaid:
    """Nothing to do: the order was paid, by `txn_id`."""

    order: Order


Begun = Started | UnderWay | AlreadyPaid


@dataclass(frozen=True)
class Paid:
    """What a checkout that paid answers: the order, its total, the transaction that paid."""

    order_id: str
    total_cost: int
    txn_id: str

    @classmethod
    def by(cls, txn: CheckoutTxn) -> "Paid":
        return cls(txn.order_id, txn.total, txn.txn_id)


def begin(
    repo: Checkouts,
    order_id: str,
    txn_id: str,
    now: float,
    timeout_s: float,
    owner: str,
    lease_s: float,
    trace_parent: str = "",
) -> Begun:
    order = find_order(repo, order_id)
    if order.paid:
        return AlreadyPaid(order)
    if order.checkout_txn:
        return UnderWay(order.checkout_txn)
    # Orders stored before lines were bounded: refused here, before anything is reserved.
    check_quantities(order)
    txn = CheckoutTxn(
        txn_id,
        order.order_id,
        order.user_id,
        order.quantities(),
        order.total_cost,
        deadline=now + timeout_s,
        lease_owner=owner,
        lease_until=now + lease_s,
        trace_parent=trace_parent,
    )
    order.checkout_txn = txn_id
    repo.put(order)
    repo.put_txn(txn)
    fields = {"user_id": txn.user_id, "total_cost": txn.total}
    repo.record(Event(order_key(order_id), "checkout_started", fields, txn_id))
    return Started(txn)


def existing(repo: Checkouts, txn_id: str) -> CheckoutTxn:
    txn = repo.get_txn(txn_id)
    if txn is None:
        raise LookupError(f"checkout transaction {txn_id!r} is not in the log")
    return txn


def decide(
    repo: Checkouts, txn_id: str, decision: Decision, refusal: dict | None = None
) -> CheckoutTxn:
    """Record the decision, unless one is recorded already: then return that one. An order
    that no longer belongs to the transaction (batch_init overwrote it meanwhile) is not the
    order the transaction reserved for: it aborts, and the order is left as it is."""
    txn = existing(repo, txn_id)
    if txn.decision is not None:
        return txn
    order = repo.get(txn.order_id)
    if order is None or order.checkout_txn != txn_id:
        return _abort_replaced(repo, txn)
    txn.decision = decision
    txn.refusal = refusal
    if decision is Decision.COMMIT:
        order.paid = True
        fields = {"user_id": txn.user_id, "total_cost": txn.total, "units": sum(txn.lines.values())}
        event = Event(order_key(txn.order_id), "checkout_committed", fields, txn_id)
    else:
        order.checkout_txn = None
        reason = (refusal or {}).get("reason", "")
        event = Event(order_key(txn.order_id), "checkout_aborted", {"reason": reason}, txn_id)
    repo.put(order)
    repo.put_txn(txn)
    repo.record(event)
    return txn


def _abort_replaced(repo: Checkouts, txn: CheckoutTxn) -> CheckoutTxn:
    txn.decision = Decision.ABORT
    txn.refusal = error_to_dict(
        Aborted(
            "ORDER_CHANGED",
            f"order {txn.order_id!r} was replaced while it was being checked out; nothing was"
            " taken",
            order_id=txn.order_id,
        )
    )
    repo.put_txn(txn)
    event = Event(
        order_key(txn.order_id), "checkout_aborted", {"reason": "ORDER_CHANGED"}, txn.txn_id
    )
    repo.record(event)
    return txn


def timed_out(txn: CheckoutTxn) -> dict:
    return error_to_dict(
        Aborted(
            "CHECKOUT_TIMED_OUT",
            f"checkout of order {txn.order_id!r} did not finish in time; nothing was taken",
            order_id=txn.order_id,
        )
    )


def presume_abort(repo: Checkouts, txn_id: str, now: float) -> CheckoutTxn:
    """Past its deadline without a decision, a transaction aborts."""
    txn = existing(repo, txn_id)
    if txn.decision is None and now > txn.deadline:
        return decide(repo, txn_id, Decision.ABORT, timed_out(txn))
    return txn


def outcome(repo: Checkouts, txn_id: str, now: float) -> Decision | None:
    """For a participant asking: the decision, presuming abort when it is overdue."""
    require_id(txn_id, "transaction_id")
    if repo.get_txn(txn_id) is None:
        # Every transaction is logged before its first reserve: an unknown one never ran here.
        return Decision.ABORT
    return presume_abort(repo, txn_id, now).decision


def acknowledge(repo: Checkouts, txn_id: str, stock: bool, payment: bool) -> CheckoutTxn:
    txn = existing(repo, txn_id)
    txn.stock_done = txn.stock_done or stock
    txn.payment_done = txn.payment_done or payment
    repo.put_txn(txn)
    return txn


def hand_over(repo: Checkouts, txn_id: str) -> CheckoutTxn:
    """The request could not deliver its decision to every participant: publish a retry event
    (through the outbox, same transaction) and give up the lease, so that a retry worker, or
    failing that recovery, takes over at once."""
    txn = existing(repo, txn_id)
    if txn.finished:
        return txn
    txn.lease_until = 0.0
    repo.put_txn(txn)
    repo.record_retry(txn_id)
    return txn


def claim(
    repo: Checkouts, txn_id: str, owner: str, now: float, lease_s: float
) -> CheckoutTxn | None:
    """Take the lease of an unfinished transaction, unless another process holds it."""
    txn = repo.get_txn(txn_id)
    if txn is None or txn.finished:
        return None
    if txn.lease_owner != owner and txn.lease_until > now:
        return None
    txn.lease_owner = owner
    txn.lease_until = now + lease_s
    repo.put_txn(txn)
    return txn


def renew_leases(
    repo: Checkouts, txn_ids: Collection[str], owner: str, now: float, lease_s: float
) -> None:
    """The owner is alive and still driving these: their leases run `lease_s` from now (a lease
    given up or taken by another process stays as it is)."""
    for txn_id in txn_ids:
        txn = repo.get_txn(txn_id)
        if txn is None or txn.finished or txn.lease_owner != owner or txn.lease_until <= 0.0:
            continue
        txn.lease_until = max(txn.lease_until, now + lease_s)
        repo.put_txn(txn)


def record_settlements(
    repo: Checkouts, acks: dict[str, tuple[bool, bool]], handing_over: Collection[str] = ()
) -> list[CheckoutTxn]:
    """Phase two of many transactions came back: (stock, payment) acknowledged, per txn id.
    Those of `handing_over` still missing an acknowledgement are handed over (`hand_over`)."""
    txns = []
    for txn_id, (stock, payment) in acks.items():
        txn = acknowledge(repo, txn_id, stock, payment)
        unfinished = not txn.finished and txn_id in handing_over
        txns.append(hand_over(repo, txn_id) if unfinished else txn)
    return txns
