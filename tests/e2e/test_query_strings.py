"""Only the path says what to change (docs/security.md): a REST request with a query string is
refused with 400 QUERY_NOT_ACCEPTED and changes nothing. The transcoder would bind a query
parameter to a request field by its proto name (user_id), its JSON name (userId) or either
percent-encoded (item%5Fid), after the path: `POST /payment/pay/{payer}/10?userId={victim}`
charged the victim, and `?orderId=` checked out another user's order."""

import pytest

from .helpers import Shop, assert_refused

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["sqlite"], indirect=True)]


def refused_for_its_query(response) -> None:
    assert_refused(response, 400, "QUERY_NOT_ACCEPTED")
    assert "query string" in response.json()["message"]


@pytest.mark.parametrize("name", ["userId", "user_id", "user%5Fid", "%75serId"])
def test_pay_with_a_query_charges_no_one(shop: Shop, name: str):
    payer, bystander = shop.create_user(credit=100), shop.create_user(credit=100)
    refused_for_its_query(shop.http.post(f"/payment/pay/{payer}/10?{name}={bystander}"))
    assert (shop.credit(payer), shop.credit(bystander)) == (100, 100)


def test_subtract_with_a_query_changes_no_item(shop: Shop):
    item, bystander = shop.create_item(stock=100), shop.create_item(stock=100)
    refused_for_its_query(shop.http.post(f"/stock/subtract/{item}/1", params={"itemId": bystander}))
    assert (shop.stock(item), shop.stock(bystander)) == (100, 100)


def test_checkout_with_a_query_pays_no_order(shop: Shop):
    item = shop.create_item(price=1, stock=10)
    buyer, victim = shop.create_user(credit=10), shop.create_user(credit=10)
    mine, theirs = shop.create_order(buyer), shop.create_order(victim)
    shop.add_item(mine, item, 1)
    shop.add_item(theirs, item, 5)
    refused_for_its_query(shop.http.post(f"/orders/checkout/{mine}", params={"orderId": theirs}))
    assert shop.order(mine)["paid"] is False and shop.order(theirs)["paid"] is False
    assert (shop.credit(buyer), shop.credit(victim), shop.stock(item)) == (10, 10, 10)


def test_create_order_with_a_query_is_refused_by_the_gateway(shop: Shop):
    me, other = shop.create_user(), shop.create_user()
    refused_for_its_query(shop.http.post(f"/orders/create/{me}", params={"userId": other}))


def test_batch_init_with_a_query_loads_nothing(shop: Shop):
    refused_for_its_query(shop.http.post("/stock/batch_init/1/5/1", params={"startingStock": 99}))
    shop.http.post("/stock/batch_init/1/5/1").raise_for_status()
    assert shop.item("0") == {"stock": 5, "price": 1}


def test_a_read_with_any_query_is_refused_too(shop: Shop):
    """Even a cache-buster that names no field: the API takes nothing from the query."""
    item = shop.create_item(stock=3)
    refused_for_its_query(shop.http.get(f"/stock/find/{item}?_=1"))
    refused_for_its_query(shop.http.get(f"/stock/find/{item}?"))
    assert shop.http.get(f"/stock/find/{item}").json()["stock"] == 3
