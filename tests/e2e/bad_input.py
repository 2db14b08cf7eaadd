"""What the bad-input tests share: the requests with a number or an id in their path, and a
snapshot of everything a bad request might wrongly change."""

from .helpers import Shop


def snapshot(shop: Shop, world: dict[str, str]) -> dict[str, tuple[int, dict]]:
    """Everything a bad request might wrongly change, including the batch ids "0"."""
    paths = [
        "/stock/find/{item}",
        "/payment/find_user/{user}",
        "/orders/find/{order}",
        "/payment/status/{user}/{unpaid}",
        "/stock/find/0",
        "/payment/find_user/0",
        "/orders/find/0",
    ]
    answers = {}
    for template in paths:
        response = shop.http.get(template.format(**world))
        answers[template] = (response.status_code, response.json())
    return answers


# (path with {v} for the number, whether 0 is a valid value there)
NUMERIC_SEGMENTS = [
    ("/stock/item/create/{v}", True),
    ("/stock/batch_init/{v}/1/1", False),
    ("/stock/batch_init/1/{v}/1", True),
    ("/stock/batch_init/1/1/{v}", True),
    ("/stock/add/{item}/{v}", False),
    ("/stock/subtract/{item}/{v}", False),
    ("/payment/batch_init/{v}/1", False),
    ("/payment/batch_init/1/{v}", True),
    ("/payment/add_funds/{user}/{v}", False),
    ("/payment/pay/{user}/{v}", False),
    ("/payment/pay/{user}/{unpaid}/{v}", False),
    ("/orders/batch_init/{v}/1/1/1", False),
    ("/orders/batch_init/1/{v}/1/1", False),
    ("/orders/batch_init/1/1/{v}/1", False),
    ("/orders/batch_init/1/1/1/{v}", True),
    ("/orders/addItem/{order}/{item}/{v}", False),
]

UNKNOWN_IDS = [
    ("GET /stock/find/{missing}", "ITEM_NOT_FOUND"),
    ("POST /stock/add/{missing}/1", "ITEM_NOT_FOUND"),
    ("POST /stock/subtract/{missing}/1", "ITEM_NOT_FOUND"),
    ("GET /payment/find_user/{missing}", "USER_NOT_FOUND"),
    ("POST /payment/add_funds/{missing}/1", "USER_NOT_FOUND"),
    ("POST /payment/pay/{missing}/1", "USER_NOT_FOUND"),
    ("POST /payment/pay/{missing}/{order}/1", "USER_NOT_FOUND"),
    ("POST /payment/cancel/{missing}/{order}", "USER_NOT_FOUND"),
    ("GET /payment/status/{missing}/{order}", "USER_NOT_FOUND"),
    ("POST /payment/status/{missing}/{order}", "USER_NOT_FOUND"),
    ("POST /payment/cancel/{user}/{unpaid}", "PAYMENT_NOT_FOUND"),
    ("POST /orders/create/{missing}", "USER_NOT_FOUND"),
    ("GET /orders/find/{missing}", "ORDER_NOT_FOUND"),
    ("POST /orders/addItem/{missing}/{item}/1", "ORDER_NOT_FOUND"),
    ("POST /orders/addItem/{missing}/{item}", "ORDER_NOT_FOUND"),
    ("POST /orders/addItem/{order}/{missing}/1", "ITEM_NOT_FOUND"),
    ("POST /orders/addItem/{order}/{missing}", "ITEM_NOT_FOUND"),
    ("DELETE /orders/removeItem/{missing}/{item}", "ORDER_NOT_FOUND"),
    ("DELETE /orders/remove/{missing}", "ORDER_NOT_FOUND"),
]
