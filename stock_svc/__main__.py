"""`python -m stock_svc`: read settings, open the store, serve StockService."""

import asyncio

from shop.stock.v1 import stock_pb2, stock_pb2_grpc

from shopmesh.server import configure_logging, create_server, serve
from shopmesh.settings import ServiceSettings
from stock_svc.api import StockApi
from stock_svc.store.sqlite import open_sqlite_store

SERVICE_NAME = stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name


async def main() -> None:
    settings = ServiceSettings("stock", default_port=50051)
    configure_logging(settings.log_level)
    store = open_sqlite_store(settings.db_path, settings.sqlite_synchronous)
    api = StockApi(store)
    served = create_server(
        settings.listen_addr,
        SERVICE_NAME,
        lambda server: stock_pb2_grpc.add_StockServiceServicer_to_server(api, server),
        domain="stock.shopmesh",
    )
    await serve(served, store, grace_s=settings.grace_s)


if __name__ == "__main__":
    asyncio.run(main())
