"""Business errors, free of any transport.

Each error has a machine-readable `reason` (AIP-193, UPPER_SNAKE) that clients switch on, a
human message, and a kind that the transport layer maps to a status code. The rules raise
these; `shopmesh.rpc.status` turns them into google.rpc.Status on the wire.
"""

from enum import Enum


class Kind(Enum):
    """What went wrong, in the words the transport maps to status codes."""

    INVALID_ARGUMENT = "invalid_argument"
    OUT_OF_RANGE = "out_of_range"
    NOT_FOUND = "not_found"
    FAILED_PRECONDITION = "failed_precondition"
    ALREADY_EXISTS = "already_exists"
    ABORTED = "aborted"


class ShopError(Exception):
    """A request the shop refuses; it changed nothing."""

    kind: Kind = Kind.FAILED_PRECONDITION

    def __init__(self, reason: str, message: str, **metadata: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = {key: str(value) for key, value in metadata.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"


class InvalidArgument(ShopError):
    kind = Kind.INVALID_ARGUMENT


class OutOfRange(ShopError):
    kind = Kind.OUT_OF_RANGE


class NotFound(ShopError):
    kind = Kind.NOT_FOUND


class FailedPrecondition(ShopError):
    kind = Kind.FAILED_PRECONDITION


class AlreadyExists(ShopError):
    kind = Kind.ALREADY_EXISTS


class Aborted(ShopError):
    kind = Kind.ABORTED


_BY_KIND = {cls.kind: cls for cls in ShopError.__subclasses__()}


class TransactionTooLarge(Exception):
    """The store refused a transaction for its size (Spanner: more than 80,000 mutations);
    nothing of it was written, and the same work in smaller transactions may succeed."""


def error_to_dict(error: ShopError) -> dict:
    """A refusal as data, to store it and raise it again later (e.g. for a repeated request)."""
    return {
        "kind": error.kind.value,
        "reason": error.reason,
        "message": error.message,
        "metadata": error.metadata,
    }


def error_from_dict(data: dict) -> ShopError:
    error_class = _BY_KIND[Kind(data["kind"])]
    return error_class(data["reason"], data["message"], **data.get("metadata", {}))
