"""Input checks shared by every service. Pure: no I/O, no transport."""

from shopmesh.errors import InvalidArgument, OutOfRange

MAX_INT32 = 2**31 - 1
# Long enough for any UUID or numeric id, short enough to keep keys and logs sane.
MAX_ID_LENGTH = 128


def require_id(value: str, field: str) -> str:
    """An id must be non-empty, printable and at most MAX_ID_LENGTH characters."""
    if not value:
        raise InvalidArgument("INVALID_ID", f"{field} must not be empty", field=field)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(
            "INVALID_ID", f"{field} is longer than {MAX_ID_LENGTH} characters", field=field
        )
    if not value.isprintable():
        raise InvalidArgument("INVALID_ID", f"{field} has unprintable characters", field=field)
    return value


def require_positive(value: int, field: str, reason: str) -> int:
    """Amounts and quantities are whole numbers from 1 to 2^31-1."""
    if value < 1:
        raise InvalidArgument(reason, f"{field} must be at least 1, got {value}", field=field)
    if value > MAX_INT32:
        raise OutOfRange(reason, f"{field} must be at most {MAX_INT32}, got {value}", field=field)
    return value


def require_non_negative(value: int, field: str, reason: str) -> int:
    """Prices and starting balances may be 0."""
    if value < 0:
        raise InvalidArgument(reason, f"{field} must not be negative, got {value}", field=field)
    if value > MAX_INT32:
        raise OutOfRange(reason, f"{field} must be at most {MAX_INT32}, got {value}", field=field)
    return value


def checked_sum(current: int, delta: int, field: str, reason: str) -> int:
    """current + delta, refused when the result leaves the 32-bit range the API promises."""
    result = current + delta
    if result > MAX_INT32:
        raise OutOfRange(
            reason, f"{field} would exceed {MAX_INT32} ({current} + {delta})", field=field
        )
    return result
