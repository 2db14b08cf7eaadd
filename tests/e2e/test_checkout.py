"""Checkout through the REST gateway: all or nothing, idempotent, and it locks the paid order."""

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import grpc
import httpx
import pytest
from google.cloud.spanner_v1 import param_types
from google.rpc import error_details_pb2
from spanner_support import SpannerEmulator

from shop.participant.v1 import participant_pb2 as participant
from shop.participant.v1 import participant_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc
from shopmesh.store.spanner import client_for
from shoptools.devstack import Stack

from .checkout_helpers import (
    Shop,
    checkout_until_answered,
    client,
    ok,
    outcome,
    refused,
    send_all,
)
from .grpc_helpers import refusal
from .kafka_helpers import query

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(rest: httpx.Client) -> Shop:
    return Shop(rest)


@dataclass
class World:
    a: str  # price 3
    b: str  # price 5
    user: str
    order: str


def make_world(shop: Shop, stock_a=10, stock_b=10, credit=100) -> World:
    """Two items, a user, and an order with item a on two lines: a x2, b x1, a x3 (total 20)."""
    a, b = shop.item(price=3, stock=stock_a), shop.item(price=5, stock=stock_b)
    user = shop.user(credit)
    order = shop.order(user, [(a, 2), (b, 1), (a, 3)])
    return World(a, b, user, order)


def snapshot(shop: Shop, w: World) -> dict:
    """Everything a checkout could change, as a user sees it."""
    status = ok(shop.http.get(f"/payment/status/{w.user}/{w.order}"))["paid"]
    return {
        "stock": (shop.stock(w.a), shop.stock(w.b)),
        "credit": shop.credit(w.user),
        "order": shop.find(w.order),
        "payment status": status,
    }


def test_checkout_takes_stock_per_item_and_credit_and_pays_the_order(shop: Shop):
    w = make_world(shop)
    assert shop.find(w.order)["total_cost"] == 20
    ok(shop.checkout(w.order))
    assert shop.find(w.order)["paid"] is True
    assert (shop.stock(w.a), shop.stock(w.b)) == (10 - 5, 10 - 1)
    assert shop.credit(w.user) == 100 - 20
    assert ok(shop.http.get(f"/payment/status/{w.user}/{w.order}")) == {"paid": True}


def test_checking_out_again_answers_200_and_changes_nothing(shop: Shop):
    w = make_world(shop)
    ok(shop.checkout(w.order))
    after_first = snapshot(shop, w)
    for _ in range(3):
        ok(shop.checkout(w.order))
    assert snapshot(shop, w) == after_first


def test_an_empty_order_checks_out_with_total_0(shop: Shop):
    user = shop.user(credit=7)
    order = shop.order(user)
    ok(shop.checkout(order))
    assert shop.find(order) == {
        "order_id": order,
        "paid": True,
        "items": [],
        "user_id": user,
        "total_cost": 0,
    }
    assert shop.credit(user) == 7


def test_insufficient_stock_names_the_item_and_changes_nothing(shop: Shop):
    w = make_world(shop, stock_b=0)
    before = snapshot(shop, w)
    metadata = refused(shop.checkout(w.order), "INSUFFICIENT_STOCK", 400)
    assert metadata["item_id"] == w.b
    assert snapshot(shop, w) == before
    # Nothing stays locked: with stock back, the same order checks out.
    ok(shop.http.post(f"/stock/add/{w.b}/1"))
    ok(shop.checkout(w.order))
    assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 0, 80)


def test_sum_of_two_lines_of_one_item_counts_against_its_stock(shop: Shop):
    w = make_world(shop, stock_a=4)  # a x2 and a x3: 5 units wanted, each line alone would fit
    before = snapshot(shop, w)
    assert refused(shop.checkout(w.order), "INSUFFICIENT_STOCK", 400)["item_id"] == w.a
    assert snapshot(shop, w) == before


def test_insufficient_credit_changes_nothing(shop: Shop):
    w = make_world(shop, credit=19)
    before = snapshot(shop, w)
    refused(shop.checkout(w.order), "INSUFFICIENT_CREDIT", 400)
    assert snapshot(shop, w) == before
    ok(shop.http.post(f"/payment/add_funds/{w.user}/1"))
    ok(shop.checkout(w.order))
    assert shop.credit(w.user) == 0


def test_unknown_order_is_404(shop: Shop):
    refused(shop.checkout("no-such-order"), "ORDER_NOT_FOUND", 404)


@pytest.mark.parametrize(
    "method, template",
    [
        ("POST", "/orders/addItem/{order}/{a}/1"),
        ("POST", "/orders/addItem/{order}/{b}"),
        ("DELETE", "/orders/removeItem/{order}/{a}"),
        ("DELETE", "/orders/remove/{order}"),
    ],
)
def test_a_paid_order_cannot_change(shop: Shop, method: str, template: str):
    w = make_world(shop)
    ok(shop.checkout(w.order))
    before = snapshot(shop, w)
    path = template.format(order=w.order, a=w.a, b=w.b)
    refused(shop.http.request(method, path), "ORDER_ALREADY_PAID")
    assert snapshot(shop, w) == before


