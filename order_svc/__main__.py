"""`python -m order_svc`: read settings, open the store, connect to the peers, serve,
and recover unfinished checkouts in the background."""

from dataclasses import dataclass

from order_svc.api import OrderApi
from order_svc.coordinator import CheckoutCoordinator
from order_svc.peers import Peers
from order_svc.retry_worker import CheckoutRetryWorker
from order_svc.store import open_store
from shop.order.v1 import order_pb2, order_pb2_grpc
from shopmesh.rpc.server import run_main, run_service
from shopmesh.settings import ServiceSettings, env_float, env_str

# What order's recovery and retry worker count (shop_recovery_actions_total).
RECOVERY_ACTIONS = (
    "resend_commit",
    "resend_abort",
    "abort_orphan",
    "presume_abort",
    "retry_event_done",
    "retry_event_gave_up",
)
SERVICE_NAME = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name


@dataclass(frozen=True)
class OrderSettings:
    """The order service's settings: every service's, and the coordinator's."""

    service: ServiceSettings
    stock_addr: str
    payment_addr: str
    # The reserve phase's deadline; the lease a request holds; how often recovery looks.
    checkout_timeout_s: float
    lease_s: float
    # The request path's short lease, renewed while alive (0: the long one, not renewed).
    live_lease_s: float
    recovery_interval_s: float

    @classmethod
    def from_env(cls) -> "OrderSettings":
        return cls(
            service=ServiceSettings.from_env(
                "order", default_port=50053, default_metrics_port=9103
            ),
            stock_addr=env_str("STOCK_SERVICE_ADDR", "127.0.0.1:50051"),
            payment_addr=env_str("PAYMENT_SERVICE_ADDR", "127.0.0.1:50052"),
            checkout_timeout_s=env_float("CHECKOUT_TIMEOUT_S", 5.0),
            lease_s=env_float("RECOVERY_LEASE_S", 10.0),
            live_lease_s=env_float("CHECKOUT_LIVE_LEASE_S", 3.0),
            recovery_interval_s=env_float("RECOVERY_INTERVAL_S", 1.0),
        )


async def main() -> None:
    settings = OrderSettings.from_env()
    peers = Peers(settings.stock_addr, settings.payment_addr, settings.service.rpc_timeout_s)
    store = open_store(settings.service)
    coordinator = CheckoutCoordinator(
        store,
        peers,
        timeout_s=settings.checkout_timeout_s,
        lease_s=settings.lease_s,
        live_lease_s=settings.live_lease_s or None,
    )
    api = OrderApi(store, peers, coordinator)
    background = [
        coordinator.settler.run,
        coordinator.run_lease_renewal,
        lambda: coordinator.run_recovery(settings.recovery_interval_s),
    ]
    if settings.service.kafka.enabled:
        background.append(CheckoutRetryWorker(coordinator, settings.service.kafka).run)
    try:
        await run_service(
            settings.service,
            [SERVICE_NAME],
            lambda server: order_pb2_grpc.add_OrderServiceServicer_to_server(api, server),
            store,
            background=background,
            recovery_actions=RECOVERY_ACTIONS,
            outcomes=["OK"],
        )
    finally:
        await peers.close()


if __name__ == "__main__":
    run_main(main)
