"""gRPC server bootstrap shared by the three services.

`create_server` builds a grpc.aio server for one or more services with request observation
(request ids, metrics, log lines: `shopmesh.rpc.observe`), error translation, the standard
health service and server reflection, binds it and returns the bound port (bind port 0 in
tests).
`serve` runs a service's whole life: listen, open the store, report SERVING, and on SIGTERM
or SIGINT report NOT_SERVING and stop gracefully before closing the store. `run_main` runs a
service's `main` on the event loop SHOP_EVENT_LOOP names (uvloop by default).
"""

import asyncio
import gc
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from shopmesh import faults
from shopmesh.events.relay import OutboxRelay
from shopmesh.rpc.observe import RequestObserver
from shopmesh.rpc.status import ErrorTranslator
from shopmesh.settings import ServiceSettings, event_loop
from shopmesh.telemetry import metrics, tracing
from shopmesh.telemetry.logs import configure_logging

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Served:
    """A bound, not yet started server and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: list[str]

    async def set_health(self, status: int) -> None:
        for name in ["", *self.service_names]:
            await self.health.set(name, status)


def create_server(
    address: str,
    service_names: Sequence[str],
    register: Callable[[grpc.aio.Server], None],
    domain: str,
) -> Served:
    """`register` adds the servicers of `service_names` (a service and, for a checkout
    participant, ParticipantService beside it); health and reflection list each of them."""
    server = grpc.aio.server(
        # The observer first (outermost), so that it sees the status ErrorTranslator sets.
        interceptors=[RequestObserver(), ErrorTranslator(domain)],
        # Clients reconnect now and then, and so re-resolve and find new replicas.
        options=[
            ("grpc.max_connection_age_ms", 300_000),
            ("grpc.max_connection_age_grace_ms", 30_000),
        ],
    )
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(address)
    return Served(server, port, health_servicer, list(service_names))


class Store(Protocol):
    """What `serve` needs of a store: open before SERVING, close after the drain."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...


async def serve(
    served: Served,
    store: Store,
    *,
    grace_s: float,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    # The store opens before the port accepts calls, so no call ever meets a closed store.
    await served.set_health(NOT_SERVING)
    await store.open()
    freeze_startup_objects()
    await served.server.start()
    await served.set_health(SERVING)
    log.info("%s serving on port %d", ", ".join(served.service_names), served.port)
    tasks = [asyncio.create_task(work()) for work in background]
    await stopping.wait()
    log.info("stopping: NOT_SERVING, draining for up to %.1fs", grace_s)
    await served.health.enter_graceful_shutdown()
    await served.server.stop(grace_s)
    # Background work outlives the calls it may finish (e.g. checkout's phase two), and may
    # use the store a last time as it stops.
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace_s)
    await store.close()
    log.info("stopped")


def run_main(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """A service's `__main__`: run `main()` to the end on the chosen event loop. uvloop (the
    default) takes a third off each gRPC call's CPU on the event loop thread against asyncio's
    own loop (`make bench` and README, Performance); SHOP_EVENT_LOOP=asyncio keeps the
    standard library's, for comparing or debugging."""
    if event_loop() == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def freeze_startup_objects() -> None:
    """Keep what start-up made (modules, classes, clients: hundreds of thousands of objects)
    out of the garbage collector's full passes. Unfrozen, every full pass walks them all and
    stalls the process for a few hundred ms under load (seen as p99 spikes in `make bench`).

    The youngest generation is collected every 5,000 new objects: each pass then takes about
    half a millisecond. At 50,000 (before) each took 11-18 ms, rarely, but every request in
    flight waited for it: clusters of the slowest checkouts at a quarter of the saturated rate
    were those pauses. The total time the collector takes is about the same either way."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 10, 100)


async def run_service(
    settings: ServiceSettings,
    service_names: Sequence[str],
    register: Callable[[grpc.aio.Server], None],
    store: Store,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    gauges: Sequence[metrics.StoreGauge] = (metrics.OUTBOX_BACKLOG,),
    recovery_actions: Sequence[str] = (),
    outcomes: Sequence[str] = (),
) -> None:
    """What every service's `__main__` does once it has wired its store and API: serve, and
    run the background work (the outbox relay always, when Kafka is configured); metrics on
    METRICS_ADDR, the store's `gauges` read at each scrape, and the series of the
    `recovery_actions` and checkout `outcomes` the service may count there from the start."""
    configure_logging(settings.service, settings.log_level, settings.log_format)
    faults.arm(settings.fault_point)
    # Before the server is built: its interceptor traces only if tracing is on by then.
    stop_tracing = tracing.configure(settings.tracing)
    metrics.initialise(settings.service, recovery_actions, outcomes)
    metrics.REGISTRY.register(
        metrics.StoreGauges(settings.service, store, gauges, asyncio.get_running_loop())
    )
    metrics_server = metrics.serve_metrics(settings.metrics_addr)
    served = create_server(
        settings.listen_addr, service_names, register, domain=f"{settings.service}.shopmesh"
    )
    if settings.kafka.enabled:
        relay = OutboxRelay(store, settings.kafka, service=settings.service)
        background = [*background, relay.run]
    else:
        log.warning("KAFKA_BOOTSTRAP_SERVERS is not set: audit events wait in the outbox")
    try:
        await serve(served, store, grace_s=settings.grace_s, background=background)
    finally:
        if metrics_server is not None:
            await asyncio.to_thread(metrics_server.shutdown)
            metrics_server.server_close()
        await asyncio.to_thread(stop_tracing)  # the last spans go out
