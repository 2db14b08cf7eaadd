"""Calling the services over gRPC in the e2e tests."""

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def refusal(method, request) -> tuple[grpc.StatusCode, str, str]:
    """Call a stub method that must fail: its status code, ErrorInfo reason and domain's
    service (the part before ".shopmesh")."""
    with pytest.raises(grpc.RpcError) as refused:
        method(request, timeout=10)
    status = rpc_status.from_call(refused.value)
    assert status is not None, refused.value
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            service, _, suffix = info.domain.partition(".")
            assert suffix == "shopmesh", info
            return refused.value.code(), info.reason, service
    raise AssertionError(f"no ErrorInfo in {status}")
