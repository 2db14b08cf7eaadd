"""Calling another service: channels that retry only on UNAVAILABLE, a deadline on every call,
and the peer's refusals re-raised as our own business errors."""

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from shopmesh.grpc_errors import translate_rpc_error

Resp = TypeVar("Resp")


def retry_service_config(service_names: list[str]) -> str:
    # UNAVAILABLE means the call did not reach a server that processed it, so a retry is safe.
    return json.dumps(
        {
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
            ]
        }
    )


def open_channel(target: str, service_names: list[str]) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", retry_service_config(service_names)),
        ],
    )


async def call(
    method: Callable[..., Awaitable[Resp]], request: object, *, timeout_s: float, peer: str
) -> Resp:
    """One unary call with a deadline; refusals come back as ShopError."""
    try:
        return await method(request, timeout=timeout_s)
    except grpc.aio.AioRpcError as error:
        raise translate_rpc_error(error, peer) from error
