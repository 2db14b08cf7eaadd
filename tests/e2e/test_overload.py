"""Overload: beyond its limits the gateway refuses at once with 429 and a reason, instead of
queueing until the route timeout; a refused request changed nothing, and once the load drops
every request succeeds again. The same for a service that is down (409). Slow clients cannot
hold a request open. Each test runs a private stack with small limits."""

import asyncio
import contextlib
import json
import math
import signal
import socket
import time
from collections.abc import Iterator

import grpc
import httpx
import pytest

from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shoptools.devstack import Stack

from .helpers import Shop, assert_refused, describe, ok

pytestmark = pytest.mark.e2e

MAX_IN_FLIGHT = 4
# What a queued request would wait for. A shed one must answer long before: FAST_S is generous
# for a loaded machine and still far from the timeout.
ROUTE_TIMEOUT_S = 30
FAST_S = 5.0


def shop_on(stack: Stack) -> Shop:
    return Shop(httpx.Client(base_url=stack.config.rest_url, timeout=ROUTE_TIMEOUT_S + 10))


@contextlib.contextmanager
def stalled(stack: Stack, name: str) -> Iterator[None]:
    """The service holds every request without answering (SIGSTOP), like a saturated one."""
    process = stack.processes[name]
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


async def timed_post(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post(path)
    return response, time.monotonic() - started


def assert_shed(response: httpx.Response, seconds: float, reason: str, status: int = 429) -> None:
    assert_refused(response, status, reason)
    assert seconds < FAST_S, f"shed after {seconds:.1f}s: {describe(response)}"


async def test_beyond_max_in_flight_requests_are_shed_at_once_and_change_nothing(make_stack):
    stack = make_stack(
        {"GATEWAY_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT), "GATEWAY_TIMEOUT_S": str(ROUTE_TIMEOUT_S)}
    )
    shop = shop_on(stack)
    item = shop.create_item()
    requests = 8 * MAX_IN_FLIGHT
    limits = httpx.Limits(max_connections=requests)
    async with httpx.AsyncClient(
        base_url=stack.config.rest_url, timeout=ROUTE_TIMEOUT_S + 10, limits=limits
    ) as client:
        with stalled(stack, "stock"):
            calls = [
                asyncio.create_task(timed_post(client, f"/stock/add/{item}/1"))
                for _ in range(requests)
            ]
            answered, waiting = await asyncio.wait(calls, timeout=FAST_S)
            # Envoy admits max_requests in flight, plus as many pending while it connects.
            assert len(answered) >= requests - 2 * MAX_IN_FLIGHT, "requests queued, not shed"
            for call in answered:
                assert_shed(*call.result(), "GATEWAY_OVERLOADED")
        # Resumed: the admitted requests complete, well within the route timeout.
        for call in waiting:
            ok((await call)[0])

        # Recovery: at or below the limit, everything succeeds.
        for _ in range(5):
            wave = [client.post(f"/stock/add/{item}/1") for _ in range(MAX_IN_FLIGHT // 2)]
            for response in await asyncio.gather(*wave):
                ok(response)
    assert shop.stock(item) == len(waiting) + 5 * (MAX_IN_FLIGHT // 2)


async def test_a_busy_service_sheds_only_with_429_and_loses_no_update(make_stack):
    """Real load, no stalling: every answer is 200 or 429, and exactly the 200s took effect."""
    stack = make_stack({"GATEWAY_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT)})
    shop = shop_on(stack)
    item = shop.create_item()
    concurrency, rounds = 12 * MAX_IN_FLIGHT, 3
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=stack.config.rest_url, timeout=ROUTE_TIMEOUT_S, limits=limits
    ) as client:
        answers = []
        for _ in range(rounds):
            wave = [timed_post(client, f"/stock/add/{item}/1") for _ in range(concurrency)]
            answers += await asyncio.gather(*wave)
    succeeded = [response for response, _ in answers if response.status_code == 200]
    for response, seconds in answers:
        if response.status_code != 200:
            assert_shed(response, seconds, "GATEWAY_OVERLOADED")
    assert shop.stock(item) == len(succeeded)


def test_a_service_that_is_down_is_refused_with_409_and_serves_again_when_back(make_stack):
    """Not even connected: the request was never sent, so it is a 4xx, not Envoy's 503."""
    stack = make_stack()
    shop = shop_on(stack)
    item = shop.create_item()
    stack.stop_process("stock")
    started = time.monotonic()
    refused = shop.http.post(f"/stock/add/{item}/1")
    assert_shed(refused, time.monotonic() - started, "DEPENDENCY_UNAVAILABLE", 409)
    stack.start_service("stock")
    stack.wait_serving("stock")
    ok(shop.http.post(f"/stock/add/{item}/1"))
    assert shop.stock(item) == 1


RATE = 5  # requests per second, and the burst


async def test_beyond_the_rate_limit_requests_are_refused_and_change_nothing(make_stack):
    stack = make_stack({"GATEWAY_RATE_LIMIT_RPS": str(RATE), "GATEWAY_RATE_LIMIT_BURST": str(RATE)})
    shop = shop_on(stack)
    item = shop.create_item()
    await asyncio.sleep(1.5)  # the bucket refills (creating the item took a token)
    async with httpx.AsyncClient(base_url=stack.config.rest_url, timeout=10) as client:
        started = time.monotonic()
        answers = await asyncio.gather(
            *(timed_post(client, f"/stock/add/{item}/1") for _ in range(10 * RATE))
        )
        refills = math.ceil(time.monotonic() - started)  # the bucket refills once a second
        succeeded = [response for response, _ in answers if response.status_code == 200]
        statuses = [response.status_code for response, _ in answers]
        assert 1 <= len(succeeded) <= RATE * (1 + refills) < len(answers), statuses
        for response, seconds in answers:
            if response.status_code != 200:
                assert_shed(response, seconds, "RATE_LIMITED")

        await asyncio.sleep(1.5)  # recovery: a full bucket again
        for _ in range(RATE):
            ok(await client.post(f"/stock/add/{item}/1"))
        await asyncio.sleep(1.5)
        added = len(succeeded) + RATE
        assert ok(await client.get(f"/stock/find/{item}"))["stock"] == added

    # Native gRPC through the gateway has its own bucket; beyond it: RESOURCE_EXHAUSTED.
    with grpc.insecure_channel(stack.config.grpc_addr) as channel:
        stock = stock_pb2_grpc.StockServiceStub(channel)
        codes = []
        for _ in range(3 * RATE):
            try:
                stock.FindItem(stock_pb2.FindItemRequest(item_id=item), timeout=10)
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.append(error.code())
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes


SLOW_STARTS = [
    b"GET /stock/find/x HTTP/1.1\r\nHost: shop\r\n",  # headers never finished
    b"POST /stock/add/x/1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 9\r\n\r\n{",  # nor the body
]


def test_a_slow_client_is_cut_off_with_408(make_stack):
    timeouts = {"GATEWAY_REQUEST_HEADERS_TIMEOUT_S": "1", "GATEWAY_REQUEST_TIMEOUT_S": "2"}
    stack = make_stack({**timeouts, "GATEWAY_TIMEOUT_S": str(ROUTE_TIMEOUT_S)})
    host, _, port = stack.config.rest_addr.rpartition(":")
    for start in SLOW_STARTS:
        with socket.create_connection((host, int(port))) as slow:
            slow.settimeout(2 + FAST_S)  # never answered: a timeout here fails the test
            slow.sendall(start)
            answer = b""
            while chunk := slow.recv(4096):  # until Envoy closes the connection
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["details"][0]["reason"] == "REQUEST_TIMEOUT", answer
