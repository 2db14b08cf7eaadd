"""What the checkout tests share: a small REST client, answers checks, many requests at once,
and the cross-service invariants read straight from the three SQLite files."""

import asyncio
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from shoptools.devstack import Stack

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"

# Short timeouts so that recovery of a crash happens within seconds.
FAST_RECOVERY = {
    "CHECKOUT_TIMEOUT_S": "2",
    "RPC_TIMEOUT_S": "1",
    "RECOVERY_LEASE_S": "1",
    "RECOVERY_INTERVAL_S": "0.3",
    "RESERVATION_TIMEOUT_S": "2",
}

# A lease far longer than the gateway's timeout (15 s): a retry that waited for it would end in
# 504, so an answer at all shows that whoever answered it did not wait.
LONG_LEASE = {**FAST_RECOVERY, "CHECKOUT_TIMEOUT_S": "40", "RECOVERY_LEASE_S": "60"}


def describe(response: httpx.Response | BaseException) -> str:
    if isinstance(response, BaseException):
        return repr(response)
    request = response.request
    return f"{request.method} {request.url.path} -> {response.status_code} {response.text}"


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, describe(response)
    return response.json()


def error_info(response: httpx.Response) -> dict:
    """The ErrorInfo of an error answer ({} if there is none)."""
    details = response.json().get("details", [])
    return next((d for d in details if d.get("@type") == ERROR_INFO), {})


def refused(response: httpx.Response, reason: str, status: int | None = None) -> dict:
    """A 4xx naming `reason`; returns the ErrorInfo metadata."""
    assert 400 <= response.status_code < 500, describe(response)
    if status is not None:
        assert response.status_code == status, describe(response)
    info = error_info(response)
    assert info.get("reason") == reason, describe(response)
    return info.get("metadata", {})


def outcome(response: httpx.Response | BaseException) -> str:
    """'200', '4xx:REASON', '5xx' or the name of a transport error, for counting."""
    if isinstance(response, BaseException):
        return type(response).__name__
    if response.status_code == 200:
        return "200"
    if 400 <= response.status_code < 500:
        return f"4xx:{error_info(response).get('reason')}"
    return f"{response.status_code // 100}xx"


