"""Business errors <-> gRPC status with google.rpc.ErrorInfo, in both directions.

Servers install `ErrorTranslator`, so handlers simply raise `ShopError`. Clients call through
`translate_rpc_error`, so an upstream refusal re-surfaces with its original reason.
"""

import logging
import traceback

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from shopmesh import errors
from shopmesh.errors import Kind, ShopError

log = logging.getLogger(__name__)

_CODES = {
    Kind.INVALID_ARGUMENT: code_pb2.INVALID_ARGUMENT,
    Kind.OUT_OF_RANGE: code_pb2.OUT_OF_RANGE,
    Kind.NOT_FOUND: code_pb2.NOT_FOUND,
    Kind.FAILED_PRECONDITION: code_pb2.FAILED_PRECONDITION,
    Kind.ALREADY_EXISTS: code_pb2.ALREADY_EXISTS,
    Kind.ABORTED: code_pb2.ABORTED,
}
_CLASSES = {
    Kind.INVALID_ARGUMENT: errors.InvalidArgument,
    Kind.OUT_OF_RANGE: errors.OutOfRange,
    Kind.NOT_FOUND: errors.NotFound,
    Kind.FAILED_PRECONDITION: errors.FailedPrecondition,
    Kind.ALREADY_EXISTS: errors.AlreadyExists,
    Kind.ABORTED: errors.Aborted,
}
# By google.rpc.Code number, and by grpc.StatusCode (whose value is (number, name)).
_ERRORS_BY_KIND_CODE = {_CODES[kind]: error_class for kind, error_class in _CLASSES.items()}
_ERRORS_BY_CODE = {
    status: _ERRORS_BY_KIND_CODE[status.value[0]]
    for status in grpc.StatusCode
    if status.value[0] in _ERRORS_BY_KIND_CODE
}
# The call may not have reached the peer, or its answer was lost: the caller cannot know
# whether anything happened there, but it knows it did not finish its own work.
UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def status_message(error: ShopError, domain: str) -> status_pb2.Status:
    """The google.rpc.Status of a refusal, with its ErrorInfo."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    return status_pb2.Status(code=_CODES[error.kind], message=error.message, details=[detail])


def to_status(error: ShopError, domain: str) -> grpc.Status:
    return rpc_status.to_status(status_message(error, domain))


def error_from_status(status: status_pb2.Status) -> ShopError:
    """A refusal carried as data (e.g. one result of a batch call) as our business error."""
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            error_class = _ERRORS_BY_KIND_CODE.get(status.code, errors.FailedPrecondition)
            return error_class(info.reason, status.message or info.reason, **dict(info.metadata))
    raise ValueError(f"a refusal without ErrorInfo: {status}")


def error_info(rpc_error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo a peer attached to its error, if any."""
    status = rpc_status.from_call(rpc_error)
    for detail in status.details if status else []:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def translate_rpc_error(rpc_error: grpc.aio.AioRpcError, peer: str) -> ShopError:
    """Re-raise a peer's refusal as our own business error, keeping its reason."""
    code = rpc_error.code()
    if code in UNREACHABLE:
        return errors.Aborted(
            "DEPENDENCY_UNAVAILABLE",
            f"{peer} did not answer ({code.name}); nothing was changed, try again",
            service=peer,
        )
    info = error_info(rpc_error)
    error_class = _ERRORS_BY_CODE.get(code)
    if error_class is None or info is None:
        raise rpc_error
    return error_class(info.reason, rpc_error.details() or info.reason, **dict(info.metadata))


class Undecodable:
    """A request whose bytes do not parse as its message (hand-made calls only: gRPC clients
    and the gateway send well-formed ones)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


class TolerantDeserializer:
    """Parses requests like the generated deserializer, but bytes that do not parse become an
    `Undecodable` instead of an exception (which grpc answers with UNKNOWN, as if the server
    had failed): the handler refuses them with INVALID_ARGUMENT instead."""

    def __init__(self, deserialize) -> None:
        self._deserialize = deserialize
        # The message class, where the generated deserializer is its bound FromString.
        self.__self__ = getattr(deserialize, "__self__", None)

    def __call__(self, data: bytes):
        try:
            return self._deserialize(data)
        except Exception as error:  # noqa: BLE001 - any parse failure is the caller's
            return Undecodable(str(error) or type(error).__name__)


def _from_generated_base(error: NotImplementedError) -> bool:
    """Raised by the generated servicer base (a `*_pb2_grpc` module) for a method no servicer
    defines, rather than by our code or a library's: only that one means "no such method"."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.endswith("_pb2_grpc.py")


class ErrorTranslator(grpc.aio.ServerInterceptor):
    """Turns a ShopError raised by any unary handler into a rich gRPC status, and a request
    that does not parse into INVALID_ARGUMENT (INVALID_REQUEST)."""

    def __init__(self, domain: str) -> None:
        self._domain = domain

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        domain = self._domain

        async def behaviour(request, context: grpc.aio.ServicerContext):
            try:
                if isinstance(request, Undecodable):
                    raise errors.InvalidArgument(
                        "INVALID_REQUEST", f"the request does not parse: {request.problem}"
                    )
                return await inner(request, context)
            except ShopError as error:
                log.debug("%s refused: %r", handler_call_details.method, error)
                await context.abort_with_status(to_status(error, domain))
            except Exception as error:
                method = handler_call_details.method
                if isinstance(error, NotImplementedError) and _from_generated_base(error):
                    # A method of the proto no servicer implements (the deprecated reservation
                    # RPCs): the caller's to know, not a bug of ours.
                    await context.abort(
                        grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented"
                    )
                # A bug: the details go to the log, never to the client.
                log.exception("%s failed", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the logs")

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=TolerantDeserializer(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
