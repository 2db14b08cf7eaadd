"""Checkouts whose coordinator is known dead need not wait for its lease.

A coordinator names itself `<hostname>:<pid>:<nonce>` (CheckoutCoordinator.owner). Another
order-service process on the same host (the local stack's replicas: SHOP_REPLICAS) can tell
for sure that the owner is gone when no process has that pid any more; then a client retrying
the checkout gets its answer at once instead of after the lease (RECOVERY_LEASE_S, 10 s by
default). An undecided transaction of a dead owner is aborted: nothing can decide it any more,
and the decision in the log is written once, so even an owner wrongly thought dead would only
read that abort back. The retry then checks out afresh (`check_out_anew`). Across hosts
(Kubernetes pods) nothing is known and the lease applies, as it also does when the pid was
reused: both err on the side of waiting.
"""

import os
import socket
from collections.abc import Callable

from order_svc import checkout
from order_svc.checkout import Checkouts, CheckoutTxn, Decision
from shopmesh.errors import Aborted, error_to_dict

HOST = socket.gethostname()
LOST = "lost"


def owner_known_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user has that pid: alive
    return False


def abort_orphan(repo: Checkouts, txn_id: str) -> CheckoutTxn:
    """Abort an undecided transaction whose coordinator died, and free its lease so that
    recovery (in any process) sends the cancels on its next pass."""
    txn = checkout.existing(repo, txn_id)
    if txn.decision is not None:
        return txn
    refusal = Aborted(
        "CHECKOUT_TIMED_OUT",
        f"the checkout of order {txn.order_id!r} lost its coordinator; nothing was taken",
        order_id=txn.order_id,
        coordinator=LOST,
    )
    txn = checkout.decide(repo, txn_id, Decision.ABORT, error_to_dict(refusal))
    txn.lease_until = 0.0
    repo.put_txn(txn)
    return txn


def take_over(
    repo: Checkouts,
    txn_id: str,
    owner: str,
    now: float,
    lease_s: float,
    gone: Callable[[CheckoutTxn], bool],
) -> CheckoutTxn | None:
    """Take the lease of an unfinished transaction, as `checkout.claim` does; one that its
    owner left undecided (`gone`) is aborted first, so that its cancels go out now and a retry
    checks out afresh at once, instead of both waiting for the checkout's deadline."""
    txn = repo.get_txn(txn_id)
    if txn is not None and txn.decision is None and txn.lease_owner != owner and gone(txn):
        abort_orphan(repo, txn_id)
    return checkout.claim(repo, txn_id, owner, now, lease_s)


def check_out_anew(txn: CheckoutTxn) -> bool:
    """The transaction a repeated checkout found was aborted because its coordinator died
    before deciding: nothing was taken and the order is unlocked, so the repeat checks out
    afresh instead of answering that abort (the client asked to pay, and no decision stood in
    the way)."""
    refusal = txn.refusal or {}
    return txn.decision is Decision.ABORT and refusal.get("metadata", {}).get("coordinator") == LOST
