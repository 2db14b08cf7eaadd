"""Calling another service: channels that retry only on UNAVAILABLE, a deadline on every call,
the current request id sent along (so the peer logs the same one), and the peer's refusals
re-raised as our own business errors."""

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from shopmesh.rpc.status import translate_rpc_error
from shopmesh.telemetry import tracing
from shopmesh.telemetry.request_context import outgoing_metadata

Resp = TypeVar("Resp")


def retry_service_config(service_names: list[str]) -> str:
    # UNAVAILABLE means the call did not reach a server that processed it, so a retry is safe.
    return json.dumps(
        {
            # Per-call balancing over every address the name resolves to (a headless
            # Kubernetes Service resolves to one address per pod).
            "loadBalancingConfig": [{"round_robin": {}}],
            "methodConfig": [
                {
                    "name": [{"service": name} for name in service_names],
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.05s",
                        "maxBackoff": "0.5s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


def open_channel(target: str, service_names: list[str]) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", retry_service_config(service_names)),
            # A peer that restarts is reachable again within a second, not after gRPC's
            # default backoff (1 s growing to 120 s).
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ],
    )


async def call(
    method: Callable[..., Awaitable[Resp]], request: object, *, timeout_s: float, peer: str
) -> Resp:
    """One unary call with a deadline; refusals come back as ShopError. The call waits (within
    its deadline) for a peer that is reconnecting instead of failing at once."""
    # Metadata per call rather than a client interceptor on the channel: grpc.aio runs every
    # intercepted call in an extra task, a cost on checkout's hot path. For the same reason
    # the trace span is opened here, and only when tracing is on.
    if tracing.enabled():
        return await _traced_call(method, request, timeout_s=timeout_s, peer=peer)
    try:
        return await method(
            request, timeout=timeout_s, wait_for_ready=True, metadata=outgoing_metadata()
        )
    except grpc.aio.AioRpcError as error:
        raise translate_rpc_error(error, peer) from error


async def _traced_call(
    method: Callable[..., Awaitable[Resp]], request: object, *, timeout_s: float, peer: str
) -> Resp:
    # A grpc.aio multicallable knows its path only privately; the peer's name otherwise.
    path = getattr(method, "_method", b"")
    name = path.decode() if isinstance(path, bytes) and path else f"{peer} call"
    with tracing.client_span(name, peer) as trace_metadata:
        metadata = [*(outgoing_metadata() or ()), *trace_metadata]
        try:
            return await method(request, timeout=timeout_s, wait_for_ready=True, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise translate_rpc_error(error, peer) from error
