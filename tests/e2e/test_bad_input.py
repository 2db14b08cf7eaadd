"""Bad input answers 4xx (never 5xx) with a JSON error body, and changes nothing anywhere."""

import pytest

from .bad_input import NUMERIC_SEGMENTS, UNKNOWN_IDS, snapshot
from .helpers import MAX_INT32, Shop, assert_refused, missing_id, ok

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(shop: Shop) -> dict[str, str]:
    """Fresh ids for path templates: an item (price 3, stock 10), a user (credit 100), an
    order of that user with two units of the item, and an order id with no payment."""
    item, user = shop.create_item(price=3, stock=10), shop.create_user(credit=100)
    order = shop.create_order(user)
    shop.add_item(order, item, 2)
    return {"item": item, "user": user, "order": order, "unpaid": missing_id()}


def refuses(shop, world, request, status=None, reason=None) -> None:
    """`request` is "METHOD /path/{with}/{world}/{ids}"."""
    method, template = request.split(" ")
    before = snapshot(shop, world)
    response = shop.http.request(method, template.format(**world))
    assert_refused(response, status, reason)
    assert snapshot(shop, world) == before


# --- numbers in paths --------------------------------------------------------------------------

BAD_NUMBERS = ["0", "-1", "abc", "1.5", str(2**31), "99999999999", str(-(2**31) - 1)]


@pytest.mark.parametrize(
    "template, value",
    [
        (template, value)
        for template, zero_ok in NUMERIC_SEGMENTS
        for value in BAD_NUMBERS
        if not (zero_ok and value == "0")
    ],
)
def test_bad_number_in_path_is_refused(shop, world, template, value):
    refuses(shop, world, "POST " + template.replace("{v}", value), status=400)


# --- unknown ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("call, reason", UNKNOWN_IDS)
def test_unknown_id_is_404_with_reason(shop, world, call, reason):
    refuses(shop, {**world, "missing": missing_id()}, call, 404, reason)


@pytest.mark.parametrize(
    "path", ["/stock/find/{id}", "/payment/find_user/{id}", "/orders/find/{id}"]
)
def test_overlong_id_is_invalid(shop, path):
    assert_refused(shop.http.get(path.format(id="x" * 129)), 400, "INVALID_ID")


def test_remove_item_not_in_order_changes_nothing(shop, world):
    other = shop.create_item(price=5)
    refuses(shop, world, f"DELETE /orders/removeItem/{{order}}/{other}")


# --- business refusals -------------------------------------------------------------------------


def test_subtract_more_than_stock(shop, world):
    refuses(shop, world, "POST /stock/subtract/{item}/11", 400, "INSUFFICIENT_STOCK")


def test_pay_more_than_credit(shop, world):
    refuses(shop, world, "POST /payment/pay/{user}/101", 400, "INSUFFICIENT_CREDIT")


def test_direct_payment_more_than_credit(shop, world):
    template = "/payment/pay/{user}/{unpaid}/101"
    refuses(shop, world, "POST " + template, 400, "INSUFFICIENT_CREDIT")


def test_direct_payment_repeated_with_another_amount(shop, world):
    ok(shop.http.post("/payment/pay/{user}/{unpaid}/10".format(**world)))
    refuses(shop, world, "POST /payment/pay/{user}/{unpaid}/11", None, "PAYMENT_CONFLICT")
    assert shop.credit(world["user"]) == 90


# --- results that would overflow 2^31-1 --------------------------------------------------------


def test_stock_cannot_overflow(shop, world):
    ok(shop.http.post("/stock/add/{item}/{n}".format(n=MAX_INT32 - 15, **world)))
    refuses(shop, world, "POST /stock/add/{item}/6", 400, "STOCK_OVERFLOW")
    ok(shop.http.post("/stock/add/{item}/5".format(**world)))
    assert shop.stock(world["item"]) == MAX_INT32
    refuses(shop, world, "POST /stock/add/{item}/1", 400, "STOCK_OVERFLOW")


