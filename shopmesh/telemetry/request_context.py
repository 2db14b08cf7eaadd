"""Which request (and which checkout transaction) the running code works for, so that logs,
outgoing calls and audit events can name it without passing it down every call.

The gateway gives every request an `x-request-id`; a service's server interceptor
(`shopmesh.rpc.observe`) takes it from the call's metadata, or makes one for a call that came
without (grpcurl, a peer's background work), and starts a `RequestInfo` for the call.
Everything the call does sees it: tasks it spawns copy the context, the stores run their
transactions in it, `shopmesh.rpc.clients.call` sends the id on to the peers.

The info is one mutable object per request, so a transaction id learnt deep inside the work
(in a task of its own) is seen by the handler and every log line after it.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

REQUEST_ID_HEADER = "x-request-id"
# A client may send any request id; keep what it costs in every log line and event bounded.
MAX_REQUEST_ID = 128


class RequestInfo:
    __slots__ = ("request_id", "txn_id")

    def __init__(self, request_id: str, txn_id: str = "") -> None:
        self.request_id = request_id
        self.txn_id = txn_id

    def note_txn(self, txn_id: str) -> None:
        """The checkout transaction the request works on; the first one named sticks."""
        if txn_id and not self.txn_id:
            self.txn_id = txn_id


_CURRENT: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "shop_request", default=None
)


def current() -> RequestInfo | None:
    return _CURRENT.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(raw: str | None) -> str:
    """The caller's request id, bounded; a fresh one when it sent none."""
    return raw[:MAX_REQUEST_ID] if raw else new_request_id()


def begin(request_id: str, txn_id: str = "") -> contextvars.Token:
    """Make a request current (until `end` with the token returned)."""
    return _CURRENT.set(RequestInfo(request_id, txn_id))


def end(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


@contextmanager
def detached(txn_id: str = "") -> Iterator[RequestInfo]:
    """Background work on one transaction (recovery): a request id of its own, which its
    calls to peers carry, so its log lines there name it too."""
    info = RequestInfo(new_request_id(), txn_id)
    token = _CURRENT.set(info)
    try:
        yield info
    finally:
        end(token)


def note_txn(txn_id: str) -> None:
    """Name the current request's checkout transaction (if it has none yet)."""
    info = _CURRENT.get()
    if info is not None:
        info.note_txn(txn_id)


def outgoing_metadata() -> tuple[tuple[str, str], ...] | None:
    """Metadata that carries the current request id to a peer (None outside a request)."""
    info = _CURRENT.get()
    return None if info is None else ((REQUEST_ID_HEADER, info.request_id),)
