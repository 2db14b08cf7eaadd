"""Test doubles, each typed against the Protocol (or generated servicer) it stands in for:
the checkout coordinator's participants, a coordinator answering participants' questions, and
a Kafka producer."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiokafka.errors import KafkaTimeoutError

from order_svc.checkout_peers import CheckoutPeers
from shop.events.v1.events_pb2 import AuditEvent
from shop.order.v1 import order_pb2, order_pb2_grpc
from shopmesh.errors import Aborted, FailedPrecondition, ShopError
from shopmesh.events.producer import BatchProducer, RecordBatch
from shopmesh.events.relay import partition_of

PENDING = order_pb2.CHECKOUT_OUTCOME_PENDING
# How many partitions FakeProducer's topics have.
PARTITIONS = 4


class FakePeers(CheckoutPeers):
    """Stock and payment as the coordinator sees them. Records every call; each participant
    can be told to refuse, to be down, to hang, or to wait for a gate before answering."""

    def __init__(self, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self.reserves: list[tuple] = []
        self.settles: list[tuple[str, str, bool]] = []
        self.reserve_error: dict[str, Exception | None] = {"stock": None, "payment": None}
        self.reserve_delay: dict[str, float] = {"stock": 0.0, "payment": 0.0}
        self.settle_error: dict[str, ShopError | None] = {"stock": None, "payment": None}
        self.gate: asyncio.Event | None = None
        # A participant whose settle waits here (a stopped process: the call hangs).
        self.settle_gate: dict[str, asyncio.Event | None] = {"stock": None, "payment": None}
        self.reserving = asyncio.Event()

    def refuse(self, peer: str, reason: str) -> None:
        self.reserve_error[peer] = FailedPrecondition(reason, f"{peer} says no")

    def down(self, peer: str, settle_too: bool = False) -> None:
        error = Aborted("DEPENDENCY_UNAVAILABLE", f"{peer} did not answer", service=peer)
        self.reserve_error[peer] = error
        if settle_too:
            self.settle_error[peer] = error

    def up(self, peer: str) -> None:
        self.reserve_error[peer] = self.settle_error[peer] = None

    def settled(self, peer: str) -> list[tuple[str, bool]]:
        return [(txn_id, commit) for p, txn_id, commit in self.settles if p == peer]

    async def _answer(self, peer: str, timeout_s: float) -> None:
        self.reserving.set()
        if self.gate is not None:
            await self.gate.wait()
        delay = self.reserve_delay[peer]
        if delay:
            await asyncio.sleep(min(delay, timeout_s))
            if delay > timeout_s:  # what a gRPC deadline does
                raise Aborted("DEPENDENCY_UNAVAILABLE", f"{peer} did not answer in time")
        error = self.reserve_error[peer]
        if error is not None:
            raise error

    async def reserve_stock(self, txn_id: str, lines: dict[str, int], timeout_s: float) -> None:
        self.reserves.append(("stock", txn_id, dict(lines)))
        await self._answer("stock", timeout_s)

    async def reserve_credit(
        self, txn_id: str, user_id: str, order_id: str, amount: int, timeout_s: float
    ) -> None:
        self.reserves.append(("payment", txn_id, user_id, order_id, amount))
        await self._answer("payment", timeout_s)

    async def reserve_stock_many(
        self, reservations: list[tuple[str, dict[str, int]]], timeout_s: float
    ) -> list[ShopError | None]:
        return await self._each(self.reserve_stock, reservations, timeout_s)

    async def reserve_credit_many(
        self, reservations: list[tuple[str, str, str, int]], timeout_s: float
    ) -> list[ShopError | None]:
        return await self._each(self.reserve_credit, reservations, timeout_s)

    @staticmethod
    async def _each(
        reserve: Callable[..., Awaitable[None]], reservations: Sequence[tuple], timeout_s: float
    ) -> list[ShopError | None]:
        """Each reservation as the single call would go, refusals as results."""
        results = await asyncio.gather(
            *(reserve(*args, timeout_s) for args in reservations), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ShopError):
                raise result  # the whole call failed
        return [result if isinstance(result, ShopError) else None for result in results]

    async def settle(self, peer: str, txn_id: str, commit: bool) -> None:
        gate = self.settle_gate[peer]
        if gate is not None:
            await gate.wait()
        self.settles.append((peer, txn_id, commit))
        error = self.settle_error[peer]
        if error is not None:
            raise error

    async def settle_many(self, peer: str, decisions: list[tuple[str, bool]]) -> dict[str, str]:
        refusals = {}
        for txn_id, commit in decisions:
            try:
                await self.settle(peer, txn_id, commit)
                refusals[txn_id] = ""
            except ShopError as error:
                if error.reason == "DEPENDENCY_UNAVAILABLE":
                    raise  # the whole call failed
                refusals[txn_id] = error.reason
        return refusals


class FakeCoordinator(order_pb2_grpc.OrderServiceServicer):
    """Answers GetCheckoutOutcome from `outcomes`; an outcome that is an exception is raised
    (an internal error), "hang" never answers in time. Records who was asked about."""

    def __init__(self) -> None:
        self.outcomes: dict[str, object] = {}
        self.asked: list[str] = []
        self.before_answer = None  # an async function of the txn id, run before answering

    async def GetCheckoutOutcome(self, request, context):
        self.asked.append(request.transaction_id)
        if self.before_answer is not None:
            await self.before_answer(request.transaction_id)
        outcome = self.outcomes.get(request.transaction_id, PENDING)
        if outcome == "hang":
            await asyncio.sleep(10)
        if isinstance(outcome, Exception):
            raise outcome
        return order_pb2.GetCheckoutOutcomeResponse(outcome=outcome)


class FakeBatch(RecordBatch):
    """Takes `capacity` records, like a record batch of a fixed size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes, bytes]] = []

    def append(self, *, key: bytes | None, value: bytes | None, timestamp: int | None) -> object:
        if len(self.records) >= self.capacity:
            return None
        assert key is not None and value is not None  # the relay sends both
        self.records.append((key, value))
        return object()


class FakeProducer(BatchProducer):
    """Acknowledges every batch at once, except a batch holding a key in `failing` (as a
    broker that lost a partition would), and remembers what was delivered, in order."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.failing: set[bytes] = set()
        self.sent: list[tuple[str, bytes]] = []
        self.values: list[tuple[bytes, bytes]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.capacity)

    async def send_batch(
        self, batch: RecordBatch, topic: str, *, partition: int
    ) -> "asyncio.Future[object]":
        assert isinstance(batch, FakeBatch)  # one of create_batch's
        acked: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if any(key in self.failing for key, _ in batch.records):
            acked.set_exception(KafkaTimeoutError())
            return acked
        assert {partition_of(key.decode(), PARTITIONS) for key, _ in batch.records} == {partition}
        self.sent.extend((topic, key) for key, _ in batch.records)
        self.values.extend(batch.records)
        acked.set_result(None)
        return acked

    def amounts(self, key: str) -> list[int]:
        """The `amount` of every stock_added delivered for `key`, in delivery order."""
        return [
            AuditEvent.FromString(value).stock_added.amount
            for sent_key, value in self.values
            if sent_key == key.encode()
        ]

    async def stop(self) -> None:
        pass
