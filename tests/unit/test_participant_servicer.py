"""ParticipantService's one servicer, on the in-memory stock and payment stores: each
reservation of a batch held or refused on its own (with the status a client switches on), the
whole call refused for too many members or a missing decision, and the injected clock."""

from collections.abc import AsyncIterator

import pytest
from google.rpc import code_pb2, error_details_pb2
from participants import PAYMENT, STOCK, open_seeded

from payment_svc.api import PaymentParticipant
from shop.participant.v1 import participant_pb2 as pb
from shopmesh.errors import ShopError
from shopmesh.participant.reservations import MAX_BATCH
from shopmesh.participant.servicer import ParticipantServicer
from stock_svc.api import StockParticipant
from stock_svc.store import StockStore

NOW = 1_700_000_000.0


@pytest.fixture
async def stock() -> AsyncIterator[StockStore]:
    """Items "a" (10 in stock) and "b" (5), as test_participant_protocol seeds them."""
    store = await open_seeded(STOCK)
    yield store
    await store.close()


def _stock(txn_id: str, **lines: int) -> pb.Reservation:
    hold = pb.StockHold(lines=[pb.StockLine(item_id=i, quantity=q) for i, q in lines.items()])
    return pb.Reservation(transaction_id=txn_id, stock=hold)


def _credit(txn_id: str, amount: int) -> pb.Reservation:
    credit = pb.CreditHold(user_id="u", order_id="o1", amount=amount)
    return pb.Reservation(transaction_id=txn_id, credit=credit)


def _outcome(result: pb.ReserveResult) -> tuple:
    """(state name, "") when held, (code, reason, domain) when refused."""
    if not result.HasField("error"):
        return pb.ReservationState.Name(result.state), ""
    info = error_details_pb2.ErrorInfo()
    assert result.error.details[0].Unpack(info)
    return code_pb2.Code.Name(result.error.code), info.reason, info.domain


async def _stock_units(store: StockStore) -> dict[str, int]:
    return await store.read(lambda repo: {i: repo.get(i).stock for i in ("a", "b")})


async def test_each_reservation_of_a_batch_is_held_or_refused_on_its_own(stock):
    servicer = ParticipantServicer(stock, StockParticipant(), "stock.shopmesh", clock=lambda: NOW)
    request = pb.ReserveRequest(
        reservations=[
            _stock("held", a=2, b=1),
            _stock("too-many", a=100),
            _credit("wrong-kind", 5),
            pb.Reservation(transaction_id="nothing"),
            _stock("held-too", a=1),
        ]
    )

    reply = await servicer.Reserve(request, None)

    assert [r.transaction_id for r in reply.results] == [
        "held",
        "too-many",
        "wrong-kind",
        "nothing",
        "held-too",
    ]
    assert [_outcome(r) for r in reply.results] == [
        ("RESERVATION_STATE_HELD", ""),
        ("FAILED_PRECONDITION", "INSUFFICIENT_STOCK", "stock.shopmesh"),
        ("INVALID_ARGUMENT", "INVALID_HOLD", "stock.shopmesh"),
        ("INVALID_ARGUMENT", "INVALID_HOLD", "stock.shopmesh"),
        ("RESERVATION_STATE_HELD", ""),
    ]
    assert await _stock_units(stock) == {"a": 7, "b": 4}
    # The injected clock, not the wall clock, dates the reservation.
    held = await stock.read(lambda repo: repo.get_reservation("held"))
    assert held.updated_at == NOW


async def test_payment_holds_credit_and_refuses_a_stock_hold():
    store = await open_seeded(PAYMENT)
    try:
        servicer = ParticipantServicer(store, PaymentParticipant(), "payment.shopmesh")
        request = pb.ReserveRequest(reservations=[_credit("t1", 30), _stock("t2", a=1)])
        reply = await servicer.Reserve(request, None)
        assert [_outcome(r) for r in reply.results] == [
            ("RESERVATION_STATE_HELD", ""),
            ("INVALID_ARGUMENT", "INVALID_HOLD", "payment.shopmesh"),
        ]
        assert await store.read(PAYMENT.balance) == PAYMENT.taken
    finally:
        await store.close()


class Broken(StockParticipant):
    """Stock, where holding for transaction "boom" fails with a bug."""

    @staticmethod
    def hold(reservation: pb.Reservation):
        if reservation.transaction_id != "boom":
            return StockParticipant.hold(reservation)

        def fail(repo, now: float):
            StockParticipant.hold(reservation)(repo, now=now)  # takes the stock, then:
            raise RuntimeError("a bug this data provoked")

        return fail


async def test_an_unexpected_failure_of_one_reservation_fails_only_that_one(stock):
    servicer = ParticipantServicer(stock, Broken(), "stock.shopmesh")
    request = pb.ReserveRequest(reservations=[_stock("boom", a=3), _stock("fine", b=2)])

    reply = await servicer.Reserve(request, None)

    assert [_outcome(r) for r in reply.results] == [
        ("ABORTED", "RESERVATION_FAILED", "stock.shopmesh"),
        ("RESERVATION_STATE_HELD", ""),
    ]
    assert "bug" not in reply.results[0].error.message
    assert await _stock_units(stock) == {"a": 10, "b": 3}  # boom's work was undone


async def test_too_many_reservations_are_refused_whole(stock):
    servicer = ParticipantServicer(stock, StockParticipant(), "stock.shopmesh")
    request = pb.ReserveRequest(reservations=[_stock(f"t{i}", a=0) for i in range(MAX_BATCH + 1)])

    with pytest.raises(ShopError) as refused:
        await servicer.Reserve(request, None)

    assert refused.value.reason == "INVALID_COUNT"
    assert await stock.read(lambda repo: repo.get_reservation("t0")) is None


async def test_a_settlement_without_a_decision_refuses_the_call(stock):
    servicer = ParticipantServicer(stock, StockParticipant(), "stock.shopmesh")
    await servicer.Reserve(pb.ReserveRequest(reservations=[_stock("t1", a=1)]), None)
    request = pb.SettleRequest(
        settlements=[
            pb.Settlement(transaction_id="t1", decision=pb.SETTLEMENT_DECISION_COMMIT),
            pb.Settlement(transaction_id="t2"),
        ]
    )

    with pytest.raises(ShopError) as refused:
        await servicer.Settle(request, None)

    assert refused.value.reason == "INVALID_DECISION"
    reservation = await stock.read(lambda repo: repo.get_reservation("t1"))
    assert reservation.state.value == "HELD"


async def test_settle_dates_its_changes_by_the_injected_clock(stock):
    servicer = ParticipantServicer(stock, StockParticipant(), "stock.shopmesh", clock=lambda: NOW)
    await servicer.Reserve(pb.ReserveRequest(reservations=[_stock("t1", a=1)]), None)
    cancel = pb.Settlement(transaction_id="t1", decision=pb.SETTLEMENT_DECISION_CANCEL)

    reply = await servicer.Settle(pb.SettleRequest(settlements=[cancel]), None)

    assert [(r.state, r.refusal_reason) for r in reply.results] == [
        (pb.RESERVATION_STATE_CANCELLED, "")
    ]
    reservation = await stock.read(lambda repo: repo.get_reservation("t1"))
    assert (reservation.state.value, reservation.updated_at) == ("CANCELLED", NOW)
    assert await _stock_units(stock) == {"a": 10, "b": 5}
