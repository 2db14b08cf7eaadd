"""Whether a user has paid for an order: the service layer behind GetPaymentStatus.

Right after a checkout's 200 its credit may still be HELD here (the coordinator answers the
client before it sends its decision), so a held checkout of the order is resolved by asking
the coordinator before the answer is given. The answer is never a wrong definite "false"."""

from functools import partial
from typing import Protocol

from payment_svc import accounts
from shopmesh.errors import Aborted


class Resolver(Protocol):
    """Asks the coordinator about one transaction and applies the outcome (stale.py)."""

    async def resolve(self, txn_id: str) -> bool:
        """False when the coordinator could not be asked."""
        ...


async def is_paid(store, resolver: Resolver | None, user_id: str, order_id: str) -> bool:
    status = partial(accounts.payment_status, user_id=user_id, order_id=order_id)
    undecided = partial(accounts.undecided_checkouts, user_id=user_id, order_id=order_id)
    # One snapshot: a commit arriving in between must not be missed by both reads.
    paid, held = await store.read(lambda repo: (status(repo), undecided(repo)))
    if paid or not held or resolver is None:
        return paid
    learned = [await resolver.resolve(txn_id) for txn_id in held]
    paid = await store.read(status)
    if not paid and not all(learned):
        # A checkout of the order may be paid already: "false" could be wrong.
        raise Aborted(
            "DEPENDENCY_UNAVAILABLE",
            f"order {order_id!r} has a checkout whose outcome the order service could not"
            " tell; try again",
            service="order",
        )
    return paid
