"""`run/stack.json`: where a running local stack listens and which process is which, for the
tools that work on a stack they did not start (the auditor finds the local broker there, the
chaos command its processes). Written once the stack is up, rewritten after every restart,
removed when the stack stops.

    {"kafka_bootstrap_servers": "127.0.0.1:9092",
     "kafka_local_broker": {"storage": "memory", "started_at": [1764625000.1, ...]},
     "rest_url": "http://127.0.0.1:8000",
     "grpc_gateway": "127.0.0.1:8081", "envoy_admin": "127.0.0.1:9901",
     "services": {"stock": ["127.0.0.1:50051", ...], ...},
     "metrics": {"stock": ["127.0.0.1:9101", ...], ...},
     "processes": {"stock": 1234, "envoy": 1240, ...}, "data_dir": ..., "run_dir": ...}
"""

import contextlib
import json
import os
import pathlib
import socket
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

PROBE_TIMEOUT_S = 0.25


def stack_file(config) -> pathlib.Path:
    return config.run_dir / "stack.json"


def describe(stack) -> dict:
    config = stack.config
    env = {**os.environ, **config.env}
    return {
        "kafka_bootstrap_servers": env.get("KAFKA_BOOTSTRAP_SERVERS", ""),
        # The local broker keeps its stream in memory: each (re)start begins an empty one, so
        # an audit covers only what came after the last of these (README, "Events").
        "kafka_local_broker": (
            {"storage": "memory", "started_at": list(stack.broker_starts)}
            if config.kafka_port
            else None
        ),
        "rest_url": config.rest_url,
        "grpc_gateway": config.grpc_addr,
        "envoy_admin": config.admin_addr,
        "services": {name: list(addrs) for name, addrs in config.replica_addrs.items()},
        "metrics": {name: list(addrs) for name, addrs in config.replica_metrics_addrs.items()},
        "processes": {
            name: process.pid for name, process in stack.processes.items() if process.poll() is None
        },
        "data_dir": str(config.data_dir),
        "run_dir": str(config.run_dir),
    }


def write_stack_file(stack) -> None:
    path = stack_file(stack.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_suffix(".json.tmp")
    fresh.write_text(json.dumps(describe(stack), indent=2) + "\n")
    fresh.replace(path)  # readers never see half a file


def default_run_dir() -> pathlib.Path:
    """Where `make up` keeps run/: $SHOP_RUN_DIR, else ./run."""
    return pathlib.Path(os.environ.get("SHOP_RUN_DIR") or "run")


def read_stack_file(run_dir: pathlib.Path | str | None = None) -> dict | None:
    """The running local stack's description, or None when there is no readable one (no stack
    runs there, or it is being rewritten by a stack that has just stopped)."""
    path = pathlib.Path(run_dir if run_dir is not None else default_run_dir()) / "stack.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def probe_ready(stack, name: str) -> bool:
    """One quick look, without waiting: does the process serve?"""
    config = stack.config
    if name == "envoy":
        with contextlib.suppress(OSError):
            url = f"http://{config.admin_addr}/ready"
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):
                return True
        return False
    if name == "kafka":
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", config.kafka_port), PROBE_TIMEOUT_S).close()
            return True
        return False
    with grpc.insecure_channel(stack.listen_addr(name)) as channel:
        with contextlib.suppress(grpc.RpcError):
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=PROBE_TIMEOUT_S
            )
            return reply.status == health_pb2.HealthCheckResponse.SERVING
    return False
