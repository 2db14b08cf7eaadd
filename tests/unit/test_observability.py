"""Observability in one process: request ids from metadata to handlers, log lines and peers;
RPCs counted by method and status code; the JSON and text log formats; the store's gauges;
audit events naming their request."""

import asyncio
import io
import json
import logging
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from shop.events.v1 import events_pb2
from shop.participant.v1 import participant_pb2, participant_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.errors import NotFound
from shopmesh.events.audit import Event
from shopmesh.events.outbox import encode_audit
from shopmesh.participant.reservations import Reservation, State
from shopmesh.rpc.clients import call
from shopmesh.rpc.server import create_server
from shopmesh.telemetry import metrics, request_context
from shopmesh.telemetry.logs import (
    RequestContextFilter,
    ShopJsonFormatter,
    ShopTextFormatter,
    configure_logging,
)

STOCK = "shop.stock.v1.StockService"
PARTICIPANT = "shop.participant.v1.ParticipantService"


def reserve(*txn_ids: str) -> participant_pb2.ReserveRequest:
    """A Reserve of one reservation per transaction id (nothing held: the fake ignores it)."""
    return participant_pb2.ReserveRequest(
        reservations=[participant_pb2.Reservation(transaction_id=t) for t in txn_ids]
    )


class FakeStock(
    stock_pb2_grpc.StockServiceServicer, participant_pb2_grpc.ParticipantServiceServicer
):
    """Stock and its participant side on one server, as stock_svc serves them: FindItem
    refuses (ITEM_NOT_FOUND); Reserve succeeds. Both remember the request they ran in."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def _remember(self) -> None:
        info = request_context.current()
        self.seen.append((info.request_id, info.txn_id))

    async def FindItem(self, request, context):
        self._remember()
        logging.getLogger("fake").info("looked for %s", request.item_id)
        raise NotFound("ITEM_NOT_FOUND", "no such item", item_id=request.item_id)

    async def Reserve(self, request, context):
        self._remember()
        return participant_pb2.ReserveResponse()

    async def Settle(self, request, context):
        self._remember()
        return participant_pb2.SettleResponse()


@pytest.fixture
async def stock() -> AsyncIterator[tuple[FakeStock, "Stubs"]]:
    servicer = FakeStock()

    def register(server: grpc.aio.Server) -> None:
        stock_pb2_grpc.add_StockServiceServicer_to_server(servicer, server)
        participant_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, server)

    served = create_server("127.0.0.1:0", [STOCK, PARTICIPANT], register, domain="stock.shopmesh")
    await served.server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        yield servicer, Stubs(channel)
    await served.server.stop(None)


class Stubs:
    """Both services of the fake stock server on one channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        stock = stock_pb2_grpc.StockServiceStub(channel)
        self.FindItem = stock.FindItem
        participant = participant_pb2_grpc.ParticipantServiceStub(channel)
        self.Reserve = participant.Reserve
        self.Settle = participant.Settle


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the services' JSON handler writes, at INFO, for the duration of the test."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(ShopJsonFormatter())
    handler.addFilter(RequestContextFilter("stock"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def handled(method: str, code: str, service: str = STOCK) -> float:
    labels = {"grpc_service": service, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0.0


def timed(method: str, code: str, service: str = STOCK) -> float:
    labels = {"grpc_service": service, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("grpc_server_handling_seconds_count", labels) or 0.0


# --- the server interceptor --------------------------------------------------------------------


async def test_rpcs_are_counted_and_timed_by_method_and_status_code(stock):
    _, stub = stock
    before = {
        ("Reserve", "OK"): handled("Reserve", "OK", PARTICIPANT),
        ("FindItem", "NOT_FOUND"): handled("FindItem", "NOT_FOUND"),
    }
    await stub.Reserve(reserve("t-1"), timeout=5)
    await stub.Reserve(reserve("t-2"), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.FindItem(stock_pb2.FindItemRequest(item_id="nope"), timeout=5)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND

    assert handled("Reserve", "OK", PARTICIPANT) == before[("Reserve", "OK")] + 2
    assert handled("FindItem", "NOT_FOUND") == before[("FindItem", "NOT_FOUND")] + 1
    assert timed("Reserve", "OK", PARTICIPANT) >= 2


async def test_the_handler_runs_in_the_callers_request_and_transaction(stock):
    servicer, stub = stock
    request = reserve("txn-7")  # a batch of one is about that transaction
    await stub.Reserve(request, timeout=5, metadata=(("x-request-id", "req-42"),))
    assert servicer.seen[-1] == ("req-42", "txn-7")


async def test_a_call_without_request_id_gets_a_fresh_one(stock):
    servicer, stub = stock
    for _ in range(2):
        await stub.Reserve(reserve("t"), timeout=5)
    (first, _), (second, _) = servicer.seen[-2:]
    assert first and second and first != second


async def test_an_overlong_request_id_is_cut(stock):
    servicer, stub = stock
    metadata = (("x-request-id", "r" * 5000),)
    await stub.Reserve(reserve(), timeout=5, metadata=metadata)
    assert servicer.seen[-1][0] == "r" * request_context.MAX_REQUEST_ID


async def test_transaction_rpcs_log_one_info_line_others_only_at_debug(stock, log_lines):
    _, stub = stock
    metadata = (("x-request-id", "req-info"),)
    await stub.Reserve(reserve("txn-info"), timeout=5, metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.FindItem(stock_pb2.FindItemRequest(item_id="x"), timeout=5, metadata=metadata)

    lines = [line for line in parsed(log_lines) if line["logger"] == "shopmesh.rpc.observe"]
    assert len(lines) == 1, lines
    [line] = lines
    assert line["rpc"] == f"/{PARTICIPANT}/Reserve"
    assert line["code"] == "OK"
    assert line["level"] == "INFO"
    assert (line["service"], line["request_id"], line["txn_id"]) == (
        "stock",
        "req-info",
        "txn-info",
    )
    assert line["duration_ms"] >= 0
    # The handler's own line carries the request id too.
    [handler_line] = [line for line in parsed(log_lines) if line["logger"] == "fake"]
    assert handler_line["request_id"] == "req-info"
    assert "txn_id" not in handler_line


async def test_a_batch_call_logs_every_transaction_id_of_the_batch(stock, log_lines):
    servicer, stub = stock
    request = reserve(*(f"txn-{i}" for i in range(3)))
    await stub.Reserve(request, timeout=5, metadata=(("x-request-id", "req-b"),))
    assert servicer.seen[-1] == ("req-b", "")  # no one transaction of its own

    [line] = [line for line in parsed(log_lines) if line["logger"] == "shopmesh.rpc.observe"]
    assert line["level"] == "INFO"
    assert line["txn_ids"] == ["txn-0", "txn-1", "txn-2"]
    assert "txn_id" not in line

    await stub.Reserve(reserve("txn-0"), timeout=5)
    assert servicer.seen[-1][1] == "txn-0"  # a batch of one is about that transaction


async def test_a_settle_logs_every_transaction_id_of_the_batch(stock, log_lines):
    _, stub = stock
    commit = participant_pb2.SETTLEMENT_DECISION_COMMIT
    settlements = [participant_pb2.Settlement(transaction_id=t, decision=commit) for t in "ab"]
    await stub.Settle(participant_pb2.SettleRequest(settlements=settlements), timeout=5)

    [line] = [line for line in parsed(log_lines) if line["logger"] == "shopmesh.rpc.observe"]
    assert (line["rpc"], line["level"]) == (f"/{PARTICIPANT}/Settle", "INFO")
    assert line["txn_ids"] == ["a", "b"]


async def test_calls_to_peers_carry_the_request_id(stock):
    servicer, stub = stock
    token = request_context.begin("req-upstream")
    try:
        await call(
            stub.Reserve,
            reserve("t"),
            timeout_s=5,
            peer="stock",
        )
    finally:
        request_context.end(token)
    assert servicer.seen[-1][0] == "req-upstream"


# --- log formats -------------------------------------------------------------------------------


def record(message: str = "hello %s", *args) -> logging.LogRecord:
    return logging.LogRecord(
        "shop.test", logging.WARNING, __file__, 1, message, args or ("x",), None
    )


def test_json_lines_name_the_service_and_inside_a_request_its_ids():
    formatter, context = ShopJsonFormatter(), RequestContextFilter("payment")
    outside = record()
    context.filter(outside)
    line = json.loads(formatter.format(outside))
    assert line["message"] == "hello x"
    assert (line["level"], line["logger"], line["service"]) == ("WARNING", "shop.test", "payment")
    assert "request_id" not in line and "txn_id" not in line
    assert line["time"].endswith("+00:00")

    token = request_context.begin("req-1", "txn-1")
    try:
        inside = record()
        context.filter(inside)
    finally:
        request_context.end(token)
    line = json.loads(formatter.format(inside))
    assert (line["request_id"], line["txn_id"]) == ("req-1", "txn-1")


def test_text_lines_keep_the_classic_shape_and_add_the_ids():
    formatter, context = ShopTextFormatter(), RequestContextFilter("payment")
    token = request_context.begin("req-2")
    try:
        inside = record()
        context.filter(inside)
    finally:
        request_context.end(token)
    text = formatter.format(inside)
    assert "WARNING shop.test: hello x [request_id=req-2]" in text


def test_an_unknown_log_format_is_refused():
    with pytest.raises(SystemExit, match="LOG_FORMAT"):
        configure_logging("stock", "INFO", "xml")


def test_the_first_transaction_named_sticks():
    token = request_context.begin("req")
    try:
        request_context.note_txn("")
        request_context.note_txn("first")
        request_context.note_txn("second")
        assert request_context.current().txn_id == "first"
    finally:
        request_context.end(token)
    request_context.note_txn("outside a request: ignored")
    assert request_context.current() is None


# --- events ------------------------------------------------------------------------------------


def test_audit_events_carry_the_request_id_and_name_its_transaction():
    token = request_context.begin("req-e")
    try:
        row = encode_audit(
            Event("order/1", "checkout_started", {"total_cost": 3}, "txn-e"), "order"
        )
        assert request_context.current().txn_id == "txn-e"
    finally:
        request_context.end(token)
    event = events_pb2.AuditEvent.FromString(row.payload)
    assert (event.request_id, event.transaction_id) == ("req-e", "txn-e")

    outside = encode_audit(Event("item/1", "stock_added", {"amount": 1, "stock": 1}), "stock")
    assert events_pb2.AuditEvent.FromString(outside.payload).request_id == ""


# --- metrics -----------------------------------------------------------------------------------


async def test_store_gauges_count_held_reservations_and_the_outbox_backlog(stock_store):
    collector = metrics.StoreGauges(
        "stock",
        stock_store,
        [metrics.OUTBOX_BACKLOG, metrics.RESERVATIONS_HELD, metrics.OLDEST_RESERVATION],
        asyncio.get_running_loop(),
    )
    registry = CollectorRegistry()
    registry.register(collector)

    async def values() -> dict[str, float]:
        families = await asyncio.to_thread(collector.collect)
        return {family.name: family.samples[0].value for family in families}

    baseline = await values()
    assert baseline["shop_reservation_oldest_held_seconds"] == 0

    def hold(repo, txn_id: str, state: State = State.HELD, ago_s: float = 0) -> None:
        repo.put_reservation(Reservation(txn_id, state, {"x": 1}, "", time.time() - ago_s))

    await stock_store.transact(lambda repo: hold(repo, "done-long-ago", State.COMMITTED, 900))
    await stock_store.transact(lambda repo: hold(repo, "held-1", ago_s=120))
    await stock_store.transact(lambda repo: hold(repo, "held-2"))
    await stock_store.transact(lambda repo: hold(repo, "done", State.COMMITTED))
    await stock_store.transact(lambda repo: repo.record(Event("item/1", "stock_added", {})))
    now = await values()
    assert now["shop_reservations_held"] == baseline["shop_reservations_held"] + 2
    assert now["shop_outbox_backlog"] == baseline["shop_outbox_backlog"] + 1
    assert 120 <= now["shop_reservation_oldest_held_seconds"] < 180
    sample = 'shop_reservations_held{service="stock"}'
    assert sample in (await asyncio.to_thread(_exposition, registry))


def _exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


async def test_store_gauges_are_left_out_while_the_store_cannot_answer():
    class Closed:
        async def read(self, work):
            raise RuntimeError("the store is not open")

    collector = metrics.StoreGauges(
        "stock", Closed(), [metrics.OUTBOX_BACKLOG], asyncio.get_running_loop()
    )
    assert await asyncio.to_thread(collector.collect) == []


@pytest.mark.parametrize(
    ("addr", "parsed_addr"),
    [
        ("off", None),
        ("OFF", None),
        ("127.0.0.1:9101", ("127.0.0.1", 9101)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:9101", ("::1", 9101)),
        (":9101", ("0.0.0.0", 9101)),
    ],
)
def test_metrics_addresses(addr, parsed_addr):
    assert metrics.parse_addr(addr) == parsed_addr


@pytest.mark.parametrize("addr", ["9101", "localhost", "host:port"])
def test_a_bad_metrics_address_is_refused(addr):
    with pytest.raises(SystemExit, match="METRICS_ADDR"):
        metrics.parse_addr(addr)


def test_metrics_are_served_over_http():
    registry = CollectorRegistry()
    server = metrics.serve_metrics("127.0.0.1:0", registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert metrics.serve_metrics("off", registry) is None


def test_json_lines_carry_extra_fields_and_the_traceback():
    formatter = ShopJsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord(
            "shop.test", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    failed.txn_ids = ["t1", "t2"]
    failed.stranger = object()  # not JSON: written as its str
    line = json.loads(formatter.format(failed))
    assert (line["message"], line["txn_ids"]) == ("failed x", ["t1", "t2"])
    assert line["stranger"].startswith("<object object")
    assert "ValueError: boom" in line["exc_info"]
    assert list(line)[:4] == ["time", "level", "logger", "message"]
