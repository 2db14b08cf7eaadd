"""A tiny OTLP/gRPC trace receiver for local runs and tests, and a viewer for what it got.

    python -m shoptools.traces serve [--addr 127.0.0.1:4317] [--out run/traces.jsonl]
    python -m shoptools.traces show <trace_id>        # one trace as an indented timeline
    python -m shoptools.traces show --last-checkout   # the newest trace with a Checkout

It implements opentelemetry.proto's TraceService (Export) and writes one JSON line per span to
`--out`: what a person or a test needs (ids, parent, name, kind, service, times, attributes,
links, status), not the whole OTLP model. `make up` with SHOP_TRACING=1 starts it and points
the services and Envoy at it. Not for production: use an OpenTelemetry Collector there.
"""

import argparse
import json
import pathlib
import sys
import threading
from collections.abc import Iterable
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2

from shopmesh.settings import env_str

CHECKOUT_RPC = "/shop.order.v1.OrderService/Checkout"
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(value: common_pb2.AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind in (None, "kvlist_value", "bytes_value"):
        return None if kind is None else str(getattr(value, kind))
    return getattr(value, kind)


def _attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


def span_records(request: trace_service_pb2.ExportTraceServiceRequest) -> list[dict]:
    """One plain dict per span of an export, with its resource's service.name."""
    records = []
    for resource_spans in request.resource_spans:
        service = _attributes(resource_spans.resource.attributes).get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                records.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": KINDS.get(span.kind, str(span.kind)),
                        "service": service,
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "attributes": _attributes(span.attributes),
                        "links": [
                            {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()}
                            for link in span.links
                        ],
                        "status": span.status.code,
                    }
                )
    return records


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, out: pathlib.Path) -> None:
        self._out = out
        self._lock = threading.Lock()

    def Export(self, request, context):  # noqa: N802 - the proto's name
        lines = "".join(json.dumps(record) + "\n" for record in span_records(request))
        with self._lock, open(self._out, "a") as out:
            out.write(lines)
        return trace_service_pb2.ExportTraceServiceResponse()


class TraceReceiver:
    """The receiver as an object: `start()` returns the bound port (address port 0: a free
    one), `stop()` ends it. Tests run one in-process."""

    def __init__(self, out: pathlib.Path, address: str = "127.0.0.1:0") -> None:
        self.out = out
        self._address = address
        self._server: grpc.Server | None = None
        self.port = 0

    def start(self) -> int:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
            _TraceService(self.out), self._server
        )
        self.port = self._server.add_insecure_port(self._address)
        self._server.start()
        return self.port

    @property
    def address(self) -> str:
        return f"{self._address.rpartition(':')[0]}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1).wait()
            self._server = None


def read_spans(path: pathlib.Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def spans_of(spans: list[dict], trace_id: str) -> list[dict]:
    return sorted((s for s in spans if s["trace_id"] == trace_id), key=lambda s: s["start_ns"])


def last_checkout(spans: list[dict]) -> str:
    """The newest trace in which order answered a Checkout ("" if none)."""
    checkouts = [s for s in spans if s["name"] == CHECKOUT_RPC and s["kind"] == "SERVER"]
    return max(checkouts, key=lambda s: s["start_ns"])["trace_id"] if checkouts else ""


def timeline(spans: list[dict]) -> list[str]:
    """The trace's spans as lines: start offset, duration, indented by parentage."""
    if not spans:
        return []
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[dict]] = {}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else ""
        children.setdefault(parent, []).append(span)
    origin = min(s["start_ns"] for s in spans)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s["start_ns"]):
            start_ms = (span["start_ns"] - origin) / 1e6
            took_ms = (span["end_ns"] - span["start_ns"]) / 1e6
            links = f"  links: {len(span['links'])} spans" if span["links"] else ""
            lines.append(
                f"{start_ms:9.2f} ms {took_ms:9.2f} ms  {'  ' * depth}"
                f"{span['service']}: {span['name']} [{span['kind']}]{links}"
            )
            walk(span["span_id"], depth + 1)

    walk("", 0)
    return lines


def main(argv: list[str]) -> int:
    run_dir = pathlib.Path(env_str("SHOP_RUN_DIR", "run"))
    parser = argparse.ArgumentParser(prog="python -m shoptools.traces", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="receive spans over OTLP/gRPC")
    serve.add_argument("--addr", default="127.0.0.1:4317")
    serve.add_argument("--out", type=pathlib.Path, default=run_dir / "traces.jsonl")
    show = sub.add_parser("show", help="print one trace as an indented timeline")
    show.add_argument("trace_id", nargs="?", default="")
    show.add_argument("--last-checkout", action="store_true")
    show.add_argument("--file", type=pathlib.Path, default=run_dir / "traces.jsonl")
    args = parser.parse_args(argv)
    if args.command == "serve":
        receiver = TraceReceiver(args.out, args.addr)
        receiver.start()
        print(f"receiving traces on {receiver.address}, writing {args.out}", flush=True)
        threading.Event().wait()
        return 0
    spans = read_spans(args.file)
    trace_id = last_checkout(spans) if args.last_checkout else args.trace_id
    if not trace_id:
        parser.error("give a trace id or --last-checkout")
    lines = timeline(spans_of(spans, trace_id))
    if not lines:
        print(f"no spans of trace {trace_id} in {args.file}", file=sys.stderr)
        return 1
    print(f"trace {trace_id}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
