"""ErrorTranslator on a real grpc.aio server on a loopback port: a method no servicer defines
answers UNIMPLEMENTED, while a NotImplementedError our own code (or a library) raises is a bug,
answered INTERNAL with nothing of it told to the client."""

import grpc
import pytest

from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.rpc.status import ErrorTranslator


class HalfDone(stock_pb2_grpc.StockServiceServicer):
    async def FindItem(self, request, context):
        raise NotImplementedError("a library's method left abstract")


@pytest.fixture
async def stub():
    server = grpc.aio.server(interceptors=[ErrorTranslator("stock.shopmesh")])
    stock_pb2_grpc.add_StockServiceServicer_to_server(HalfDone(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield stock_pb2_grpc.StockServiceStub(channel)
    await server.stop(None)


async def test_a_method_no_servicer_defines_is_unimplemented(stub):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ReserveStock(stock_pb2.ReserveStockRequest(transaction_id="t"), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert refused.value.details() == "/shop.stock.v1.StockService/ReserveStock is not implemented"


async def test_not_implemented_raised_by_our_code_is_an_internal_error(stub):
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.FindItem(stock_pb2.FindItemRequest(item_id="1"), timeout=5)
    assert failed.value.code() == grpc.StatusCode.INTERNAL
    assert failed.value.details() == "internal error; see the logs"
