"""The order service's use cases that need more than one store transaction: a peer's answer
between a read and a write. The API calls these and only translates; the rules stay in
`order_svc.orders`, the checkout in `order_svc.coordinator`."""

from functools import partial

from order_svc import orders
from order_svc.orders import Line, Order
from order_svc.peers import Peers
from order_svc.store import OrderStore


async def create_order(store: OrderStore, peers: Peers, user_id: str) -> Order:
    """A new, empty order of a user payment knows (USER_NOT_FOUND otherwise)."""
    order = orders.new_order(user_id)
    await peers.require_user(order.user_id)
    return await store.transact(partial(orders.create_order, order=order))


async def add_item(
    store: OrderStore, peers: Peers, order_id: str, item_id: str, quantity: int
) -> Order:
    """A line of `quantity` units of the item at its current price (asked of stock)."""
    orders.check_new_line(item_id, quantity)
    # Fail fast, before asking stock, when the order cannot take a line anyway.
    await store.read(partial(orders.find_unpaid, order_id=order_id))
    price = await peers.item_price(item_id)
    line = Line(item_id, quantity, price)
    return await store.transact(partial(orders.add_item, order_id=order_id, line=line))
