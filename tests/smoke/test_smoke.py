"""The shortest end-to-end proof that an interpreter runs the shop: a private stack on free
ports (three services, Envoy, the local broker), and one paid checkout through the REST
gateway. `make smoke` runs only this; CI runs it on the oldest and newest Python it has."""

import sys

import httpx
import pytest

from shoptools.devstack import Stack


@pytest.fixture
def gateway(own_stack: Stack):
    with httpx.Client(base_url=own_stack.config.rest_url, timeout=30) as client:
        yield client


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, f"{response.request.url} -> {response.text}"
    return response.json()


def test_one_checkout_through_the_gateway_pays_the_order(gateway: httpx.Client) -> None:
    item = _ok(gateway.post("/stock/item/create/5"))["item_id"]
    _ok(gateway.post(f"/stock/add/{item}/3"))
    user = _ok(gateway.post("/payment/create_user"))["user_id"]
    _ok(gateway.post(f"/payment/add_funds/{user}/20"))
    order = _ok(gateway.post(f"/orders/create/{user}"))["order_id"]
    _ok(gateway.post(f"/orders/addItem/{order}/{item}/2"))

    _ok(gateway.post(f"/orders/checkout/{order}"))

    assert _ok(gateway.get(f"/orders/find/{order}"))["paid"] is True
    assert _ok(gateway.get(f"/stock/find/{item}"))["stock"] == 1
    assert _ok(gateway.get(f"/payment/find_user/{user}"))["credit"] == 10
    print(f"smoke: one checkout on Python {sys.version.split()[0]}: paid")
