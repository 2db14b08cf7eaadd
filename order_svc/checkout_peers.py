"""The checkout coordinator's view of its participants: what it and its settler call on stock
and payment. `order_svc.peers.Peers` (gRPC) is the real one; tests and the simulator put
their own beside it."""

from typing import Protocol

from shopmesh.errors import ShopError


class CheckoutPeers(Protocol):
    # The deadline of one call to a participant.
    timeout_s: float

    async def reserve_stock_many(
        self, reservations: list[tuple[str, dict[str, int]]], timeout_s: float
    ) -> list[ShopError | None]:
        """Phase one at stock: (txn_id, units per item) each; each one's refusal or None."""
        ...

    async def reserve_credit_many(
        self, reservations: list[tuple[str, str, str, int]], timeout_s: float
    ) -> list[ShopError | None]:
        """Phase one at payment: (txn_id, user_id, order_id, amount) each."""
        ...

    async def settle_many(self, peer: str, decisions: list[tuple[str, bool]]) -> dict[str, str]:
        """Phase two at one participant: (txn_id, commit) each; each one's refusal reason,
        "" where the decision was applied."""
        ...
