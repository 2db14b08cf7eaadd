"""The participant side of checkout's two-phase reserve/commit, shared by stock and payment.

A reservation is keyed by the coordinator's transaction id and moves HELD -> COMMITTED or
HELD -> CANCELLED, never back. Every message is idempotent, and the classic anomalies are
part of the protocol:

- a repeated commit or cancel changes nothing more;
- a cancel before (or without) its reserve records a CANCELLED tombstone, so that
- a reserve after its cancel is refused (TRANSACTION_CANCELLED);
- commit after cancel, and cancel after commit, are protocol errors that change nothing.

What a reservation holds (stock of some items, or credit) is the service's business: it passes
`hold` (check and take, raising a ShopError to refuse) and `release` (give back) functions.
Pure: no I/O beyond the repository handed in by the store inside one transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from shopmesh.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, ShopError
from shopmesh.validation import require_id


class State(Enum):
    HELD = "HELD"
    COMMITTED = "COMMITTED"
    CANCELLED = "CANCELLED"


@dataclass
class Reservation:
    txn_id: str
    state: State
    # What is held, as JSON-able data only the service interprets; None for a tombstone.
    payload: dict | None
    # For lookups by business key (payment: the order id); "" when none.
    subject: str
    updated_at: float


class Reservations(Protocol):
    def get_reservation(self, txn_id: str) -> Reservation | None: ...

    def put_reservation(self, reservation: Reservation) -> None: ...

    def held_since_before(self, cutoff: float, limit: int) -> list[str]:
        """Ids of reservations HELD since before `cutoff`, oldest first."""
        ...

    def oldest_held_since(self) -> float | None:
        """When the oldest reservation HELD now was made (None: none is held)."""
        ...


def _cancelled(txn_id: str) -> Aborted:
    return Aborted(
        "TRANSACTION_CANCELLED", f"transaction {txn_id!r} was cancelled", transaction_id=txn_id
    )


def reserve(
    repo: Reservations, txn_id: str, subject: str, hold: Callable[[], dict], now: float
) -> Reservation:
    """Hold resources for the transaction, once."""
    require_id(txn_id, "transaction_id")
    existing = repo.get_reservation(txn_id)
    if existing is not None:
        if existing.state is State.CANCELLED:
            raise _cancelled(txn_id)
        return existing
    reservation = Reservation(txn_id, State.HELD, hold(), subject, now)
    repo.put_reservation(reservation)
    return reservation


def commit(
    repo: Reservations,
    txn_id: str,
    now: float,
    finalise: Callable[[dict], None] = lambda payload: None,
) -> Reservation:
    """Make the hold final; `finalise` sees what was held (to record it), once."""
    require_id(txn_id, "transaction_id")
    reservation = repo.get_reservation(txn_id)
    if reservation is None:
        raise NotFound(
            "RESERVATION_NOT_FOUND",
            f"nothing was reserved for transaction {txn_id!r}",
            transaction_id=txn_id,
        )
    if reservation.state is State.CANCELLED:
        raise FailedPrecondition(
            "TRANSACTION_CANCELLED",
            f"transaction {txn_id!r} was cancelled and cannot commit",
            transaction_id=txn_id,
        )
    if reservation.state is State.HELD:
        finalise(reservation.payload or {})
        reservation.state = State.COMMITTED
        reservation.updated_at = now
        repo.put_reservation(reservation)
    return reservation


def cancel(
    repo: Reservations, txn_id: str, release: Callable[[dict], None], now: float
) -> Reservation:
    require_id(txn_id, "transaction_id")
    reservation = repo.get_reservation(txn_id)
    if reservation is None:
        tombstone = Reservation(txn_id, State.CANCELLED, None, "", now)
        repo.put_reservation(tombstone)
        return tombstone
    if reservation.state is State.COMMITTED:
        raise FailedPrecondition(
            "TRANSACTION_COMMITTED",
            f"transaction {txn_id!r} was committed and cannot be cancelled",
            transaction_id=txn_id,
        )
    if reservation.state is State.HELD:
        release(reservation.payload or {})
        reservation.state = State.CANCELLED
        reservation.updated_at = now
        repo.put_reservation(reservation)
    return reservation


# The most transactions one batch call (reserve or settle) may carry.
MAX_BATCH = 1000
Rule = Callable[..., Reservation]


def require_batch_size(count: int, field: str) -> None:
    if count > MAX_BATCH:
        raise InvalidArgument(
            "INVALID_COUNT", f"at most {MAX_BATCH} {field} per call, got {count}", field=field
        )


def settle_each(
    repo: Reservations,
    settlements: list[tuple[str, bool]],
    commit_rule: Rule,
    cancel_rule: Rule,
    now: float,
) -> list[Reservation | ShopError]:
    """Phase two for many transactions in one local transaction: (txn_id, commit) each. A
    refusal (a ShopError) is that settlement's result and does not stop the others: every
    rule checks before it writes, so a refused settlement has changed nothing."""
    require_batch_size(len(settlements), "settlements")
    results: list[Reservation | ShopError] = []
    for txn_id, commit in settlements:
        rule = commit_rule if commit else cancel_rule
        try:
            results.append(rule(repo, txn_id=txn_id, now=now))
        except ShopError as refusal:
            results.append(refusal)
    return results
