"""A participant never decides a checkout on its own: a reservation HELD for longer than
RESERVATION_TIMEOUT_S makes it ask the coordinator (OrderService.GetCheckoutOutcome) and
apply the answer. The coordinator presumes abort for a transaction past its deadline, so
every held reservation ends, even if the coordinator lost track of it."""

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial

from shop.order.v1 import order_pb2, order_pb2_grpc
from shopmesh.errors import ShopError
from shopmesh.rpc.clients import call, open_channel
from shopmesh.telemetry import request_context
from shopmesh.telemetry.metrics import recovery_action

log = logging.getLogger(__name__)
ORDER_SERVICE = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
BATCH = 100
# What resolving counts (shop_recovery_actions_total), for the services that run it.
STALE_ACTIONS = ("stale_commit", "stale_cancel", "stale_undecided", "stale_unanswered")


class StaleReservationResolver:
    def __init__(
        self,
        store,
        commit: Callable,
        cancel: Callable,
        coordinator_addr: str,
        *,
        hold_timeout_s: float,
        rpc_timeout_s: float,
        clock: Callable[[], float] = time.time,
        coordinator: order_pb2_grpc.OrderServiceStub | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._commit = commit
        self._cancel = cancel
        # A stub handed in (the simulator's) needs no channel of ours.
        self._channel = None if coordinator else open_channel(coordinator_addr, [ORDER_SERVICE])
        self._coordinator = coordinator or order_pb2_grpc.OrderServiceStub(self._channel)
        self._hold_timeout_s = hold_timeout_s
        self._rpc_timeout_s = rpc_timeout_s

    async def run(self) -> None:
        interval = max(0.2, self._hold_timeout_s / 4)
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.resolve_once()
                except Exception:
                    log.exception("resolving stale reservations failed; retrying later")
        finally:
            if self._channel is not None:
                await self._channel.close()

    async def resolve_once(self) -> int:
        cutoff = self._clock() - self._hold_timeout_s
        stale = await self._store.read(lambda repo: repo.held_since_before(cutoff, BATCH))
        for txn_id in stale:
            with request_context.detached(txn_id):
                await self.resolve(txn_id)
        return len(stale)

    async def resolve(self, txn_id: str) -> bool:
        """Ask the coordinator for the transaction's outcome and apply it, if decided. False
        when the coordinator could not be asked (the outcome is unknown here)."""
        try:
            reply = await call(
                self._coordinator.GetCheckoutOutcome,
                order_pb2.GetCheckoutOutcomeRequest(transaction_id=txn_id),
                timeout_s=self._rpc_timeout_s,
                peer="order",
            )
        except Exception as error:
            # One transaction the coordinator cannot answer for must not hold up the others.
            log.warning("cannot learn the outcome of %s: %r", txn_id, error)
            recovery_action("stale_unanswered")
            return False
        if reply.outcome == order_pb2.CHECKOUT_OUTCOME_COMMITTED:
            apply = self._commit
        elif reply.outcome == order_pb2.CHECKOUT_OUTCOME_ABORTED:
            apply = self._cancel
        else:
            recovery_action("stale_undecided")
            return True
        recovery_action("stale_commit" if apply is self._commit else "stale_cancel")
        log.info("reservation %s: coordinator says %s", txn_id, reply.outcome)
        try:
            await self._store.transact(partial(apply, txn_id=txn_id, now=self._clock()))
        except ShopError as error:
            log.error("cannot apply the outcome of %s: %r", txn_id, error)
        return True
