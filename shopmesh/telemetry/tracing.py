"""Traces, off by default: OpenTelemetry spans for every RPC a service answers and makes,
exported over OTLP/gRPC when OTEL_EXPORTER_OTLP_ENDPOINT is set (read by the composition root
into `TracingSettings`; the SDK reads its other OTEL_* variables, e.g. OTEL_TRACES_SAMPLER,
OTEL_BSP_SCHEDULE_DELAY, itself).

With tracing off no tracer provider is installed (the tracing SDK's exporter is not even
imported): the request path pays one check (`enabled()`) per call. With it on:

- the server interceptor (`shopmesh.rpc.observe`) opens a SERVER span per call, a child of the
  W3C `traceparent` the caller sent (the gateway's span, or a peer's CLIENT span);
- `shopmesh.rpc.clients.call` opens a CLIENT span and sends its `traceparent` on;
- a batched call (`shopmesh.batching`, `LinkedBatch`) runs in an INTERNAL span whose parent is
  the first checkout it serves and which links to every one of them;
- log lines carry the current `trace_id` (`shopmesh.telemetry.logs`), and so do audit events;
- work that outlives its request (recovery, the retry worker, the outbox relay) runs in spans
  of its own (`span`); a checkout keeps its `traceparent` in the coordinator's log, so that
  recovering it later links back to the trace it began in.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER: trace.Tracer | None = None


@dataclass(frozen=True)
class TracingSettings:
    # Where spans go (http://host:port of an OTLP/gRPC collector); "" turns tracing off.
    otlp_endpoint: str = ""
    # The service.name resource attribute (OTEL_SERVICE_NAME, else the service's name).
    service_name: str = ""
    # OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, as the specification names them.
    sampler: str = "parentbased_always_on"
    sampler_arg: float = 1.0

    @property
    def on(self) -> bool:
        return bool(self.otlp_endpoint)


def enabled() -> bool:
    """The cheap check the request path makes before doing anything for traces."""
    return _TRACER is not None


def configure(settings: TracingSettings) -> Callable[[], None]:
    """Install the tracer provider and its OTLP exporter when tracing is on; returns what
    flushes and shuts it down at exit (a no-op when off)."""
    global _TRACER
    if not settings.on:
        return lambda: None
    # Imported here: a process with tracing off loads no exporter.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=_sampler(settings.sampler, settings.sampler_arg),
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint, insecure=True))
    )
    trace.set_tracer_provider(provider)
    _TRACER = trace.get_tracer("shopmesh")
    log.info("tracing on: spans to %s", settings.otlp_endpoint)

    def shutdown() -> None:
        global _TRACER
        _TRACER = None
        provider.shutdown()

    return shutdown


def _sampler(name: str, ratio: float) -> Any:
    """The sampler OTEL_TRACES_SAMPLER names; parent-based ones follow the gateway's choice."""
    from opentelemetry.sdk.trace import sampling

    samplers = {
        "always_on": lambda: sampling.ALWAYS_ON,
        "always_off": lambda: sampling.ALWAYS_OFF,
        "traceidratio": lambda: sampling.TraceIdRatioBased(ratio),
        "parentbased_always_on": lambda: sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": lambda: sampling.ParentBased(sampling.ALWAYS_OFF),
        "parentbased_traceidratio": lambda: sampling.ParentBased(sampling.TraceIdRatioBased(ratio)),
    }
    if name not in samplers:
        raise SystemExit(f"OTEL_TRACES_SAMPLER must be one of {', '.join(samplers)}, got {name!r}")
    return samplers[name]()


def _tracer() -> trace.Tracer:
    return _TRACER or trace.get_tracer("shopmesh")


def server_span(
    name: str, metadata: Sequence[tuple[str, Any]] | None, attributes: dict[str, Any]
) -> AbstractContextManager[trace.Span]:
    """The span of one call this process answers, a child of the caller's `traceparent`."""
    carrier = {key: value for key, value in metadata or () if isinstance(value, str)}
    return _tracer().start_as_current_span(
        name, context=_PROPAGATOR.extract(carrier), kind=SpanKind.SERVER, attributes=attributes
    )


@contextmanager
def client_span(name: str, peer: str) -> Iterator[list[tuple[str, str]]]:
    """The span of one call to a peer; yields the metadata that carries it there."""
    service, _, method = name.lstrip("/").rpartition("/")
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
    with _tracer().start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes={**attributes, "peer.service": peer}
    ):
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        yield list(carrier.items())


def traceparent() -> str:
    """The W3C `traceparent` of the current span if it is sampled, else "" (always "" with
    tracing off): what a checkout keeps in its log record for the work that finishes it."""
    if _TRACER is None:
        return ""
    context = trace.get_current_span().get_span_context()
    if not (context.is_valid and context.trace_flags.sampled):
        return ""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent", "")


def _linked(traceparents: Sequence[str]) -> list[Link]:
    links = []
    for parent in traceparents:
        if parent:
            context = trace.get_current_span(_PROPAGATOR.extract({"traceparent": parent}))
            if context.get_span_context().is_valid:
                links.append(Link(context.get_span_context()))
    return links


def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    links: Sequence[str] = (),
    attributes: dict[str, Any] | None = None,
) -> AbstractContextManager[object]:
    """A span of background work (recovery, a retry, an outbox relay pass): a child of the
    current span, or the root of a trace of its own, linking the `traceparent`s given (the
    checkouts it works for). Nothing with tracing off."""
    if _TRACER is None:
        return nullcontext()
    return _TRACER.start_as_current_span(
        name, kind=kind, links=_linked(links), attributes=attributes
    )


def set_attribute(key: str, value: str) -> None:
    """Record what background work found out (its outcome) on the current span."""
    if _TRACER is not None:
        trace.get_current_span().set_attribute(key, value)


def trace_id() -> str:
    """The current trace's id (32 hex digits), "" outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


class LinkedBatch:
    """A `shopmesh.batching.Batcher` scope: each submitter's span context is carried beside
    its item, and the batch runs in one span that is a child of the first and links them all."""

    def __init__(self, name: str) -> None:
        self.name = name

    def capture(self) -> SpanContext | None:
        if _TRACER is None:
            return None
        context = trace.get_current_span().get_span_context()
        return context if context.is_valid else None

    def around(self, captured: Sequence[object]) -> AbstractContextManager[object]:
        contexts = [c for c in captured if isinstance(c, SpanContext)]
        if _TRACER is None or not contexts:
            return nullcontext()
        parent = trace.set_span_in_context(NonRecordingSpan(contexts[0]))
        return _TRACER.start_as_current_span(
            self.name,
            context=parent,
            kind=SpanKind.INTERNAL,
            links=[Link(context) for context in contexts],
            attributes={"shop.batch_size": len(captured)},
        )