class Shop:
    """The REST calls the checkout tests make, through the gateway."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def item(self, price: int, stock: int = 0) -> str:
        item_id = ok(self.http.post(f"/stock/item/create/{price}"))["item_id"]
        if stock:
            ok(self.http.post(f"/stock/add/{item_id}/{stock}"))
        return item_id

    def user(self, credit: int = 0) -> str:
        user_id = ok(self.http.post("/payment/create_user"))["user_id"]
        if credit:
            ok(self.http.post(f"/payment/add_funds/{user_id}/{credit}"))
        return user_id

    def order(self, user_id: str, lines: Iterable[tuple[str, int]] = ()) -> str:
        order_id = ok(self.http.post(f"/orders/create/{user_id}"))["order_id"]
        for item_id, quantity in lines:
            ok(self.http.post(f"/orders/addItem/{order_id}/{item_id}/{quantity}"))
        return order_id

    def stock(self, item_id: str) -> int:
        return ok(self.http.get(f"/stock/find/{item_id}"))["stock"]

    def credit(self, user_id: str) -> int:
        return ok(self.http.get(f"/payment/find_user/{user_id}"))["credit"]

    def find(self, order_id: str) -> dict:
        return ok(self.http.get(f"/orders/find/{order_id}"))

    def paid(self, order_id: str) -> bool:
        return self.find(order_id)["paid"]

    def checkout(self, order_id: str) -> httpx.Response:
        return self.http.post(f"/orders/checkout/{order_id}")


def checkout_until_answered(shop: Shop, order_id: str, attempts: int = 20) -> httpx.Response:
    """What a client does with a 409 DEPENDENCY_UNAVAILABLE: try again a little later."""
    for _ in range(attempts):
        answer = shop.checkout(order_id)
        if outcome(answer) != "4xx:DEPENDENCY_UNAVAILABLE":
            return answer
        time.sleep(0.5)
    return answer


def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.config.rest_url, timeout=60)


@dataclass
class Sent:
    answer: httpx.Response | BaseException  # a transport error in place of an answer
    started: float  # time.monotonic()
    ended: float


async def send_timed(
    base_url: str, requests: list[tuple[str, str]], in_flight: int, spacing_s: float = 0.0
) -> list[Sent]:
    """Send (method, path) requests with up to `in_flight` of them at once, request i not
    before i * spacing_s; answers in order.

    httpx's connection pool costs O(connections x waiting requests) per request, so the
    connections are spread over several small clients, each behind its own semaphore."""
    per_client = min(10, in_flight)
    shards = [
        (
            httpx.AsyncClient(
                base_url=base_url,
                timeout=60,
                limits=httpx.Limits(
                    max_connections=per_client, max_keepalive_connections=per_client
                ),
            ),
            asyncio.Semaphore(per_client),
        )
        for _ in range(max(1, in_flight // per_client))
    ]
    start = time.monotonic()

    async def send(i: int, method: str, path: str) -> Sent:
        await asyncio.sleep(max(0.0, start + i * spacing_s - time.monotonic()))
        http, gate = shards[i % len(shards)]
        async with gate:
            started = time.monotonic()
            try:
                answer = await http.request(method, path)
            except httpx.HTTPError as error:
                answer = error
            return Sent(answer, started, time.monotonic())

    try:
        return await asyncio.gather(*(send(i, m, p) for i, (m, p) in enumerate(requests)))
    finally:
        for http, _ in shards:
            await http.aclose()


async def send_all(
    base_url: str, requests: list[tuple[str, str]], in_flight: int
) -> list[httpx.Response | BaseException]:
    return [sent.answer for sent in await send_timed(base_url, requests, in_flight)]


def all_ok(base_url: str, method: str, paths: list[str], in_flight: int = 50) -> list[dict]:
    """Send every path (each must answer 200); returns the JSON bodies, in order."""
    answers = asyncio.run(send_all(base_url, [(method, p) for p in paths], in_flight))
    bad = Counter(
        outcome(a) for a in answers if not isinstance(a, httpx.Response) or a.status_code != 200
    )
    assert not bad, f"{method} requests failed: {bad}"
    return [a.json() for a in answers]


def race_for_the_stock(
    url: str, users: int = 1000, stock: int = 100, in_flight: int = 100
) -> tuple[str, list[str]]:
    """The course's consistency workload through the gateway at `url`: `users` users with
    credit 1 race for `stock` units of one item; exactly `stock` checkouts succeed, the rest are
    refused, and stock, credit and paid orders agree. Returns (item id, user ids)."""
    with httpx.Client(base_url=url, timeout=60) as http:
        shop = Shop(http)
        item = shop.item(price=1, stock=stock)
        ok(http.post(f"/payment/batch_init/{users}/1"))
        user_ids = [str(u) for u in range(users)]
        created = all_ok(url, "POST", [f"/orders/create/{user}" for user in user_ids])
        orders = [body["order_id"] for body in created]
        all_ok(url, "POST", [f"/orders/addItem/{order}/{item}/1" for order in orders])

        checkouts = [("POST", f"/orders/checkout/{order}") for order in orders]
        answers = asyncio.run(send_all(url, checkouts, in_flight))

        outcomes = Counter(map(outcome, answers))
        assert outcomes["200"] == stock, outcomes
        assert sum(n for o, n in outcomes.items() if o.startswith("4xx")) == users - stock, outcomes
        assert shop.stock(item) == 0
        credits = all_ok(url, "GET", [f"/payment/find_user/{user}" for user in user_ids], in_flight)
        assert sum(body["credit"] for body in credits) == users - stock
        found = all_ok(url, "GET", [f"/orders/find/{order}" for order in orders], in_flight)
        paid = {body["order_id"] for body in found if body["paid"]}
        assert paid == {o for o, a in zip(orders, answers, strict=True) if outcome(a) == "200"}
    return item, user_ids


# --- invariants, read from the stores ------------------------------------------------------


def _read(stack: Stack, service: str, sql: str) -> list[tuple]:
    path = stack.config.data_dir / f"{service}.sqlite3"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_invariants(
    stack: Stack, initial_stock: dict[str, int], initial_credit: dict[str, int]
) -> None:
    """Checkout is all or nothing, across the three stores, once every transaction is over."""
    orders = _read(
        stack, "order", "SELECT order_id, user_id, paid, lines, checkout_txn FROM orders"
    )
    checkouts = _read(stack, "order", "SELECT txn_id, order_id, decision, finished FROM checkouts")
    items = dict(_read(stack, "stock", "SELECT item_id, stock FROM items"))
    credits = dict(_read(stack, "payment", "SELECT user_id, credit FROM users"))
    states = {
        service: dict(_read(stack, service, "SELECT txn_id, state FROM reservations"))
        for service in ("stock", "payment")
    }

    unfinished = [row for row in checkouts if not row[3]]
    assert not unfinished, f"checkout transactions not finished: {unfinished}"
    for service, by_txn in states.items():
        held = [txn for txn, state in by_txn.items() if state == "HELD"]
        assert not held, f"{service} still holds reservations {held}"

    sold: Counter = Counter()
    spent: Counter = Counter()
    paid_txns = set()
    for order_id, user_id, paid, lines, txn in orders:
        if not paid:
            continue
        paid_txns.add(txn)
        for item_id, quantity, unit_price in json.loads(lines):
            sold[item_id] += quantity
            spent[user_id] += quantity * unit_price
        for service, by_txn in states.items():
            state = by_txn.get(txn)
            assert state == "COMMITTED", (
                f"paid order {order_id}: {service} reservation {txn} is {state}"
            )

    for service, by_txn in states.items():
        stray = [
            txn for txn, state in by_txn.items() if state == "COMMITTED" and txn not in paid_txns
        ]
        assert not stray, f"{service} committed {stray}, which paid no order"
    for txn, order_id, decision, _ in checkouts:
        if txn in paid_txns:
            assert decision == "COMMIT", f"order {order_id} is paid by {txn}, decided {decision}"
            continue
        for service, by_txn in states.items():
            state = by_txn.get(txn)
            assert state in (None, "CANCELLED"), (
                f"{service} reservation {txn} of order {order_id} (not its payment) is {state}"
            )

    for item_id, initial in initial_stock.items():
        assert items[item_id] + sold[item_id] == initial, (
            f"item {item_id}: stock {items[item_id]} + sold {sold[item_id]} != initial {initial}"
        )
    for user_id, initial in initial_credit.items():
        assert credits[user_id] + spent[user_id] == initial, (
            f"user {user_id}: credit {credits[user_id]} + paid {spent[user_id]} != {initial}"
        )


def wait_for_invariants(
    stack: Stack,
    initial_stock: dict[str, int],
    initial_credit: dict[str, int],
    timeout_s: float = 30,
) -> None:
    """Recovery is asynchronous: poll until the invariants hold, else fail with the last
    violation."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            check_invariants(stack, initial_stock, initial_credit)
            return
        except (AssertionError, sqlite3.OperationalError) as violation:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"invariants still violated after {timeout_s}s: {violation}"
                ) from None
        time.sleep(0.3)