def test_a_checkout_payment_cannot_be_cancelled_as_a_direct_payment(shop: Shop):
    w = make_world(shop)
    ok(shop.checkout(w.order))
    before = snapshot(shop, w)
    refused(shop.http.post(f"/payment/cancel/{w.user}/{w.order}"), "PAYMENT_OWNED_BY_CHECKOUT")
    assert snapshot(shop, w) == before


def test_concurrent_checkouts_of_one_order_charge_it_once(stack: Stack, shop: Shop):
    w = make_world(shop)
    requests = [("POST", f"/orders/checkout/{w.order}")] * 20
    answers = asyncio.run(send_all(stack.config.rest_url, requests, in_flight=20))
    assert Counter(map(outcome, answers)) == {"200": 20}
    assert shop.find(w.order)["paid"] is True
    assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 9, 80)


def test_checkout_while_payment_is_down_is_409_and_can_be_retried(own_stack: Stack):
    with client(own_stack) as http:
        shop = Shop(http)
        w = make_world(shop)
        own_stack.kill("payment")
        refused(shop.checkout(w.order), "DEPENDENCY_UNAVAILABLE", 409)
        assert shop.find(w.order)["paid"] is False
        assert (shop.stock(w.a), shop.stock(w.b)) == (10, 10)

        own_stack.start_service("payment")
        own_stack.wait_serving("payment")
        assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (10, 10, 100)
        ok(checkout_until_answered(shop, w.order))
        assert shop.find(w.order)["paid"] is True
        assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 9, 80)


def test_checkout_works_as_soon_as_a_participant_is_back(own_stack: Stack):
    """A participant down for a while, then SERVING again: the next checkout goes through.
    It must not keep answering "payment did not answer" while payment is up, as it did while
    the order service's gRPC channel sat out gRPC's default reconnect backoff (1 s, growing
    x1.6 per failed attempt up to 120 s: after a 10 s outage the next attempt was 4-6 s away)."""
    with client(own_stack) as http:
        shop = Shop(http)
        w = make_world(shop)
        own_stack.kill("payment")
        refused(shop.checkout(w.order), "DEPENDENCY_UNAVAILABLE", 409)
        time.sleep(10)  # an outage of ten seconds
        own_stack.start_service("payment")
        own_stack.wait_serving("payment")
        ok(shop.checkout(w.order))
        assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 9, 80)


# --- phase two after the answer: the decision reaches the participants in batches -----------


def reservation_state(stack: Stack, service: str, txn_id: str) -> str | None:
    """The participant's record of the transaction, read from its store (None: none)."""
    env = stack.config.env
    if env.get("SHOP_STORE") != "spanner":
        rows = query(stack, service, "SELECT state FROM reservations WHERE txn_id = ?", (txn_id,))
    else:
        emulator = SpannerEmulator(
            env["SPANNER_EMULATOR_HOST"], env["SPANNER_PROJECT"], env["SPANNER_INSTANCE"]
        )
        settings = emulator.settings(service, env["SPANNER_DATABASE_PREFIX"])
        database = client_for(settings).instance(settings.instance).database(settings.database)
        with database.snapshot() as snapshot:
            rows = list(
                snapshot.execute_sql(
                    "SELECT State FROM Reservations WHERE TxnId = @txn_id",
                    params={"txn_id": txn_id},
                    param_types={"txn_id": param_types.STRING},
                )
            )
    return rows[0][0] if rows else None


def test_right_after_checkout_the_order_is_paid_everywhere_and_then_committed(
    stack: Stack, shop: Shop
):
    w = make_world(shop)
    txn_id = ok(shop.checkout(w.order))["transaction_id"]

    # At once, whether or not the commit has reached payment yet: the checkout owns the
    # payment, the order reads as paid, and the stock and credit are gone.
    refused(shop.http.post(f"/payment/cancel/{w.user}/{w.order}"), "PAYMENT_OWNED_BY_CHECKOUT")
    assert ok(shop.http.get(f"/payment/status/{w.user}/{w.order}")) == {"paid": True}
    assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 9, 80)
    assert shop.find(w.order)["paid"] is True

    deadline = time.monotonic() + 10
    states: dict[str, str | None] = {}
    while time.monotonic() < deadline:
        states = {s: reservation_state(stack, s, txn_id) for s in ("stock", "payment")}
        if states == {"stock": "COMMITTED", "payment": "COMMITTED"}:
            break
        time.sleep(0.2)
    assert states == {"stock": "COMMITTED", "payment": "COMMITTED"}
    assert (shop.stock(w.a), shop.stock(w.b), shop.credit(w.user)) == (5, 9, 80)
    refused(shop.http.post(f"/payment/cancel/{w.user}/{w.order}"), "PAYMENT_OWNED_BY_CHECKOUT")


