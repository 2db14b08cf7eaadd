"""Running the shop: restarts and crashes keep data, health, reflection, typed gRPC clients
(directly and through the gateway), clean SIGTERM and a valid generated Envoy config."""

import json
import pathlib
import subprocess
import sys

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from shop.order.v1 import order_pb2, order_pb2_grpc
from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shoptools.devstack import ROOT, SERVICES, Stack, free_ports

from .grpc_helpers import refusal
from .helpers import Shop, assert_refused, missing_id

pytestmark = pytest.mark.e2e

BIN = pathlib.Path(sys.executable).parent
PROTOSET = ROOT / "gen" / "shop" / "shop.protoset"
SERVICE_NAMES = {
    "stock": "shop.stock.v1.StockService",
    "payment": "shop.payment.v1.PaymentService",
    "order": "shop.order.v1.OrderService",
}


def some_data(shop: Shop) -> dict:
    """One of everything, and what finding it answers."""
    item = shop.create_item(price=4, stock=9)
    user = shop.create_user(credit=70)
    order = shop.create_order(user)
    shop.add_item(order, item, 3)
    directly_paid = missing_id()
    shop.http.post(f"/payment/pay/{user}/{directly_paid}/20").raise_for_status()
    return {
        f"/stock/find/{item}": {"stock": 9, "price": 4},
        f"/payment/find_user/{user}": {"user_id": user, "credit": 50},
        f"/orders/find/{order}": {
            "order_id": order,
            "paid": False,
            "items": [[item, 3]],
            "user_id": user,
            "total_cost": 12,
        },
        f"/payment/status/{user}/{directly_paid}": {"paid": True},
    }


def assert_found(shop: Shop, expected: dict) -> None:
    assert {path: shop.http.get(path).json() for path in expected} == expected


@pytest.mark.parametrize("name", SERVICES)
def test_data_survives_restart_and_kill_9(own_stack: Stack, own_shop: Shop, name: str):
    expected = some_data(own_shop)
    own_stack.restart_service(name)
    assert_found(own_shop, expected)

    more = some_data(own_shop)  # written after the restart, through reconnected channels
    own_stack.kill(name)
    own_stack.start_service(name)
    own_stack.wait_serving(name)
    assert_found(own_shop, {**expected, **more})


def test_order_refuses_with_4xx_while_a_peer_is_down(own_stack: Stack, own_shop: Shop):
    user, item = own_shop.create_user(), own_shop.create_item(price=2)
    order = own_shop.create_order(user)
    own_stack.stop_process("stock")
    refused = own_shop.http.post(f"/orders/addItem/{order}/{item}/1")
    assert_refused(refused, reason="DEPENDENCY_UNAVAILABLE")
    own_stack.stop_process("payment")
    assert_refused(own_shop.http.post(f"/orders/create/{user}"), reason="DEPENDENCY_UNAVAILABLE")
    for name in ("stock", "payment"):
        own_stack.start_service(name)
        own_stack.wait_serving(name)
    assert own_shop.order(order)["items"] == []
    own_shop.add_item(order, item, 1)
    assert own_shop.order(order)["total_cost"] == 2


def test_sigterm_stops_every_service_with_exit_code_0(own_stack: Stack, own_shop: Shop):
    some_data(own_shop)
    for name in SERVICES:
        assert own_stack.stop_process(name) == 0, own_stack.log_path(name).read_text()[-2000:]


