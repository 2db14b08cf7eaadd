"""Every endpoint of the REST contract (API.md), through the real Envoy: status and body shape.

Checkout is not implemented yet and is not tested here.
"""

import pytest

from .helpers import Shop, assert_refused, assert_shape, missing_id, ok

pytestmark = pytest.mark.e2e


# --- stock -------------------------------------------------------------------------------------


def test_create_item_answers_a_fresh_id_with_no_stock(shop: Shop):
    body = ok(shop.http.post("/stock/item/create/7"))
    assert_shape(body, {"item_id": str})
    assert body["item_id"] != shop.create_item(7)
    found = ok(shop.http.get(f"/stock/find/{body['item_id']}"))
    assert_shape(found, {"stock": int, "price": int})
    assert found == {"stock": 0, "price": 7}


def test_item_price_may_be_zero(shop: Shop):
    assert shop.item(shop.create_item(price=0)) == {"stock": 0, "price": 0}


def test_add_and_subtract_stock(shop: Shop):
    item = shop.create_item(price=3)
    assert isinstance(ok(shop.http.post(f"/stock/add/{item}/5")), dict)
    assert isinstance(ok(shop.http.post(f"/stock/add/{item}/7")), dict)
    assert shop.item(item) == {"stock": 12, "price": 3}
    assert isinstance(ok(shop.http.post(f"/stock/subtract/{item}/2")), dict)
    assert shop.item(item) == {"stock": 10, "price": 3}


def test_subtract_down_to_exactly_zero(shop: Shop):
    item = shop.create_item(stock=4)
    ok(shop.http.post(f"/stock/subtract/{item}/4"))
    assert shop.stock(item) == 0
    assert_refused(shop.http.post(f"/stock/subtract/{item}/1"), 400, "INSUFFICIENT_STOCK")
    assert shop.stock(item) == 0


# --- payment -----------------------------------------------------------------------------------


def test_create_user_answers_a_fresh_id_with_no_credit(shop: Shop):
    body = ok(shop.http.post("/payment/create_user"))
    assert_shape(body, {"user_id": str})
    assert body["user_id"] != shop.create_user()
    found = ok(shop.http.get(f"/payment/find_user/{body['user_id']}"))
    assert_shape(found, {"user_id": str, "credit": int})
    assert found == {"user_id": body["user_id"], "credit": 0}


def test_add_funds_answers_done_and_pay_takes_credit(shop: Shop):
    user = shop.create_user()
    assert ok(shop.http.post(f"/payment/add_funds/{user}/100")) == {"done": True}
    assert ok(shop.http.post(f"/payment/add_funds/{user}/20")) == {"done": True}
    assert shop.user(user) == {"user_id": user, "credit": 120}
    assert isinstance(ok(shop.http.post(f"/payment/pay/{user}/30")), dict)
    assert shop.user(user) == {"user_id": user, "credit": 90}
    ok(shop.http.post(f"/payment/pay/{user}/90"))
    assert shop.credit(user) == 0


# --- orders ------------------------------------------------------------------------------------


def test_create_order_is_empty_and_unpaid(shop: Shop):
    user = shop.create_user()
    body = ok(shop.http.post(f"/orders/create/{user}"))
    assert_shape(body, {"order_id": str})
    found = ok(shop.http.get(f"/orders/find/{body['order_id']}"))
    assert_shape(
        found, {"order_id": str, "paid": bool, "items": list, "user_id": str, "total_cost": int}
    )
    assert found == {
        "order_id": body["order_id"],
        "paid": False,
        "items": [],
        "user_id": user,
        "total_cost": 0,
    }
    assert shop.create_order(user) != body["order_id"]


def test_add_item_with_and_without_quantity(shop: Shop):
    apple, pear = shop.create_item(price=7), shop.create_item(price=11)
    order = shop.create_order()
    assert isinstance(ok(shop.http.post(f"/orders/addItem/{order}/{apple}/3")), dict)
    assert isinstance(ok(shop.http.post(f"/orders/addItem/{order}/{pear}")), dict)  # 2023: one
    found = shop.order(order)
    assert found["items"] == [[apple, 3], [pear, 1]]
    for line in found["items"]:
        assert type(line) is list and type(line[0]) is str and type(line[1]) is int
    assert found["total_cost"] == 3 * 7 + 11
    assert found["paid"] is False


def test_total_cost_adds_quantity_times_price_of_every_line(shop: Shop):
    apple, free = shop.create_item(price=5), shop.create_item(price=0)
    order = shop.create_order()
    shop.add_item(order, apple, 2)
    shop.add_item(order, free, 9)
    shop.add_item(order, apple)
    shop.add_item(order, apple, 4)
    found = shop.order(order)
    units: dict[str, int] = {}
    for item_id, quantity in found["items"]:
        units[item_id] = units.get(item_id, 0) + quantity
    assert units == {apple: 7, free: 9}
    assert found["total_cost"] == 7 * 5
    # adding to an order reads prices and changes no stock
    assert shop.item(apple) == {"stock": 0, "price": 5}


