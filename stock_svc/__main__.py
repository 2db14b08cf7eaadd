"""`python -m stock_svc`: read settings, open the store, serve StockService and, beside it,
stock's part in checkout (ParticipantService)."""

from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.participant import servicer as participant
from shopmesh.participant.stale import STALE_ACTIONS, StaleReservationResolver
from shopmesh.rpc.server import run_main, run_service
from shopmesh.settings import ServiceSettings
from shopmesh.telemetry import metrics
from stock_svc import inventory
from stock_svc.api import StockApi, StockParticipant
from stock_svc.store import open_store

SERVICE_NAME = stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name


async def main() -> None:
    settings = ServiceSettings.from_env("stock", default_port=50051, default_metrics_port=9101)
    store = open_store(settings)
    api = StockApi(store)
    checkout = participant.ParticipantServicer(
        store, StockParticipant(), domain=f"{settings.service}.shopmesh"
    )
    resolver = StaleReservationResolver(
        store,
        inventory.commit_reservation,
        inventory.cancel_reservation,
        settings.order_service_addr,
        hold_timeout_s=settings.reservation_timeout_s,
        rpc_timeout_s=settings.rpc_timeout_s,
    )

    def register(server) -> None:
        stock_pb2_grpc.add_StockServiceServicer_to_server(api, server)
        participant.add_to_server(checkout, server)

    await run_service(
        settings,
        [SERVICE_NAME, participant.PARTICIPANT_SERVICE],
        register,
        store,
        background=[resolver.run],
        gauges=[metrics.OUTBOX_BACKLOG, metrics.RESERVATIONS_HELD, metrics.OLDEST_RESERVATION],
        recovery_actions=STALE_ACTIONS,
    )


if __name__ == "__main__":
    run_main(main)
