"""`python -m order_svc`: read settings, open the store, connect to the peers, serve."""

import asyncio

from shop.order.v1 import order_pb2, order_pb2_grpc

from order_svc.api import OrderApi
from order_svc.peers import Peers
from order_svc.store.sqlite import open_sqlite_store
from shopmesh.server import configure_logging, create_server, serve
from shopmesh.settings import ServiceSettings, env_float, env_str

SERVICE_NAME = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name


async def main() -> None:
    settings = ServiceSettings("order", default_port=50053)
    configure_logging(settings.log_level)
    peers = Peers(
        stock_addr=env_str("STOCK_SERVICE_ADDR", "127.0.0.1:50051"),
        payment_addr=env_str("PAYMENT_SERVICE_ADDR", "127.0.0.1:50052"),
        timeout_s=env_float("RPC_TIMEOUT_S", 2.0),
    )
    store = open_sqlite_store(settings.db_path, settings.sqlite_synchronous)
    api = OrderApi(store, peers)
    served = create_server(
        settings.listen_addr,
        SERVICE_NAME,
        lambda server: order_pb2_grpc.add_OrderServiceServicer_to_server(api, server),
        domain="order.shopmesh",
    )
    try:
        await serve(served, store, grace_s=settings.grace_s)
    finally:
        await peers.close()


if __name__ == "__main__":
    asyncio.run(main())
