"""The order rules against the real SQLite adapter."""

import random
from functools import partial

import pytest

from order_svc import orders
from order_svc.orders import Line, Order
from shopmesh.errors import Kind, ShopError
from shopmesh.validation import MAX_INT32

# Every rule that takes an order, with arguments that would succeed for order "o1" below.
RULES = {
    orders.find_order: {},
    orders.add_item: {"line": Line("c", 1, 10)},
    orders.remove_item: {"item_id": "a"},
    orders.delete_order: {},
}
CHANGES = [orders.add_item, orders.remove_item, orders.delete_order]


def call(rule, **arguments):
    return partial(rule, **{"order_id": "o1", **RULES[rule], **arguments})


def orders_now(repo):
    """What the tests compare before and after a refused change."""
    return [repo.get(order_id) for order_id in ("o1", "paid")]


@pytest.fixture
async def book(order_store):
    """Unpaid order "o1": 2 of "a" at 10 and 1 of "b" at 5; paid order "paid": 1 of "a"."""
    o1 = Order("o1", "u1", lines=[Line("a", 2, 10), Line("b", 1, 5)])
    paid = Order("paid", "u1", paid=True, lines=[Line("a", 1, 10)])
    await order_store.transact(lambda repo: repo.put_many(iter([o1, paid])))
    return order_store


async def test_new_order_is_empty_and_unpaid(order_store):
    first, second = orders.new_order("u1"), orders.new_order("u1")
    assert first.order_id != second.order_id
    assert (first.user_id, first.paid, first.lines, first.total_cost) == ("u1", False, [], 0)
    await order_store.transact(lambda repo: repo.put(first))
    assert await order_store.read(partial(orders.find_order, order_id=first.order_id)) == first


def test_new_order_refuses_bad_user_id(bad_id):
    with pytest.raises(ShopError) as info:
        orders.new_order(bad_id)
    assert info.value.reason == "INVALID_ID"


def test_quantities_sum_units_per_item():
    lines = [Line("a", 2, 10), Line("b", 1, 5), Line("a", 3, 10), Line("c", 1, 0)]
    order = Order("o", "u", lines=lines)
    assert order.quantities() == {"a": 5, "b": 1, "c": 1}
    assert order.total_cost == 55
    assert Order("o", "u").quantities() == {}


async def test_add_item_accumulates_lines_and_total_cost(book):
    order = await book.transact(call(orders.add_item, line=Line("c", 3, 4)))
    assert (order.total_cost, order.quantities()) == (37, {"a": 2, "b": 1, "c": 3})
    order = await book.transact(call(orders.add_item, line=Line("a", 1, 10)))
    assert (order.total_cost, order.quantities()) == (47, {"a": 3, "b": 1, "c": 3})
    stored = await book.read(call(orders.find_order))
    assert stored == order and len(stored.lines) == 4


async def test_add_item_up_to_the_32_bit_limit(book):
    order = await book.transact(call(orders.add_item, line=Line("c", 1, MAX_INT32 - 25)))
    assert order.total_cost == MAX_INT32


@pytest.mark.parametrize(
    "line",
    [Line("c", 1, MAX_INT32 - 24), Line("c", 2, 2**30), Line("c", MAX_INT32, MAX_INT32)],
    ids=["total", "one-line", "huge-line"],
)
async def test_add_item_past_the_32_bit_limit_is_refused(book, refused, line):
    work = call(orders.add_item, line=line)
    await refused(book, work, "COST_OVERFLOW", snapshot=orders_now, kind=Kind.OUT_OF_RANGE)


@pytest.mark.parametrize(
    "line",
    [Line("a", MAX_INT32 - 1, 0), Line("c", MAX_INT32 - 2, 0)],
    ids=["one-item-over-lines", "all-items"],
)
async def test_add_item_past_32_bits_of_units_is_refused(book, refused, line):
    """Prices may be 0, so the cost does not bound the units: an item's units over all its
    lines, and the order's units in all, must fit a reservation's 32-bit fields."""
    work = call(orders.add_item, line=line)
    await refused(book, work, "QUANTITY_OVERFLOW", snapshot=orders_now, kind=Kind.OUT_OF_RANGE)


async def test_add_item_up_to_32_bits_of_units(book):
    order = await book.transact(call(orders.add_item, line=Line("c", MAX_INT32 - 3, 0)))
    assert sum(order.quantities().values()) == MAX_INT32


