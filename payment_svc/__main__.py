"""`python -m payment_svc`: read settings, open the store, serve PaymentService and, beside it,
payment's part in checkout (ParticipantService)."""

from payment_svc import accounts
from payment_svc.api import PaymentApi, PaymentParticipant
from payment_svc.store import open_store
from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shopmesh.participant import servicer as participant
from shopmesh.participant.stale import STALE_ACTIONS, StaleReservationResolver
from shopmesh.rpc.server import run_main, run_service
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
    checkout = participant.ParticipantServicer(
        store, PaymentParticipant(), domain=f"{settings.service}.shopmesh"
    )

    def register(server) -> None:
        payment_pb2_grpc.add_PaymentServiceServicer_to_server(api, server)
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
