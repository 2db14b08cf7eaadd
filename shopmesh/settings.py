"""A service's settings, read from the environment once, by its `__main__`."""

import pathlib
from dataclasses import dataclass

from shopmesh.env import env_float, env_int, env_str
from shopmesh.events.kafka import KafkaSettings
from shopmesh.store.spanner import SpannerSettings
from shopmesh.telemetry.tracing import TracingSettings

__all__ = [
    "EVENT_LOOPS",
    "STORES",
    "ServiceSettings",
    "data_dir",
    "env_float",
    "env_int",
    "env_str",
    "event_loop",
]

# SHOP_STORE: sqlite (the embedded default), spanner, or memory (for tests and the simulator:
# the data is lost when the process exits).
STORES = {"sqlite", "spanner", "memory"}
# SHOP_EVENT_LOOP: uvloop (the default) or asyncio (the standard library's loop).
EVENT_LOOPS = {"uvloop", "asyncio"}


def event_loop() -> str:
    """The event loop every service process runs on (SHOP_EVENT_LOOP): read before the loop
    starts, so apart from the other settings."""
    return _one_of("SHOP_EVENT_LOOP", env_str("SHOP_EVENT_LOOP", "uvloop").lower(), EVENT_LOOPS)


def data_dir() -> pathlib.Path:
    """Where the embedded stores keep their files (SHOP_DATA_DIR, default ./data)."""
    return pathlib.Path(env_str("SHOP_DATA_DIR", "data")).resolve()


@dataclass(frozen=True)
class ServiceSettings:
    """Everything a service process is configured with, read once by its `__main__` (the
    composition root), which passes the parts down: nothing below it reads the environment."""

    service: str
    listen_addr: str
    # sqlite (embedded default), spanner, or memory (tests and the simulator only).
    store: str
    db_path: pathlib.Path
    # FULL: a commit (a checkout's decision among them) is on disk before it is answered, so a
    # power loss cannot take back a 200. NORMAL: only a process crash is survived.
    sqlite_synchronous: str
    spanner: SpannerSettings
    kafka: KafkaSettings
    grace_s: float
    log_level: str
    # json (one object per line, for log collectors) or text (for people).
    log_format: str
    # HOST:PORT of this process's /metrics; "off" serves none.
    metrics_addr: str
    rpc_timeout_s: float
    # Participants: how long a reservation may stay HELD before asking the coordinator.
    reservation_timeout_s: float
    order_service_addr: str
    # Tests only: exit abruptly at a named point (see shopmesh.faults).
    fault_point: str
    # Traces: off unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector.
    tracing: TracingSettings = TracingSettings()

    @classmethod
    def from_env(
        cls, service: str, default_port: int, default_metrics_port: int
    ) -> "ServiceSettings":
        return cls(
            service=service,
            listen_addr=env_str("LISTEN_ADDR", f"127.0.0.1:{default_port}"),
            store=_one_of("SHOP_STORE", env_str("SHOP_STORE", "sqlite"), STORES),
            db_path=data_dir() / f"{service}.sqlite3",
            sqlite_synchronous=_one_of(
                "SQLITE_SYNCHRONOUS",
                env_str("SQLITE_SYNCHRONOUS", "FULL").upper(),
                {"NORMAL", "FULL", "EXTRA"},
            ),
            spanner=SpannerSettings.from_env(service),
            kafka=KafkaSettings.from_env(service),
            grace_s=env_float("SHUTDOWN_GRACE_S", 5.0),
            log_level=env_str("LOG_LEVEL", "INFO"),
            log_format=env_str("LOG_FORMAT", "json").lower(),
            metrics_addr=env_str("METRICS_ADDR", f"127.0.0.1:{default_metrics_port}"),
            rpc_timeout_s=env_float("RPC_TIMEOUT_S", 2.0),
            reservation_timeout_s=env_float("RESERVATION_TIMEOUT_S", 15.0),
            order_service_addr=env_str("ORDER_SERVICE_ADDR", "127.0.0.1:50053"),
            fault_point=env_str("SHOP_FAULT_POINT", ""),
            tracing=tracing_from_env(service),
        )


def tracing_from_env(service: str) -> TracingSettings:
    """The standard OpenTelemetry variables (the SDK's other OTEL_* ones it reads itself)."""
    return TracingSettings(
        otlp_endpoint=env_str(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env_str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        ),
        service_name=env_str("OTEL_SERVICE_NAME", service),
        sampler=env_str("OTEL_TRACES_SAMPLER", "parentbased_always_on").lower(),
        sampler_arg=env_float("OTEL_TRACES_SAMPLER_ARG", 1.0),
    )


def _one_of(name: str, value: str, allowed: set[str]) -> str:
    if value not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(sorted(allowed))}, got {value!r}")
    return value