def _settle(stub, *settlements: tuple[str, int]) -> list[tuple[str, int, str]]:
    request = participant.SettleRequest(
        settlements=[participant.Settlement(transaction_id=t, decision=d) for t, d in settlements]
    )
    reply = stub.Settle(request, timeout=30)
    return [(r.transaction_id, r.state, r.refusal_reason) for r in reply.results]


def _stock_reservation(txn_id: str, item: str, quantity: int) -> participant.ReserveRequest:
    line = participant.StockLine(item_id=item, quantity=quantity)
    hold = participant.Reservation(transaction_id=txn_id, stock=participant.StockHold(lines=[line]))
    return participant.ReserveRequest(reservations=[hold])


def _reserve_refusal(stub, request) -> tuple[grpc.StatusCode, str, str]:
    """A reservation that must be refused: its result's status code, ErrorInfo reason and
    domain's service, as `refusal` reads them from a failed call."""
    [result] = stub.Reserve(request, timeout=30).results
    assert result.HasField("error"), result
    code = next(c for c in grpc.StatusCode if c.value[0] == result.error.code)
    for detail in result.error.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return code, info.reason, info.domain.partition(".")[0]
    raise AssertionError(f"no ErrorInfo in {result.error}")


def test_settle_reservations_over_grpc(stack: Stack):
    COMMIT, CANCEL = participant.SETTLEMENT_DECISION_COMMIT, participant.SETTLEMENT_DECISION_CANCEL
    COMMITTED = participant.RESERVATION_STATE_COMMITTED
    CANCELLED = participant.RESERVATION_STATE_CANCELLED
    NONE = participant.RESERVATION_STATE_UNSPECIFIED
    INVALID = grpc.StatusCode.INVALID_ARGUMENT
    t = {name: f"{name}-{uuid.uuid4()}" for name in ("commit", "cancel", "unknown", "late", "x")}

    with grpc.insecure_channel(stack.config.service_addrs["stock"]) as channel:
        stock = stock_pb2_grpc.StockServiceStub(channel)
        checkout = participant_pb2_grpc.ParticipantServiceStub(channel)
        item = stock.CreateItem(stock_pb2.CreateItemRequest(price=5), timeout=30).item_id
        stock.AddStock(stock_pb2.AddStockRequest(item_id=item, amount=10), timeout=30)

        def reserve(txn_id: str, quantity: int) -> None:
            reply = checkout.Reserve(_stock_reservation(txn_id, item, quantity), timeout=30)
            assert not reply.results[0].HasField("error"), reply

        def units() -> int:
            return stock.FindItem(stock_pb2.FindItemRequest(item_id=item), timeout=30).stock

        reserve(t["commit"], 2)
        reserve(t["cancel"], 3)
        assert units() == 5

        # Each settlement applies or is refused on its own, in the order of the request.
        assert _settle(
            checkout,
            (t["commit"], COMMIT),
            (t["cancel"], CANCEL),
            (t["unknown"], COMMIT),
            (t["late"], CANCEL),
            (t["commit"], CANCEL),
        ) == [
            (t["commit"], COMMITTED, ""),
            (t["cancel"], CANCELLED, ""),
            (t["unknown"], NONE, "RESERVATION_NOT_FOUND"),
            (t["late"], CANCELLED, ""),
            (t["commit"], NONE, "TRANSACTION_COMMITTED"),
        ]
        assert units() == 8
        # The cancel of a reservation not seen yet left a tombstone: its reserve is refused.
        late = _stock_reservation(t["late"], item, 1)
        assert _reserve_refusal(checkout, late) == (
            grpc.StatusCode.ABORTED,
            "TRANSACTION_CANCELLED",
            "stock",
        )
        assert units() == 8

        # One settlement without a decision refuses the whole call: x stays HELD.
        reserve(t["x"], 1)
        undecided = participant.SettleRequest(
            settlements=[
                participant.Settlement(transaction_id=t["x"], decision=COMMIT),
                participant.Settlement(transaction_id=t["unknown"]),
            ]
        )
        assert refusal(checkout.Settle, undecided) == (
            INVALID,
            "INVALID_DECISION",
            "stock",
        )
        assert _settle(checkout, (t["x"], CANCEL)) == [(t["x"], CANCELLED, "")]
        assert units() == 8

        # More than 1000 settlements: refused whole, no tombstone left behind.
        fresh = [f"fresh-{i}-{uuid.uuid4()}" for i in range(1001)]
        too_many = participant.SettleRequest(
            settlements=[participant.Settlement(transaction_id=f, decision=CANCEL) for f in fresh]
        )
        assert refusal(checkout.Settle, too_many) == (INVALID, "INVALID_COUNT", "stock")
        reserve(fresh[0], 1)
        assert units() == 7
        assert _settle(checkout, (fresh[0], CANCEL)) == [(fresh[0], CANCELLED, "")]
        assert units() == 8
