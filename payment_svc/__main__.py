"""`python -m payment_svc`: read settings, open the store, serve PaymentService."""

import asyncio

from shop.payment.v1 import payment_pb2, payment_pb2_grpc

from payment_svc.api import PaymentApi
from payment_svc.store.sqlite import open_sqlite_store
from shopmesh.server import configure_logging, create_server, serve
from shopmesh.settings import ServiceSettings

SERVICE_NAME = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name


async def main() -> None:
    settings = ServiceSettings("payment", default_port=50052)
    configure_logging(settings.log_level)
    store = open_sqlite_store(settings.db_path, settings.sqlite_synchronous)
    api = PaymentApi(store)
    served = create_server(
        settings.listen_addr,
        SERVICE_NAME,
        lambda server: payment_pb2_grpc.add_PaymentServiceServicer_to_server(api, server),
        domain="payment.shopmesh",
    )
    await serve(served, store, grace_s=settings.grace_s)


if __name__ == "__main__":
    asyncio.run(main())
