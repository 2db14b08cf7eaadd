"""Checkout's edges, as a REST client meets them: refusals that have released everything by the
time they are answered, balances that never leave the API's 32-bit range, and one bad order that
cannot fail anyone else's checkout. One private SQLite stack for the module."""

import asyncio
import uuid
from collections.abc import Iterator

import grpc
import httpx
import pytest

from shop.participant.v1 import participant_pb2 as participant
from shop.participant.v1 import participant_pb2_grpc
from shoptools.devstack import Stack, StackConfig

from .checkout_helpers import Shop, ok, outcome, refused, send_all

pytestmark = pytest.mark.e2e
MAX_INT32 = 2**31 - 1


@pytest.fixture(scope="module")
def edge_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(StackConfig.ephemeral(tmp_path_factory.mktemp("edge")))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def shop(edge_stack: Stack) -> Iterator[Shop]:
    with httpx.Client(base_url=edge_stack.config.rest_url, timeout=30) as http:
        yield Shop(http)


async def _checkout_then_read_stock(http: httpx.AsyncClient, order: str, item: str) -> tuple:
    answer = await http.post(f"/orders/checkout/{order}")
    stock = (await http.get(f"/stock/find/{item}")).json()["stock"]
    return outcome(answer), stock


async def _duplicate_checkouts(url: str, pairs: list[tuple[str, str]]) -> list[tuple]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        seen = []
        for order, item in pairs:
            pair = (_checkout_then_read_stock(http, order, item) for _ in range(2))
            seen.extend(await asyncio.gather(*pair))
        return seen


def test_every_refusal_of_a_duplicate_checkout_comes_after_the_release(shop, edge_stack):
    """Two checkouts at once of an order its user cannot pay: whichever answers, a read
    right after its refusal sees all the stock back."""
    pairs = []
    for _ in range(30):
        item = shop.item(price=10, stock=60)
        pairs.append((shop.order(shop.user(credit=0), [(item, 6)]), item))

    seen = asyncio.run(_duplicate_checkouts(edge_stack.config.rest_url, pairs))

    assert {answer for answer, _ in seen} == {"4xx:INSUFFICIENT_CREDIT"}, seen
    assert [stock for _, stock in seen] == [60] * len(seen)


def _hold_stock(stack: Stack, txn_id: str, item: str, quantity: int) -> None:
    """What a checkout under way does at stock: hold units for its transaction."""
    with grpc.insecure_channel(stack.config.service_addrs["stock"]) as channel:
        stub = participant_pb2_grpc.ParticipantServiceStub(channel)
        line = participant.StockLine(item_id=item, quantity=quantity)
        hold = participant.Reservation(
            transaction_id=txn_id, stock=participant.StockHold(lines=[line])
        )
        reply = stub.Reserve(participant.ReserveRequest(reservations=[hold]), timeout=5)
        assert not reply.results[0].HasField("error"), reply


def _cancel_stock(stack: Stack, txn_id: str) -> None:
    with grpc.insecure_channel(stack.config.service_addrs["stock"]) as channel:
        stub = participant_pb2_grpc.ParticipantServiceStub(channel)
        cancel = participant.Settlement(
            transaction_id=txn_id, decision=participant.SETTLEMENT_DECISION_CANCEL
        )
        stub.Settle(participant.SettleRequest(settlements=[cancel]), timeout=5)


def test_stock_added_beside_held_units_stays_within_32_bits(shop, edge_stack):
    item = shop.item(price=1, stock=5)
    txn_id = str(uuid.uuid4())
    _hold_stock(edge_stack, txn_id, item, 5)

    refused(shop.http.post(f"/stock/add/{item}/{MAX_INT32}"), "STOCK_OVERFLOW", 400)
    ok(shop.http.post(f"/stock/add/{item}/{MAX_INT32 - 5}"))
    _cancel_stock(edge_stack, txn_id)

    assert shop.stock(item) == MAX_INT32
    refused(shop.http.post(f"/stock/add/{item}/1"), "STOCK_OVERFLOW", 400)
    assert ok(shop.http.post(f"/stock/subtract/{item}/1"))["stock"] == MAX_INT32 - 1


async def _race_add_with_refused_checkout(url: str, rounds: list[tuple[str, str, str]]) -> list:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        answers = []
        for order, item, user in rounds:
            answers += await asyncio.gather(
                http.post(f"/orders/checkout/{order}"),
                http.post(f"/stock/add/{item}/{MAX_INT32}"),
                http.post(f"/payment/add_funds/{user}/{MAX_INT32}"),
            )
        return answers


def test_adds_racing_a_refused_checkout_never_leave_a_balance_the_api_cannot_return(
    shop, edge_stack
):
    """The issue's sequence: stock 5, a checkout of all 5 that fails on credit, raced with
    adding 2^31-1 units; and credit 5, a checkout of 5 that fails on stock, raced with adding
    2^31-1 credit."""
    rounds = []
    for _ in range(15):
        item, user = shop.item(price=1, stock=5), shop.user(credit=0)
        rounds.append((shop.order(user, [(item, 5)]), item, shop.user()))
        item, user = shop.item(price=1, stock=4), shop.user(credit=5)
        rounds.append((shop.order(user, [(item, 5)]), shop.item(price=1), user))

    answers = asyncio.run(_race_add_with_refused_checkout(edge_stack.config.rest_url, rounds))

    assert all(a.status_code < 500 for a in answers), [outcome(a) for a in answers]
    for _, item, user in rounds:
        assert 0 <= shop.stock(item) <= MAX_INT32
        assert 0 <= shop.credit(user) <= MAX_INT32


def test_an_order_line_total_past_32_bits_is_refused_where_it_is_added(shop):
    free = shop.item(price=0, stock=10)
    user = shop.user()
    order = shop.order(user, [(free, MAX_INT32)])
    refused(shop.http.post(f"/orders/addItem/{order}/{free}/1"), "QUANTITY_OVERFLOW", 400)
    other = shop.item(price=0)
    refused(shop.http.post(f"/orders/addItem/{order}/{other}/1"), "QUANTITY_OVERFLOW", 400)
    assert shop.find(order)["items"] == [[free, MAX_INT32]]


def test_bad_orders_interleaved_with_good_checkouts_fail_no_one_else(shop, edge_stack):
    """Orders as big as they may be (and attempts at bigger ones) checked out at the same
    time as 96 ordinary ones: every ordinary checkout is paid, every big one refused with its
    own reason, and no answer names an internal error."""
    item, free = shop.item(price=1, stock=96), shop.item(price=0, stock=1)
    good = [shop.order(shop.user(credit=1), [(item, 1)]) for _ in range(96)]
    bad = []
    for _ in range(24):
        order = shop.order(shop.user(), [(free, MAX_INT32)])
        refused(shop.http.post(f"/orders/addItem/{order}/{free}/{MAX_INT32}"), "QUANTITY_OVERFLOW")
        bad.append(order)
    paths = [f"/orders/checkout/{o}" for pair in zip(good[::4], bad, strict=True) for o in pair]
    paths += [f"/orders/checkout/{o}" for i, o in enumerate(good) if i % 4]

    answers = asyncio.run(send_all(edge_stack.config.rest_url, [("POST", p) for p in paths], 48))

    by_order = {path.rsplit("/", 1)[1]: outcome(a) for path, a in zip(paths, answers, strict=True)}
    assert [by_order[o] for o in good] == ["200"] * 96
    assert {by_order[o] for o in bad} == {"4xx:INSUFFICIENT_STOCK"}
    assert not any("Value out of range" in a.text for a in answers)
    assert shop.stock(item) == 0 and shop.stock(free) == 1
