"""The server interceptor that makes every unary RPC observable: it makes the call's request
id (and its checkout transaction, for requests about one) current for the handler, counts and
times the call by method and final status code, and writes one log line per call.

That line is INFO for calls about checkout transactions, so that one checkout can be followed
through every service at the default level, and DEBUG (formatted only when on) for the rest.
A call is about transactions when its request has a `transaction_id` (reserve, commit, cancel,
outcome queries), or a repeated field of messages that have one (the batched reserve and
settle calls): the line then lists every transaction id of the batch (`txn_ids`), so that
`grep <txn id>` finds it. Batches keep those lines few under load.

It is the outermost interceptor, so it sees the status `ErrorTranslator` set. The wrapped
handler is built once per method, not per call. With tracing on (`shopmesh.telemetry.tracing`)
it also wraps the call in a SERVER span, a child of the caller's `traceparent`, so that the
call's log line names the trace.
"""

import asyncio
import logging
import time

import grpc
from google.protobuf.descriptor import Descriptor

from shopmesh.telemetry import request_context, tracing
from shopmesh.telemetry.metrics import RPC_HANDLED, RPC_SECONDS

log = logging.getLogger(__name__)

_HEADER = request_context.REQUEST_ID_HEADER
_BY_VALUE = {code.value[0]: code.name for code in grpc.StatusCode}
TXN_FIELD = "transaction_id"


def _request_id(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == _HEADER:
            return request_context.clean_request_id(value)
    return request_context.new_request_id()


def _request_descriptor(handler: grpc.RpcMethodHandler) -> Descriptor | None:
    message_class = getattr(handler.request_deserializer, "__self__", None)
    return getattr(message_class, "DESCRIPTOR", None)


def _batch_field(descriptor: Descriptor | None) -> str:
    """The repeated field whose messages each name a transaction ("" if there is none)."""
    for field in descriptor.fields if descriptor is not None else ():
        element = field.message_type
        if field.is_repeated and element is not None and TXN_FIELD in element.fields_by_name:
            return field.name
    return ""


def _code(context: grpc.aio.ServicerContext, error: BaseException) -> str:
    """The status a failed call ended with: what the handler set (ErrorTranslator aborts
    with the refusal's code), else what grpc makes of the exception."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _BY_VALUE.get(code, "UNKNOWN")
    return "CANCELLED" if isinstance(error, asyncio.CancelledError) else "UNKNOWN"


class _MethodObserver:
    """How to observe one method, worked out once: its labels, metric children per status
    code, where its requests name transactions, and the level of its log line."""

    def __init__(self, method: str, handler: grpc.RpcMethodHandler) -> None:
        service, _, name = method.lstrip("/").rpartition("/")
        self.method = method
        self.labels = (service, name)
        self.by_code: dict[str, tuple] = {}
        descriptor = _request_descriptor(handler)
        self.single = descriptor is not None and TXN_FIELD in descriptor.fields_by_name
        self.batch = "" if self.single else _batch_field(descriptor)
        self.level = logging.INFO if self.single or self.batch else logging.DEBUG

    def transactions(self, request) -> tuple[str, list[str] | None]:
        """The request's transaction id ("" if none or several) and, for a batch, all of them."""
        # getattr with defaults: a request that did not parse has no fields.
        if self.single:
            return getattr(request, TXN_FIELD, ""), None
        if not self.batch:
            return "", None
        ids = [getattr(element, TXN_FIELD) for element in getattr(request, self.batch, ())]
        return (ids[0] if len(ids) == 1 else ""), ids

    def record(self, code: str, elapsed_s: float, batch: list[str] | None) -> None:
        children = self.by_code.get(code)
        if children is None:
            children = (
                RPC_HANDLED.labels(*self.labels, code),
                RPC_SECONDS.labels(*self.labels, code),
            )
            self.by_code[code] = children
        children[0].inc()
        children[1].observe(elapsed_s)
        if log.isEnabledFor(self.level):
            ms = round(elapsed_s * 1000, 2)
            fields = {"rpc": self.method, "code": code, "duration_ms": ms}
            if batch is not None:
                fields["txn_ids"] = batch
            log.log(self.level, "%s %s in %.2f ms", self.method, code, ms, extra=fields)


def observed(inner, observer: _MethodObserver):
    async def behaviour(request, context: grpc.aio.ServicerContext):
        txn_id, batch = observer.transactions(request)
        token = request_context.begin(_request_id(context), txn_id)
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            return await inner(request, context)
        except BaseException as error:
            failure = error
            raise
        finally:
            code = "OK" if failure is None else _code(context, failure)
            observer.record(code, time.perf_counter() - started, batch)
            request_context.end(token)

    return behaviour


def traced(inner, observer: _MethodObserver):
    service, name = observer.labels
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    async def behaviour(request, context: grpc.aio.ServicerContext):
        metadata = context.invocation_metadata()
        with tracing.server_span(observer.method, metadata, attributes) as span:
            txn_id, batch = observer.transactions(request)
            if txn_id:
                span.set_attribute("shop.txn_id", txn_id)
            if batch is not None:
                span.set_attribute("shop.batch_size", len(batch))
            failure: BaseException | None = None
            try:
                return await inner(request, context)
            except BaseException as error:
                failure = error
                raise
            finally:
                code = "OK" if failure is None else _code(context, failure)
                span.set_attribute("rpc.grpc.status_code", code)

    return behaviour


class RequestObserver(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None:
            return None  # unknown method: not cached, so junk names cannot grow the cache
        if handler.unary_unary is not None:
            observer = _MethodObserver(method, handler)
            behaviour = observed(handler.unary_unary, observer)
            if tracing.enabled():
                behaviour = traced(behaviour, observer)
            handler = grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        self._handlers[method] = handler
        return handler