# --- health and reflection ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_health_reports_serving(stack: Stack, name: str):
    with grpc.insecure_channel(stack.config.service_addrs[name]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", SERVICE_NAMES[name]):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "grpcurl"), "-plaintext", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


@pytest.mark.parametrize("name", SERVICES)
def test_reflection_lists_the_service(stack: Stack, name: str):
    listed = grpcurl(stack.config.service_addrs[name], "list")
    assert listed.returncode == 0, listed.stderr
    assert SERVICE_NAMES[name] in listed.stdout.split()
    assert "grpc.health.v1.Health" in listed.stdout.split()


def test_grpcurl_through_the_gateway_with_the_descriptor_set(stack: Stack, shop: Shop):
    item = shop.create_item(price=6, stock=8)
    args = ["-protoset", str(PROTOSET.relative_to(ROOT)), "-d"]
    found = grpcurl(
        *args,
        json.dumps({"item_id": item}),
        stack.config.grpc_addr,
        "shop.stock.v1.StockService/FindItem",
    )
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == {"stock": 8, "price": 6}

    missing = grpcurl(
        *args,
        json.dumps({"item_id": missing_id()}),
        stack.config.grpc_addr,
        "shop.stock.v1.StockService/FindItem",
    )
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr and "ITEM_NOT_FOUND" in missing.stderr


# --- typed Python clients ----------------------------------------------------------------------


@pytest.mark.parametrize("via", ["service", "gateway"])
def test_generated_stubs_work_and_errors_carry_error_info(stack: Stack, via: str):
    def channel(name: str) -> grpc.Channel:
        address = stack.config.grpc_addr if via == "gateway" else stack.config.service_addrs[name]
        return grpc.insecure_channel(address)

    with channel("stock") as s, channel("payment") as p, channel("order") as o:
        stock = stock_pb2_grpc.StockServiceStub(s)
        payment = payment_pb2_grpc.PaymentServiceStub(p)
        orders = order_pb2_grpc.OrderServiceStub(o)

        item_id = stock.CreateItem(stock_pb2.CreateItemRequest(price=5), timeout=10).item_id
        added = stock.AddStock(stock_pb2.AddStockRequest(item_id=item_id, amount=4), timeout=10)
        assert added.stock == 4
        found = stock.FindItem(stock_pb2.FindItemRequest(item_id=item_id), timeout=10)
        assert (found.stock, found.price) == (4, 5)

        user_id = payment.CreateUser(payment_pb2.CreateUserRequest(), timeout=10).user_id
        payment.AddFunds(payment_pb2.AddFundsRequest(user_id=user_id, amount=30), timeout=10)
        paid = payment.Pay(payment_pb2.PayRequest(user_id=user_id, amount=10), timeout=10)
        assert paid.credit == 20

        order_id = orders.CreateOrder(
            order_pb2.CreateOrderRequest(user_id=user_id), timeout=10
        ).order_id
        orders.AddItem(
            order_pb2.AddItemRequest(order_id=order_id, item_id=item_id, quantity=3), timeout=10
        )
        order = orders.FindOrder(order_pb2.FindOrderRequest(order_id=order_id), timeout=10)
        assert [list(line) for line in order.items] == [[item_id, 3]]
        assert (order.user_id, order.paid, order.total_cost) == (user_id, False, 15)

        NOT_FOUND, FAILED = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION
        missing_item = stock_pb2.FindItemRequest(item_id=missing_id())
        assert refusal(stock.FindItem, missing_item) == (NOT_FOUND, "ITEM_NOT_FOUND", "stock")
        too_many = stock_pb2.SubtractStockRequest(item_id=item_id, amount=5)
        assert refusal(stock.SubtractStock, too_many) == (FAILED, "INSUFFICIENT_STOCK", "stock")
        too_much = payment_pb2.PayRequest(user_id=user_id, amount=21)
        assert refusal(payment.Pay, too_much) == (FAILED, "INSUFFICIENT_CREDIT", "payment")
        nobody = order_pb2.CreateOrderRequest(user_id=missing_id())
        assert refusal(orders.CreateOrder, nobody) == (NOT_FOUND, "USER_NOT_FOUND", "order")
        assert stock.FindItem(stock_pb2.FindItemRequest(item_id=item_id), timeout=10).stock == 4


@pytest.mark.parametrize(
    "raw",
    [b"\x0a\x02\xff\xfe", b"\x0a\x05ab", b"\xff\xff\xff"],
    ids=["bad-utf8", "truncated", "junk"],
)
def test_a_request_that_does_not_parse_is_invalid_argument(stack: Stack, raw: bytes):
    """Hand-made bytes sent straight to a service: INVALID_ARGUMENT, not UNKNOWN."""
    with grpc.insecure_channel(stack.config.service_addrs["stock"]) as channel:
        find = channel.unary_unary(
            "/shop.stock.v1.StockService/FindItem",
            request_serializer=lambda data: data,
            response_deserializer=stock_pb2.FindItemResponse.FromString,
        )
        assert refusal(find, raw) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "stock")


# --- the gateway's config ----------------------------------------------------------------------


@pytest.mark.parametrize("stats", ["on", "off"])
def test_generated_envoy_config_validates(tmp_path: pathlib.Path, stats: str):
    config = tmp_path / "envoy.yaml"
    # Validation binds nothing; never name port 8000.
    rest, grpc_port, admin, stats_port = free_ports(4)
    stats_addr = f"127.0.0.1:{stats_port}" if stats == "on" else "off"
    generated = subprocess.run(
        [
            str(BIN / "python"),
            "envoy/generate.py",
            f"--out={config}",
            f"--rest-addr=127.0.0.1:{rest}",
            f"--grpc-addr=127.0.0.1:{grpc_port}",
            f"--admin-addr=127.0.0.1:{admin}",
            f"--stats-addr={stats_addr}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert generated.returncode == 0, generated.stderr
    validated = subprocess.run(
        [str(BIN / "envoy"), "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    # `--stats-addr off`: no stats listener, and no way from a listener to the admin.
    resources = yaml.safe_load(config.read_text())["static_resources"]
    listeners = {item["name"] for item in resources["listeners"]}
    clusters = {item["name"] for item in resources["clusters"]}
    assert listeners == ({"rest", "grpc", "stats"} if stats == "on" else {"rest", "grpc"})
    assert ("envoy_admin" in clusters) == (stats == "on")
    # The REST listener's local replies tell its 403s apart by the request alone (a query,
    # an invalid path, else a body): that holds while these two are its only RBAC filters.
    (rest_listener,) = (item for item in resources["listeners"] if item["name"] == "rest")
    filters = rest_listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    prefixes = [f["typed_config"].get("rules_stat_prefix") for f in filters if "rbac" in f["name"]]
    assert prefixes == ["path_check.", "body_check."]
