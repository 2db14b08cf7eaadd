"""The deprecated reservation RPCs, called directly on a service (README "gRPC": every service
is reachable with grpcurl or the generated stubs), answer UNIMPLEMENTED as their protos say ("No
longer implemented: the server answers UNIMPLEMENTED"): a clear refusal, not INTERNAL ("internal
error; see the logs", which reads as a server fault). No servicer defines them, so the generated
base raises NotImplementedError, which ErrorTranslator (shopmesh/rpc/status.py) answers so."""

import grpc
import pytest

from shop.payment.v1 import payment_pb2, payment_pb2_grpc
from shop.stock.v1 import stock_pb2, stock_pb2_grpc

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["sqlite"], indirect=True)]

STOCK_CALLS = [
    ("ReserveStock", stock_pb2.ReserveStockRequest(transaction_id="t")),
    ("BatchReserveStock", stock_pb2.BatchReserveStockRequest()),
    ("CommitReservation", stock_pb2.CommitReservationRequest(transaction_id="t")),
    ("CancelReservation", stock_pb2.CancelReservationRequest(transaction_id="t")),
    ("SettleReservations", stock_pb2.SettleReservationsRequest()),
]
PAYMENT_CALLS = [
    ("ReserveCredit", payment_pb2.ReserveCreditRequest(transaction_id="t")),
    ("BatchReserveCredit", payment_pb2.BatchReserveCreditRequest()),
    ("CommitReservation", payment_pb2.CommitReservationRequest(transaction_id="t")),
    ("CancelReservation", payment_pb2.CancelReservationRequest(transaction_id="t")),
    ("SettleReservations", payment_pb2.SettleReservationsRequest()),
]


def _code(stub, name, request) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as refused:
        getattr(stub, name)(request, timeout=10)
    assert refused.value.details().endswith(f"/{name} is not implemented")
    return refused.value.code()


@pytest.mark.parametrize("name, request_message", STOCK_CALLS)
def test_deprecated_stock_rpc_answers_unimplemented(stack, name, request_message):
    with grpc.insecure_channel(stack.config.service_addrs["stock"]) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        assert _code(stub, name, request_message) == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("name, request_message", PAYMENT_CALLS)
def test_deprecated_payment_rpc_answers_unimplemented(stack, name, request_message):
    with grpc.insecure_channel(stack.config.service_addrs["payment"]) as channel:
        stub = payment_pb2_grpc.PaymentServiceStub(channel)
        assert _code(stub, name, request_message) == grpc.StatusCode.UNIMPLEMENTED
