"""StockService over gRPC: protobuf in, rules, protobuf out. No rules here."""

import time
from functools import partial

from shop.stock.v1 import stock_pb2 as pb
from shop.stock.v1 import stock_pb2_grpc
from shopmesh import faults
from shopmesh.participant.servicer import ReservationEndpoints
from stock_svc import inventory
from stock_svc.store import StockStore


class StockApi(ReservationEndpoints, stock_pb2_grpc.StockServiceServicer):
    def __init__(self, store: StockStore) -> None:
        self._store = store
        self._pb = pb
        self._rules = inventory

    async def CreateItem(self, request: pb.CreateItemRequest, context) -> pb.CreateItemResponse:
        item = await self._store.transact(partial(inventory.create_item, price=request.price))
        return pb.CreateItemResponse(item_id=item.item_id)

    async def BatchInitItems(
        self, request: pb.BatchInitItemsRequest, context
    ) -> pb.BatchInitItemsResponse:
        batch = inventory.batch_items(request.n, request.starting_stock, request.item_price)
        await self._store.put_in_chunks(batch, inventory.load_items)
        return pb.BatchInitItemsResponse(msg=f"Batch init for {request.n} items successful")

    async def FindItem(self, request: pb.FindItemRequest, context) -> pb.FindItemResponse:
        item = await self._store.read(partial(inventory.find_item, item_id=request.item_id))
        return pb.FindItemResponse(stock=item.stock, price=item.price)

    async def AddStock(self, request: pb.AddStockRequest, context) -> pb.AddStockResponse:
        item = await self._store.transact(
            partial(inventory.add_stock, item_id=request.item_id, amount=request.amount)
        )
        return pb.AddStockResponse(item_id=item.item_id, stock=item.stock)

    async def SubtractStock(
        self, request: pb.SubtractStockRequest, context
    ) -> pb.SubtractStockResponse:
        item = await self._store.transact(
            partial(inventory.subtract_stock, item_id=request.item_id, amount=request.amount)
        )
        return pb.SubtractStockResponse(item_id=item.item_id, stock=item.stock)

    async def ReserveStock(
        self, request: pb.ReserveStockRequest, context
    ) -> pb.ReserveStockResponse:
        reservation = await self._store.transact(self._reserve(request, time.time()))
        faults.crash_point("reserve.after_commit")
        return pb.ReserveStockResponse(state=self.state(reservation))

    async def BatchReserveStock(
        self, request: pb.BatchReserveStockRequest, context
    ) -> pb.BatchReserveStockResponse:
        results = await self.reserve_each(request.requests, self._reserve, pb.ReserveStockResult)
        return pb.BatchReserveStockResponse(results=results)

    @staticmethod
    def _reserve(request: pb.ReserveStockRequest, now: float) -> partial:
        lines: dict[str, int] = {}
        for line in request.lines:
            lines[line.item_id] = lines.get(line.item_id, 0) + line.quantity
        return partial(inventory.reserve_stock, txn_id=request.transaction_id, lines=lines, now=now)
