"""One small call per REST endpoint, and the checks every e2e test makes on answers."""

import json
import uuid

import httpx

from shoptools.devstack import Stack

MAX_INT32 = 2**31 - 1
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def missing_id() -> str:
    """An id no store knows."""
    return f"missing-{uuid.uuid4()}"


def log_records(stack: Stack, service: str) -> list[dict]:
    """The service's JSON log lines so far (lines that are not JSON, e.g. from grpc's C core,
    are left out)."""
    records = []
    for line in stack.log_path(service).read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line still being written
    return records


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path} -> {response.status_code} {response.text!r}"


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, describe(response)
    return response.json()


def reasons(response: httpx.Response) -> list[str]:
    """The ErrorInfo reasons of an error answer."""
    details = response.json().get("details", [])
    return [d.get("reason") for d in details if d.get("@type") == ERROR_INFO]


def assert_refused(
    response: httpx.Response, status: int | None = None, reason: str | None = None
) -> None:
    """A 4xx with a JSON error body, optionally with this status and ErrorInfo reason."""
    assert 400 <= response.status_code < 500, describe(response)
    if status is not None:
        assert response.status_code == status, describe(response)
    body = response.json()
    assert isinstance(body, dict), describe(response)
    if reason is not None:
        assert reason in reasons(response), describe(response)


def assert_shape(body: dict, shape: dict[str, type]) -> None:
    """Exactly these keys, each of exactly this JSON type (an int is not a bool nor a string)."""
    assert set(body) == set(shape), body
    for key, kind in shape.items():
        assert type(body[key]) is kind, f"{key}: {body[key]!r} is not {kind.__name__} in {body}"


class Shop:
    """The REST API of one stack, one method per endpoint."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    # stock
    def create_item(self, price: int = 10, stock: int = 0) -> str:
        item_id = ok(self.http.post(f"/stock/item/create/{price}"))["item_id"]
        if stock:
            ok(self.http.post(f"/stock/add/{item_id}/{stock}"))
        return item_id

    def item(self, item_id: str) -> dict:
        return ok(self.http.get(f"/stock/find/{item_id}"))

    def stock(self, item_id: str) -> int:
        return self.item(item_id)["stock"]

    # payment
    def create_user(self, credit: int = 0) -> str:
        user_id = ok(self.http.post("/payment/create_user"))["user_id"]
        if credit:
            ok(self.http.post(f"/payment/add_funds/{user_id}/{credit}"))
        return user_id

    def user(self, user_id: str) -> dict:
        return ok(self.http.get(f"/payment/find_user/{user_id}"))

    def credit(self, user_id: str) -> int:
        return self.user(user_id)["credit"]

    def paid(self, user_id: str, order_id: str) -> bool:
        return ok(self.http.get(f"/payment/status/{user_id}/{order_id}"))["paid"]

    # orders
    def create_order(self, user_id: str | None = None) -> str:
        user_id = user_id or self.create_user()
        return ok(self.http.post(f"/orders/create/{user_id}"))["order_id"]

    def order(self, order_id: str) -> dict:
        return ok(self.http.get(f"/orders/find/{order_id}"))

    def add_item(self, order_id: str, item_id: str, quantity: int | None = None) -> dict:
        path = f"/orders/addItem/{order_id}/{item_id}"
        return ok(self.http.post(path if quantity is None else f"{path}/{quantity}"))
