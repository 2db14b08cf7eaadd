"""StockService over gRPC, and stock's part in checkout (ParticipantService): protobuf in,
rules, protobuf out. No rules here."""

from functools import partial

from shop.participant.v1 import participant_pb2
from shop.stock.v1 import stock_pb2 as pb
from shop.stock.v1 import stock_pb2_grpc
from shopmesh.participant.engine import Hold
from shopmesh.participant.servicer import wrong_hold
from stock_svc import inventory
from stock_svc.store import StockStore


class StockParticipant:
    """Stock in checkout: a reservation holds units of items; inventory's rules end it."""

    commit_reservation = staticmethod(inventory.commit_reservation)
    cancel_reservation = staticmethod(inventory.cancel_reservation)

    @staticmethod
    def hold(reservation: participant_pb2.Reservation) -> Hold:
        if reservation.WhichOneof("hold") != "stock":
            raise wrong_hold(reservation, "stock")
        lines: dict[str, int] = {}
        for line in reservation.stock.lines:
            lines[line.item_id] = lines.get(line.item_id, 0) + line.quantity
        return partial(inventory.reserve_stock, txn_id=reservation.transaction_id, lines=lines)


class StockApi(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, store: StockStore) -> None:
        self._store = store

    async def CreateItem(self, request: pb.CreateItemRequest, context) -> pb.CreateItemResponse:
        item = await self._store.transact(partial(inventory.create_item, price=request.price))
        return pb.CreateItemResponse(item_id=item.item_id)

    async def BatchInitItems(
        self, request: pb.BatchInitItemsRequest, context
    ) -> pb.BatchInitItemsResponse:
        batch = inventory.batch_items(request.n, request.starting_stock, request.item_price)
        await self._store.put_in_chunks(batch, inventory.load_items, inventory.check_items)
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
