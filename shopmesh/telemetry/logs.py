"""Log lines every service writes alike: one JSON object per line (LOG_FORMAT=json, the
default, for machines) or classic text (LOG_FORMAT=text, for people), each naming the service
and, inside a request, its request id and checkout transaction id.

    {"time": "2025-05-01T12:00:00.123+00:00", "level": "INFO", "logger": "order_svc.api",
     "message": "checkout of order 7f..: OK", "service": "order",
     "request_id": "5b1c..", "txn_id": "0d9e.."}

The context is added by a handler filter, so it costs nothing for lines below the level.
With tracing on, a line written inside a traced call names its `trace_id` too.
"""

import logging
import sys
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

from shopmesh.telemetry import request_context, tracing

FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RequestContextFilter(logging.Filter):
    """Adds service, request_id and txn_id (where known) to every record it sees."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self._service
        info = request_context.current()
        if info is not None:
            record.request_id = info.request_id
            if info.txn_id:
                record.txn_id = info.txn_id
        if tracing.enabled():
            trace_id = tracing.trace_id()
            if trace_id:
                record.trace_id = trace_id
        return True


class ShopJsonFormatter(JsonFormatter):
    """JSON with the time first, in UTC ISO 8601."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
        )

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)


class ShopTextFormatter(logging.Formatter):
    """The classic line, with the request's ids (and a batch's transaction ids) at the end
    when there are any."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{key}={getattr(record, key)}"
            for key in ("request_id", "txn_id", "trace_id")
            if getattr(record, key, None)
        ]
        batch = getattr(record, "txn_ids", None)
        if batch:
            ids.append(f"txn_ids={','.join(batch)}")
        return f"{line} [{' '.join(ids)}]" if ids else line


def configure_logging(service: str, level: str, fmt: str = "json") -> None:
    """Route every logger to stderr in the chosen format, replacing earlier handlers."""
    if fmt not in FORMATS:
        raise SystemExit(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ShopJsonFormatter() if fmt == "json" else ShopTextFormatter())
    handler.addFilter(RequestContextFilter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