def test_remove_item_drops_its_lines_and_lowers_the_total(shop: Shop):
    apple, pear = shop.create_item(price=7), shop.create_item(price=11)
    order = shop.create_order()
    shop.add_item(order, apple, 2)
    shop.add_item(order, pear, 1)
    shop.add_item(order, apple)
    assert isinstance(ok(shop.http.delete(f"/orders/removeItem/{order}/{apple}")), dict)
    found = shop.order(order)
    assert found["items"] == [[pear, 1]]
    assert found["total_cost"] == 11
    ok(shop.http.delete(f"/orders/removeItem/{order}/{pear}"))
    assert shop.order(order)["items"] == []
    assert shop.order(order)["total_cost"] == 0


def test_remove_order_deletes_it(shop: Shop):
    order = shop.create_order()
    shop.add_item(order, shop.create_item(price=2), 1)
    assert isinstance(ok(shop.http.delete(f"/orders/remove/{order}")), dict)
    assert_refused(shop.http.get(f"/orders/find/{order}"), 404, "ORDER_NOT_FOUND")
    assert_refused(shop.http.delete(f"/orders/remove/{order}"), 404, "ORDER_NOT_FOUND")


# --- 2023 direct payments ----------------------------------------------------------------------


def test_direct_payment_charges_once_and_cancel_refunds_once(shop: Shop):
    user, order = shop.create_user(credit=100), missing_id()
    assert ok(shop.http.get(f"/payment/status/{user}/{order}")) == {"paid": False}
    assert isinstance(ok(shop.http.post(f"/payment/pay/{user}/{order}/30")), dict)
    assert shop.credit(user) == 70
    ok(shop.http.post(f"/payment/pay/{user}/{order}/30"))  # a repeat changes nothing more
    assert shop.credit(user) == 70
    for method in ("GET", "POST"):
        status = ok(shop.http.request(method, f"/payment/status/{user}/{order}"))
        assert_shape(status, {"paid": bool})
        assert status == {"paid": True}
    assert isinstance(ok(shop.http.post(f"/payment/cancel/{user}/{order}")), dict)
    assert shop.credit(user) == 100
    ok(shop.http.post(f"/payment/cancel/{user}/{order}"))  # idempotent: refunds once
    assert shop.credit(user) == 100
    for method in ("GET", "POST"):
        assert ok(shop.http.request(method, f"/payment/status/{user}/{order}")) == {"paid": False}


def test_direct_payments_are_per_user_and_order(shop: Shop):
    alice, bob = shop.create_user(credit=50), shop.create_user(credit=50)
    first, second = missing_id(), missing_id()
    ok(shop.http.post(f"/payment/pay/{alice}/{first}/10"))
    ok(shop.http.post(f"/payment/pay/{alice}/{second}/10"))
    assert shop.credit(alice) == 30
    assert shop.credit(bob) == 50
    assert shop.paid(alice, first) and shop.paid(alice, second)
    assert not shop.paid(bob, first)


# --- batch_init (on a private stack: it overwrites ids "0".."n-1") ---------------------------


def test_batch_init_of_each_service(own_shop: Shop):
    http = own_shop.http
    body = ok(http.post("/stock/batch_init/5/10/3"))
    assert_shape(body, {"msg": str})
    assert [own_shop.item(str(i)) for i in range(5)] == [{"stock": 10, "price": 3}] * 5
    assert_refused(http.get("/stock/find/5"), 404, "ITEM_NOT_FOUND")

    assert_shape(ok(http.post("/payment/batch_init/4/50")), {"msg": str})
    assert [own_shop.user(str(i)) for i in range(4)] == [
        {"user_id": str(i), "credit": 50} for i in range(4)
    ]
    assert_refused(http.get("/payment/find_user/4"), 404, "USER_NOT_FOUND")

    assert_shape(ok(http.post("/orders/batch_init/6/5/4/3")), {"msg": str})
    for i in range(6):
        order = own_shop.order(str(i))
        assert order["order_id"] == str(i)
        assert order["paid"] is False
        assert order["user_id"] in {str(u) for u in range(4)}
        assert len(order["items"]) == 2
        for item_id, quantity in order["items"]:
            assert item_id in {str(n) for n in range(5)}
            assert quantity == 1
        assert order["total_cost"] == 2 * 3
    assert_refused(http.get("/orders/find/6"), 404, "ORDER_NOT_FOUND")


def test_batch_init_overwrites(own_shop: Shop):
    http = own_shop.http
    ok(http.post("/stock/batch_init/2/10/3"))
    ok(http.post("/payment/batch_init/2/10"))
    ok(http.post("/orders/batch_init/2/2/2/3"))
    ok(http.post("/stock/subtract/0/4"))
    ok(http.post("/payment/pay/1/4"))
    ok(http.delete("/orders/remove/0"))
    ok(http.post("/stock/batch_init/2/20/1"))
    ok(http.post("/payment/batch_init/2/70"))
    ok(http.post("/orders/batch_init/2/2/2/5"))
    assert own_shop.item("0") == {"stock": 20, "price": 1}
    assert own_shop.user("1") == {"user_id": "1", "credit": 70}
    assert own_shop.order("0")["total_cost"] == 10
