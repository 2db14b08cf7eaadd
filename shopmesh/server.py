"""gRPC server bootstrap shared by the three services.

`create_server` builds a grpc.aio server with error translation, the standard health service
and server reflection, binds it and returns the bound port (bind port 0 in tests).
`serve` runs a service's whole life: listen, open the store, report SERVING, and on SIGTERM
or SIGINT report NOT_SERVING and stop gracefully before closing the store.
"""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from shopmesh import faults
from shopmesh.grpc_errors import ErrorTranslator
from shopmesh.kafka import KafkaSettings
from shopmesh.relay import OutboxRelay
from shopmesh.settings import ServiceSettings

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
    service_name: str,
    register: Callable[[grpc.aio.Server], None],
    domain: str,
) -> Served:
    server = grpc.aio.server(
        interceptors=[ErrorTranslator(domain)],
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
        [service_name, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(address)
    return Served(server, port, health_servicer, [service_name])


class Store(Protocol):
    """What `serve` needs of a store: open before SERVING, close after the drain."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...


async def serve(
    served: Served,
    store: Store,
    *,
    grace_s: float,
    background: list[Callable[[], Awaitable[None]]] = (),
) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    # The store opens before the port accepts calls, so no call ever meets a closed store.
    await served.set_health(NOT_SERVING)
    await store.open()
    await served.server.start()
    await served.set_health(SERVING)
    log.info("%s serving on port %d", ", ".join(served.service_names), served.port)
    tasks = [asyncio.create_task(work()) for work in background]
    await stopping.wait()
    log.info("stopping: NOT_SERVING, draining for up to %.1fs", grace_s)
    await served.health.enter_graceful_shutdown()
    for task in tasks:
        task.cancel()
    await served.server.stop(grace_s)
    await store.close()
    log.info("stopped")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def run_service(
    settings: ServiceSettings,
    service_name: str,
    register: Callable[[grpc.aio.Server], None],
    store: Store,
    background: list[Callable[[], Awaitable[None]]] = (),
) -> None:
    """What every service's `__main__` does once it has wired its store and API: serve, and
    run the background work (the outbox relay always, when Kafka is configured)."""
    configure_logging(settings.log_level)
    faults.arm(settings.fault_point)
    served = create_server(
        settings.listen_addr, service_name, register, domain=f"{settings.service}.shopmesh"
    )
    kafka = KafkaSettings.from_env(settings.service)
    if kafka.enabled:
        background = [*background, OutboxRelay(store, kafka).run]
    else:
        log.warning("KAFKA_BOOTSTRAP_SERVERS is not set: audit events wait in the outbox")
    await serve(served, store, grace_s=settings.grace_s, background=background)
