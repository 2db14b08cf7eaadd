"""The stock rules against the real SQLite adapter."""

from functools import partial

import pytest

from shopmesh.errors import Kind, ShopError
from shopmesh.validation import MAX_INT32
from stock_svc import inventory
from stock_svc.inventory import Item

# Every rule that takes an item, with arguments that would succeed for item "0".
RULES = {
    inventory.find_item: {},
    inventory.add_stock: {"amount": 1},
    inventory.subtract_stock: {"amount": 1},
}
CHANGES = [inventory.add_stock, inventory.subtract_stock]


def call(rule, **arguments):
    return partial(rule, **{"item_id": "0", **RULES[rule], **arguments})


def items_now(items):
    """What the tests compare before and after a refused change."""
    return [items.get(item_id) for item_id in ("0", "1", "2")]


@pytest.fixture
async def shop(stock_store):
    """Items "0".."2", 10 in stock at price 7 each."""
    await stock_store.transact(lambda items: items.put_many(inventory.batch_items(3, 10, 7)))
    return stock_store


async def test_new_item_has_no_stock_and_a_unique_id(stock_store):
    first, second = inventory.new_item(5), inventory.new_item(0)
    assert (first.stock, first.price, second.price) == (0, 5, 0)
    assert first.item_id != second.item_id
    await stock_store.transact(lambda items: items.put(first))
    assert await stock_store.read(partial(inventory.find_item, item_id=first.item_id)) == first


@pytest.mark.parametrize(
    ("price", "kind"), [(-1, Kind.INVALID_ARGUMENT), (MAX_INT32 + 1, Kind.OUT_OF_RANGE)]
)
def test_new_item_refuses_bad_price(price, kind):
    with pytest.raises(ShopError) as info:
        inventory.new_item(price)
    assert (info.value.reason, info.value.kind) == ("INVALID_PRICE", kind)


async def test_batch_items_are_numbered_from_zero(shop):
    assert await shop.read(items_now) == [Item(str(i), 10, 7) for i in range(3)]
    assert await shop.read(lambda items: items.get("3")) is None


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((0, 1, 1), "INVALID_COUNT"),
        ((MAX_INT32 + 1, 1, 1), "INVALID_COUNT"),
        ((1, -1, 1), "INVALID_AMOUNT"),
        ((1, 1, -1), "INVALID_PRICE"),
        ((1, 1, MAX_INT32 + 1), "INVALID_PRICE"),
    ],
)
def test_batch_items_refuses_bad_arguments(args, reason):
    with pytest.raises(ShopError) as info:
        inventory.batch_items(*args)
    assert info.value.reason == reason


async def test_check_items_refuses_what_would_not_fit_beside_held_units_and_writes_nothing(shop):
    await shop.transact(partial(inventory.reserve_stock, txn_id="t1", lines={"1": 5}, now=0.0))
    before = await shop.read(items_now)
    over = [Item("0", MAX_INT32, 1), Item("1", MAX_INT32 - 4, 1)]
    with pytest.raises(ShopError) as info:
        await shop.transact(partial(inventory.check_items, batch=over))
    assert info.value.reason == "STOCK_OVERFLOW"

    fits = [Item("0", MAX_INT32, 1), Item("1", MAX_INT32 - 5, 1)]
    await shop.transact(partial(inventory.check_items, batch=fits))
    assert await shop.read(items_now) == before


async def test_add_stock_raises_stock_up_to_the_32_bit_limit(shop):
    item = await shop.transact(call(inventory.add_stock, amount=5))
    assert item.stock == 15
    await shop.transact(call(inventory.add_stock, item_id="1", amount=MAX_INT32 - 10))
    assert await shop.read(items_now) == [
        Item("0", 15, 7),
        Item("1", MAX_INT32, 7),
        Item("2", 10, 7),
    ]


async def test_add_stock_past_the_32_bit_limit_is_refused(shop, refused):
    await shop.transact(call(inventory.add_stock, amount=MAX_INT32 - 10))
    work = call(inventory.add_stock, amount=1)
    await refused(shop, work, "STOCK_OVERFLOW", snapshot=items_now, kind=Kind.OUT_OF_RANGE)


async def test_subtract_stock_down_to_zero(shop):
    item = await shop.transact(call(inventory.subtract_stock, amount=4))
    assert item.stock == 6
    await shop.transact(call(inventory.subtract_stock, item_id="1", amount=10))
    assert await shop.read(items_now) == [Item("0", 6, 7), Item("1", 0, 7), Item("2", 10, 7)]


async def test_subtract_more_than_in_stock_is_refused(shop, refused):
    work = call(inventory.subtract_stock, amount=11)
    error = await refused(shop, work, "INSUFFICIENT_STOCK", snapshot=items_now)
    assert error.kind is Kind.FAILED_PRECONDITION
    assert error.metadata == {"item_id": "0", "stock": "10", "requested": "11"}


@pytest.mark.parametrize("change", CHANGES)
async def test_bad_amount_is_refused(shop, refused, change, bad_number):
    amount, kind = bad_number
    work = call(change, amount=amount)
    await refused(shop, work, "INVALID_AMOUNT", snapshot=items_now, kind=kind)


@pytest.mark.parametrize("rule", RULES)
async def test_unknown_item_is_refused(shop, refused, rule):
    work = call(rule, item_id="3")
    await refused(shop, work, "ITEM_NOT_FOUND", snapshot=items_now, kind=Kind.NOT_FOUND)


@pytest.mark.parametrize("rule", RULES)
async def test_bad_item_id_is_refused(shop, refused, rule, bad_id):
    work = call(rule, item_id=bad_id)
    await refused(shop, work, "INVALID_ID", snapshot=items_now, kind=Kind.INVALID_ARGUMENT)


async def test_longest_printable_id_is_accepted(stock_store):
    item_id = "é" * 128
    await stock_store.transact(lambda items: items.put(Item(item_id, 0, 1)))
    item = await stock_store.transact(partial(inventory.add_stock, item_id=item_id, amount=3))
    assert item == Item(item_id, 3, 1)