def test_credit_cannot_overflow(shop, world):
    ok(shop.http.post("/payment/add_funds/{user}/{n}".format(n=MAX_INT32 - 105, **world)))
    refuses(shop, world, "POST /payment/add_funds/{user}/6", 400, "CREDIT_OVERFLOW")
    assert ok(shop.http.post("/payment/add_funds/{user}/5".format(**world))) == {"done": True}
    assert shop.credit(world["user"]) == MAX_INT32
    refuses(shop, world, "POST /payment/add_funds/{user}/1", 400, "CREDIT_OVERFLOW")


def test_refund_cannot_overflow_credit(shop, world):
    ok(shop.http.post("/payment/pay/{user}/{unpaid}/10".format(**world)))
    ok(shop.http.post("/payment/add_funds/{user}/{n}".format(n=MAX_INT32 - 95, **world)))
    refuses(shop, world, "POST /payment/cancel/{user}/{unpaid}", 400, "CREDIT_OVERFLOW")
    assert shop.paid(world["user"], world["unpaid"])


@pytest.mark.parametrize(
    "price, quantities", [(2**30, [1, 1]), (100_000, [100_000]), (1, [MAX_INT32])]
)
def test_order_total_cannot_overflow(shop, world, price, quantities):
    item = shop.create_item(price=price)
    *fitting, too_many = quantities
    for quantity in fitting:
        shop.add_item(world["order"], item, quantity)
    template = f"/orders/addItem/{{order}}/{item}/{too_many}"
    refuses(shop, world, "POST " + template, 400, "COST_OVERFLOW")


# --- paths and methods -------------------------------------------------------------------------

UNKNOWN_PATHS = [
    "/",
    "/nope",
    "/stock",
    "/stock/find",
    "/stock/find/",
    "/stock/find/{item}/extra",
    "/stock/add/{item}",
    "/stock/item/create",
    "/payment/find_user/{user}/extra",
    "/payment/add_funds/{user}",
    "/orders/addItem/{order}",
    "/orders/find/{order}/items",
    "/shop.stock.v1.StockService/FindItem",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_path_is_404(shop, world, method, path):
    refuses(shop, world, f"{method} {path}", 404)


WRONG_METHODS = [
    "GET /stock/subtract/{item}/1",
    "GET /stock/add/{item}/1",
    "DELETE /stock/find/{item}",
    "PUT /stock/add/{item}/1",
    "GET /stock/item/create/1",
    "GET /stock/batch_init/1/1/1",
    "GET /payment/create_user",
    "GET /payment/pay/{user}/1",
    "DELETE /payment/add_funds/{user}/1",
    "PATCH /payment/pay/{user}/{unpaid}/1",
    "GET /payment/cancel/{user}/{unpaid}",
    "POST /orders/find/{order}",
    "GET /orders/create/{user}",
    "GET /orders/addItem/{order}/{item}/1",
    "POST /orders/removeItem/{order}/{item}",
    "GET /orders/remove/{order}",
    "POST /orders/remove/{order}",
]


@pytest.mark.parametrize("call", WRONG_METHODS)
def test_wrong_method_is_refused(shop, world, call):
    refuses(shop, world, call)


# --- only the path says what to change ---------------------------------------------------------


def overrides(via: str, fields: dict) -> dict:
    return {"params": fields} if via == "query" else {"json": fields}


@pytest.mark.parametrize("via", ["query", "json_body"])
def test_pay_charges_only_the_user_and_amount_in_the_path(shop, via):
    payer, bystander = shop.create_user(credit=100), shop.create_user(credit=100)
    response = shop.http.post(
        f"/payment/pay/{payer}/10", **overrides(via, {"user_id": bystander, "amount": 90})
    )
    assert shop.credit(bystander) == 100
    assert shop.credit(payer) == (90 if response.status_code == 200 else 100)


@pytest.mark.parametrize("via", ["query", "json_body"])
def test_subtract_changes_only_the_item_and_amount_in_the_path(shop, via):
    item, bystander = shop.create_item(stock=100), shop.create_item(stock=100)
    response = shop.http.post(
        f"/stock/subtract/{item}/1", **overrides(via, {"item_id": bystander, "amount": 50})
    )
    assert shop.stock(bystander) == 100
    assert shop.stock(item) == (99 if response.status_code == 200 else 100)