async def test_add_item_refuses_bad_quantity(book, refused, bad_number):
    quantity, kind = bad_number
    work = call(orders.add_item, line=Line("c", quantity, 10))
    await refused(book, work, "INVALID_QUANTITY", snapshot=orders_now, kind=kind)


async def test_remove_item_removes_every_line_of_the_item(book):
    await book.transact(call(orders.add_item, line=Line("a", 1, 10)))
    order = await book.transact(call(orders.remove_item, item_id="a"))
    assert (order.lines, order.total_cost) == ([Line("b", 1, 5)], 5)
    assert await book.read(call(orders.find_order)) == order


async def test_remove_item_not_in_the_order_is_refused(book, refused):
    work = call(orders.remove_item, item_id="c")
    await refused(book, work, "ITEM_NOT_IN_ORDER", snapshot=orders_now, kind=Kind.NOT_FOUND)


async def test_delete_order(book):
    await book.transact(call(orders.delete_order))
    assert await book.read(orders_now) == [None, Order("paid", "u1", True, [Line("a", 1, 10)])]
    with pytest.raises(ShopError) as info:
        await book.read(call(orders.find_order))
    assert info.value.reason == "ORDER_NOT_FOUND"


@pytest.mark.parametrize("rule", RULES)
async def test_unknown_order_is_refused(book, refused, rule):
    work = call(rule, order_id="o2")
    await refused(book, work, "ORDER_NOT_FOUND", snapshot=orders_now, kind=Kind.NOT_FOUND)


@pytest.mark.parametrize("rule", CHANGES)
async def test_paid_order_cannot_change(book, refused, rule):
    work = call(rule, order_id="paid")
    error = await refused(book, work, "ORDER_ALREADY_PAID", snapshot=orders_now)
    assert error.kind is Kind.FAILED_PRECONDITION
    assert (await book.read(call(orders.find_order, order_id="paid"))).paid


@pytest.mark.parametrize("rule", RULES)
async def test_bad_order_id_is_refused(book, refused, rule, bad_id):
    work = call(rule, order_id=bad_id)
    await refused(book, work, "INVALID_ID", snapshot=orders_now, kind=Kind.INVALID_ARGUMENT)


@pytest.mark.parametrize("rule", [orders.add_item, orders.remove_item])
async def test_bad_item_id_is_refused(book, refused, rule, bad_id):
    if rule is orders.add_item:
        work = call(rule, line=Line(bad_id, 1, 10))
    else:
        work = call(rule, item_id=bad_id)
    await refused(book, work, "INVALID_ID", snapshot=orders_now, kind=Kind.INVALID_ARGUMENT)


async def test_batch_orders_shape(order_store):
    batch = list(orders.batch_orders(50, n_items=4, n_users=3, item_price=7, rng=random.Random(1)))
    assert [order.order_id for order in batch] == [str(i) for i in range(50)]
    for order in batch:
        assert not order.paid and order.user_id in {"0", "1", "2"}
        assert [(line.quantity, line.unit_price) for line in order.lines] == [(1, 7), (1, 7)]
        assert {line.item_id for line in order.lines} <= {"0", "1", "2", "3"}
        assert order.total_cost == 14
    assert {order.user_id for order in batch} == {"0", "1", "2"}
    assert {line.item_id for order in batch for line in order.lines} == {"0", "1", "2", "3"}

    again = orders.batch_orders(50, n_items=4, n_users=3, item_price=7, rng=random.Random(1))
    await order_store.transact(lambda repo: repo.put_many(again))
    stored = await order_store.read(lambda repo: [repo.get(str(i)) for i in range(51)])
    assert stored == [*batch, None]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((0, 1, 1, 1), "INVALID_COUNT"),
        ((1, 0, 1, 1), "INVALID_COUNT"),
        ((1, 1, 0, 1), "INVALID_COUNT"),
        ((1, 1, 1, -1), "INVALID_PRICE"),
        ((1, 1, 1, MAX_INT32 // 2 + 1), "COST_OVERFLOW"),
    ],
)
def test_batch_orders_refuses_bad_arguments(args, reason):
    with pytest.raises(ShopError) as info:
        orders.batch_orders(*args)
    assert info.value.reason == reason


def test_batch_orders_accepts_the_largest_price():
    (order,) = orders.batch_orders(1, 1, 1, MAX_INT32 // 2)
    assert order.total_cost == MAX_INT32 - 1
