"""A batch_init refused with 400 STOCK_OVERFLOW / CREDIT_OVERFLOW changes nothing
(docs/checkout.md: "`batch_init` over held rows refuses with 400 `STOCK_OVERFLOW`/
`CREDIT_OVERFLOW`, changing nothing").

On Spanner a bulk load commits in chunks of 1,000 rows, each in a transaction of its own, so
the refusal must be decided before the first chunk is written. The row that cannot take the
new balance sits in the second chunk here. A private stack on the Spanner emulator (skipped
where the emulator is absent); SQLite loads in one transaction and cannot show this."""

import uuid
from collections.abc import Callable, Iterator

import grpc
import httpx
import pytest

from shop.participant.v1 import participant_pb2 as participant
from shop.participant.v1 import participant_pb2_grpc
from shoptools.devstack import Stack

from .helpers import MAX_INT32, Shop, assert_refused, ok

pytestmark = pytest.mark.e2e

N = 1500  # two chunks of Spanner's bulk load (1,000 rows each)
HELD_ID = "1200"  # in the second chunk


@pytest.fixture
def spanner_stack(make_stack: Callable[..., Stack], spanner_emulator) -> Stack:
    # Holds made below must outlive the test: no stale-reservation sweep in the meantime.
    return make_stack({**spanner_emulator.env(), "RESERVATION_TIMEOUT_S": "600"})


@pytest.fixture
def spanner_shop(spanner_stack: Stack) -> Iterator[Shop]:
    with httpx.Client(base_url=spanner_stack.config.rest_url, timeout=120) as client:
        yield Shop(client)


def _reserve(stack: Stack, service: str, reservation: participant.Reservation) -> None:
    """What a checkout under way does at a participant: hold units or credit."""
    with grpc.insecure_channel(stack.config.service_addrs[service]) as channel:
        stub = participant_pb2_grpc.ParticipantServiceStub(channel)
        reply = stub.Reserve(participant.ReserveRequest(reservations=[reservation]), timeout=30)
        assert not reply.results[0].HasField("error"), reply


def test_refused_stock_batch_init_changes_no_item(spanner_stack, spanner_shop):
    shop = spanner_shop
    ok(shop.http.post(f"/stock/batch_init/{N}/10/1"))
    line = participant.StockLine(item_id=HELD_ID, quantity=5)
    _reserve(
        spanner_stack,
        "stock",
        participant.Reservation(
            transaction_id=str(uuid.uuid4()), stock=participant.StockHold(lines=[line])
        ),
    )

    response = shop.http.post(f"/stock/batch_init/{N}/{MAX_INT32}/1")

    assert_refused(response, 400, "STOCK_OVERFLOW")
    # Refused: every item is as it was, the first chunk's too.
    assert shop.item("0") == {"stock": 10, "price": 1}
    assert shop.item("999") == {"stock": 10, "price": 1}
    assert shop.item(HELD_ID) == {"stock": 5, "price": 1}


def test_refused_payment_batch_init_changes_no_user(spanner_stack, spanner_shop):
    shop = spanner_shop
    ok(shop.http.post(f"/payment/batch_init/{N}/10"))
    hold = participant.CreditHold(user_id=HELD_ID, order_id=str(uuid.uuid4()), amount=5)
    _reserve(
        spanner_stack,
        "payment",
        participant.Reservation(transaction_id=str(uuid.uuid4()), credit=hold),
    )

    response = shop.http.post(f"/payment/batch_init/{N}/{MAX_INT32}")

    assert_refused(response, 400, "CREDIT_OVERFLOW")
    # Refused: every user is as it was, the first chunk's too.
    assert shop.credit("0") == 10
    assert shop.credit("999") == 10
    assert shop.credit(HELD_ID) == 5
