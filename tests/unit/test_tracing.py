"""Traces in one process: off by default (no SDK, no provider), the settings the composition
root reads, a batch carrying each submitter's context, the gateway's tracer only with a
collector, and the local receiver's span lines and timeline."""

import asyncio
import pathlib
import subprocess
import sys

import grpc
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from shopmesh.batching import Batcher
from shopmesh.settings import tracing_from_env
from shopmesh.telemetry import tracing
from shoptools.traces import TraceReceiver, read_spans, spans_of, timeline

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_tracing_is_off_without_an_endpoint_and_no_tracer_provider_is_installed():
    # A fresh interpreter: what a service with no OTEL_* settings imports and installs.
    probe = (
        "import sys; from shopmesh.rpc import server; from order_svc import coordinator;"
        "from shopmesh.telemetry import tracing; from shopmesh.settings import tracing_from_env;"
        "stop = tracing.configure(tracing_from_env('order')); stop();"
        "from opentelemetry import trace;"
        "exporter = 'opentelemetry.exporter.otlp.proto.grpc.trace_exporter' in sys.modules;"
        "print(tracing.enabled(), exporter, type(trace.get_tracer_provider()).__name__)"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "ProxyTracerProvider"]


def test_the_standard_variables_turn_it_on_and_choose_the_sampler(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    settings = tracing_from_env("stock")
    assert settings.on and settings.otlp_endpoint == "http://127.0.0.1:4317"
    assert (settings.service_name, settings.sampler, settings.sampler_arg) == (
        "stock",
        "parentbased_traceidratio",
        0.25,
    )


def test_an_unknown_sampler_is_refused():
    with pytest.raises(SystemExit, match="OTEL_TRACES_SAMPLER"):
        tracing._sampler("sometimes", 1.0)


class Carried:
    """A batch scope that captures a name per submitter and records what each batch got."""

    def __init__(self) -> None:
        self.next = 0
        self.batches: list[list[object]] = []

    def capture(self) -> object:
        self.next += 1
        return f"submitter-{self.next}"

    def around(self, captured):
        self.batches.append(list(captured))
        return _Nothing()


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


async def test_a_batch_runs_inside_what_each_of_its_submitters_carried():
    scope = Carried()

    async def run(items: list[int]) -> list:
        return [ValueError(i) if i < 0 else i for i in items] if len(items) == 1 else 1 / 0

    batcher = Batcher(run, scope=scope)
    results = await asyncio.gather(*(batcher.submit(i) for i in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 1 and isinstance(results[1], ValueError) and results[2] == 3
    # The batch of three, then (it failed) each alone with its own submitter's context.
    assert scope.batches[0] == ["submitter-1", "submitter-2", "submitter-3"]
    assert sorted(map(tuple, scope.batches[1:])) == [
        ("submitter-1",),
        ("submitter-2",),
        ("submitter-3",),
    ]


def test_linked_batch_captures_nothing_while_tracing_is_off():
    scope = tracing.LinkedBatch("reserve stock batch")
    assert scope.capture() is None
    with scope.around([None, None]) as entered:
        assert entered is None


def generate(tmp_path: pathlib.Path, *extra: str) -> dict:
    out = tmp_path / "envoy.yaml"
    subprocess.run(
        [sys.executable, "envoy/generate.py", "--out", str(out), *extra], cwd=ROOT, check=True
    )
    return yaml.safe_load(out.read_text())


def test_the_gateway_traces_only_with_a_collector(tmp_path: pathlib.Path):
    plain = generate(tmp_path)
    traced = generate(tmp_path, "--otlp-collector", "127.0.0.1:4317")

    def managers(config: dict) -> list[dict]:
        return [
            chain["filters"][0]["typed_config"]
            for listener in config["static_resources"]["listeners"]
            for chain in listener["filter_chains"]
            if listener["name"] in ("rest", "grpc")
        ]

    assert all("tracing" not in m for m in managers(plain))
    providers = {m["tracing"]["provider"]["name"] for m in managers(traced)}
    assert providers == {"envoy.tracers.opentelemetry"}
    clusters = {c["name"]: c for c in traced["static_resources"]["clusters"]}
    address = clusters["otlp_collector"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert address["endpoint"]["address"]["socket_address"]["port_value"] == 4317
    assert "otlp_collector" not in {c["name"] for c in plain["static_resources"]["clusters"]}


def export(trace_id: bytes, spans: list[tuple[bytes, bytes, str, int]]):
    """An OTLP export of spans (span id, parent id, name, start ms) from service 'order'."""
    service = common_pb2.KeyValue(
        key="service.name", value=common_pb2.AnyValue(string_value="order")
    )
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource_pb2.Resource(attributes=[service]),
                scope_spans=[
                    trace_pb2.ScopeSpans(
                        spans=[
                            trace_pb2.Span(
                                trace_id=trace_id,
                                span_id=span_id,
                                parent_span_id=parent,
                                name=name,
                                kind=trace_pb2.Span.SPAN_KIND_SERVER,
                                start_time_unix_nano=start_ms * 1_000_000,
                                end_time_unix_nano=(start_ms + 2) * 1_000_000,
                            )
                            for span_id, parent, name, start_ms in spans
                        ]
                    )
                ],
            )
        ]
    )


def test_the_receiver_writes_one_line_per_span_and_shows_a_trace(tmp_path: pathlib.Path):
    receiver = TraceReceiver(tmp_path / "traces.jsonl")
    receiver.start()
    try:
        trace_id = bytes(range(16))
        request = export(
            trace_id, [(b"\x01" * 8, b"", "root", 0), (b"\x02" * 8, b"\x01" * 8, "child", 1)]
        )
        with grpc.insecure_channel(receiver.address) as channel:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=5)
    finally:
        receiver.stop()
    spans = read_spans(receiver.out)
    assert [(s["name"], s["service"], s["kind"]) for s in spans] == [
        ("root", "order", "SERVER"),
        ("child", "order", "SERVER"),
    ]
    lines = timeline(spans_of(spans, trace_id.hex()))
    assert len(lines) == 2
    assert lines[0].endswith("order: root [SERVER]")
    assert lines[1].endswith("  order: child [SERVER]") and "1.00 ms" in lines[1]
