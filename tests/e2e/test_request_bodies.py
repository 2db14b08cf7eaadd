"""Only the path says what to change (docs/security.md): a REST request with a body is refused
with 400 BODY_NOT_ACCEPTED and changes nothing. The transcoder merges a JSON body into the
request and checks collisions only for the fields in the path, so `{"quantity": 7}` made the
2023 `POST /orders/addItem/{order}/{item}` ("add one unit", API.md) add seven. gRPC, which the
REST listener takes too, still carries its messages as the body."""

import grpc
import httpx
import pytest

from shop.stock.v1 import stock_pb2, stock_pb2_grpc

from .helpers import Shop, assert_refused

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["sqlite"], indirect=True)]


def refused_for_its_body(response: httpx.Response) -> None:
    assert_refused(response, 400, "BODY_NOT_ACCEPTED")
    assert "request body" in response.json()["message"]


def test_add_one_unit_with_a_quantity_in_the_body_adds_nothing(shop: Shop):
    item = shop.create_item(price=3, stock=10)
    order = shop.create_order(shop.create_user())
    refused_for_its_body(shop.http.post(f"/orders/addItem/{order}/{item}", json={"quantity": 7}))
    assert shop.order(order)["items"] == [] and shop.order(order)["total_cost"] == 0
    shop.http.post(f"/orders/addItem/{order}/{item}").raise_for_status()  # no body: one unit
    assert shop.order(order)["items"] == [[item, 1]] and shop.order(order)["total_cost"] == 3


def test_any_body_is_refused_even_one_that_agrees_with_the_path(shop: Shop):
    user = shop.create_user(credit=50)
    refused_for_its_body(
        shop.http.post(f"/payment/add_funds/{user}/5", json={"user_id": user, "amount": 5})
    )
    refused_for_its_body(shop.http.post(f"/payment/add_funds/{user}/5", content=b"{}"))
    assert shop.credit(user) == 50


@pytest.mark.parametrize(
    "content_type",
    [
        "application/grpc-web",
        "application/grpc-web+json",
        "application/grpc;x=1",
        "application/grpcx",
    ],
)
def test_a_body_that_only_looks_like_grpc_is_refused_too(shop: Shop, content_type: str):
    """The transcoder passes through exactly application/grpc and application/grpc+...; it
    transcodes anything else, so only those may carry a body."""
    item = shop.create_item(price=3, stock=10)
    order = shop.create_order(shop.create_user())
    refused_for_its_body(
        shop.http.post(
            f"/orders/addItem/{order}/{item}",
            content=b'{"quantity": 7}',
            headers={"content-type": content_type},
        )
    )
    assert shop.order(order)["items"] == []


def test_a_chunked_body_is_refused_too(shop: Shop):
    item = shop.create_item(stock=10)

    def chunks():
        yield b'{"amount": '
        yield b"9}"

    refused_for_its_body(shop.http.post(f"/stock/subtract/{item}/1", content=chunks()))
    assert shop.stock(item) == 10


def test_an_empty_body_is_no_body(shop: Shop):
    item = shop.create_item(stock=10)
    answer = shop.http.post(f"/stock/subtract/{item}/1", content=b"")
    assert answer.status_code == 200, answer.text
    assert shop.stock(item) == 9


def test_grpc_on_the_rest_listener_still_carries_its_message(stack, shop: Shop):
    item = shop.create_item(price=4, stock=9)
    with grpc.insecure_channel(stack.config.rest_addr) as channel:
        found = stock_pb2_grpc.StockServiceStub(channel).FindItem(
            stock_pb2.FindItemRequest(item_id=item), timeout=10
        )
    assert (found.stock, found.price) == (9, 4)
