"""What a service tells Prometheus, and where (METRICS_ADDR).

Counted as it happens (cheap: a locked add per call):
  grpc_server_handled_total{grpc_service, grpc_method, grpc_code}    every finished unary RPC
  grpc_server_handling_seconds{grpc_service, grpc_method, grpc_code}  their latency (histogram)
  shop_checkout_outcomes_total{reason}      order: checkouts answered, "OK" or the refusal reason
  shop_recovery_actions_total{service, action}  what recovery did (see RECOVERY_ACTIONS)
  shop_outbox_published_total{service}      events the relay delivered to Kafka
  shop_outbox_relay_errors_total{service}   relay passes that failed (Kafka down, ...)

Read from the store at scrape time (so right after a restart, and the same in every process
of a service):
  shop_outbox_backlog{service}              events waiting in the outbox
  shop_reservations_held{service}           stock/payment: reservations HELD right now
  shop_reservation_oldest_held_seconds{service}  stock/payment: how long the oldest of them
                                            has been held (0 when none is)

Each process serves its own metrics (prometheus_client's HTTP server, in a thread of its own,
off the event loop); several processes of one service need one address each.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
# No `*_created` sample beside every counter: Prometheus does not need them, and they double
# what a scrape reads.
disable_created_metrics()

OFF = {"", "off", "none", "disabled"}
# Unary RPCs here take a millisecond or so; the default buckets start at 5 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "Unary RPCs finished by the server, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from receiving a unary RPC to answering it, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=LATENCY_BUCKETS,
)
CHECKOUT_OUTCOMES = Counter(
    "shop_checkout_outcomes",
    'Checkouts answered by the order service: reason "OK" (paid) or the refusal reason.',
    ["reason"],
)
RECOVERY_ACTIONS = Counter(
    "shop_recovery_actions",
    "What recovery did: decisions resent by the coordinator, retry events handled, stale"
    " reservations resolved by asking the coordinator.",
    ["service", "action"],
)
OUTBOX_PUBLISHED = Counter(
    "shop_outbox_published", "Outbox events delivered to Kafka by this process.", ["service"]
)
RELAY_ERRORS = Counter(
    "shop_outbox_relay_errors", "Outbox relay passes that failed and will be retried.", ["service"]
)

# The service this process is (one per process), set by `initialise`.
_service = ""


def recovery_action(action: str) -> None:
    RECOVERY_ACTIONS.labels(_service, action).inc()


def checkout_outcome(reason: str) -> None:
    CHECKOUT_OUTCOMES.labels(reason).inc()


def initialise(
    service: str, recovery_actions: Sequence[str] = (), outcomes: Sequence[str] = ()
) -> None:
    """Name this process's service, and create its labelled series at 0 (the recovery actions
    and checkout outcomes the service says it may count), so that they exist (for dashboards,
    alerts and `rate()`) before anything happened."""
    global _service
    _service = service
    for action in recovery_actions:
        RECOVERY_ACTIONS.labels(service, action)
    for reason in outcomes:
        CHECKOUT_OUTCOMES.labels(reason)
    OUTBOX_PUBLISHED.labels(service)
    RELAY_ERRORS.labels(service)


@dataclass(frozen=True)
class StoreGauge:
    """A gauge whose value one read of the store's repository gives."""

    name: str
    documentation: str
    read: Callable[[Any], float]  # of the store's repository, inside a read


OUTBOX_BACKLOG = StoreGauge(
    "shop_outbox_backlog",
    "Events waiting in the outbox to be published.",
    lambda repo: repo.outbox_size(),
)
RESERVATIONS_HELD = StoreGauge(
    "shop_reservations_held",
    "Checkout reservations HELD now (neither committed nor cancelled yet).",
    lambda repo: repo.held_reservations(),
)


def _held_for(since: float | None) -> float:
    return 0.0 if since is None else max(0.0, round(time.time() - since, 3))


# Above RESERVATION_TIMEOUT_S the participant asks the coordinator (participant.stale); one that
# stays above it is a reservation that asking does not resolve.
OLDEST_RESERVATION = StoreGauge(
    "shop_reservation_oldest_held_seconds",
    "How long the oldest reservation HELD now has been held, in seconds (0: none is held).",
    lambda repo: _held_for(repo.oldest_held_since()),
)


class StoreGauges:
    """A collector that reads its gauges from the store when Prometheus scrapes: one snapshot
    read on the service's event loop, from the scraping thread. A store that does not answer
    in time leaves the gauges out of that scrape (and logs why)."""

    def __init__(
        self,
        service: str,
        store,
        gauges: Iterable[StoreGauge],
        loop: asyncio.AbstractEventLoop,
        timeout_s: float = 5.0,
    ) -> None:
        self._service = service
        self._store = store
        self._gauges = tuple(gauges)
        self._loop = loop
        self._timeout_s = timeout_s

    def _families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(gauge.name, gauge.documentation, labels=["service"])
            for gauge in self._gauges
        ]

    def describe(self) -> list[GaugeMetricFamily]:
        return self._families()

    def _read_all(self, repo) -> list[float]:
        return [gauge.read(repo) for gauge in self._gauges]

    def collect(self) -> list[GaugeMetricFamily]:
        try:
            future = asyncio.run_coroutine_threadsafe(self._store.read(self._read_all), self._loop)
            values = future.result(self._timeout_s)
        except Exception as error:
            log.warning("metrics: cannot read the store's gauges: %r", error)
            return []
        families = self._families()
        for family, value in zip(families, values, strict=True):
            family.add_metric([self._service], value)
        return families


def parse_addr(addr: str) -> tuple[str, int] | None:
    """(host, port) of METRICS_ADDR, or None when metrics are off."""
    if addr.strip().lower() in OFF:
        return None
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"METRICS_ADDR must be HOST:PORT or 'off', got {addr!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve_metrics(addr: str, registry: CollectorRegistry = REGISTRY):
    """Serve /metrics on addr in a background thread; returns the server (or None if off)."""
    where = parse_addr(addr)
    if where is None:
        log.info("metrics are off (METRICS_ADDR=%r)", addr)
        return None
    host, port = where
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise SystemExit(f"metrics cannot listen on {addr}: {error.strerror}") from None
    log.info("metrics on http://%s:%d/metrics", host, server.server_port)
    return server
