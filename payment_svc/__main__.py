"""`python -m payment_svc`: read settings, open the store, serve PaymentService."""

import asyncio

from payment_svc import accounts
from payment_svc.api import PaymentApi
from payment_svc.store import open_store
from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shopmesh.participant.stale import STALE_ACTIONS, StaleReservationResolver
from shopmesh.rpc.server import run_service
from shopmesh.settings import ServiceSettings
from shopmesh.telemetry import metrics

SERVICE_NAME = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name


async def main() -> None:
    settings = ServiceSettings.from_env("payment", default_port=50052, default_metrics_port=9102)
    store = open_store(settings)
    resolver = StaleReservationResolver(
        store,
        accounts.commit_reservation,
        accounts.cancel_reservation,
        settings.order_service_addr,
        hold_timeout_s=settings.reservation_timeout_s,
        rpc_timeout_s=settings.rpc_timeout_s,
    )
    api = PaymentApi(store, resolver)
    await run_service(
        settings,
        SERVICE_NAME,
        lambda server: payment_pb2_grpc.add_PaymentServiceServicer_to_server(api, server),
        store,
        background=[resolver.run],
        gauges=[metrics.OUTBOX_BACKLOG, metrics.RESERVATIONS_HELD],
        recovery_actions=STALE_ACTIONS,
    )


if __name__ == "__main__":
    asyncio.run(main())
