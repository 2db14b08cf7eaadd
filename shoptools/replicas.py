"""How many processes of each service the local stack runs, what each is called and where it
listens.

`SHOP_REPLICAS=N` runs N processes of every service, `STOCK_REPLICAS` (and so on) overrides it
for one. The first process of a service keeps the service's name and addresses (`stock`,
127.0.0.1:50051, metrics :9101); the i-th more is `stock-<i+1>`, listening REPLICA_PORT_STEP * i
ports higher (stock-2: 50061, metrics 9111), so that no two processes share a port.
"""

import os

REPLICA_PORT_STEP = 10


def replica_counts(services: tuple[str, ...], env: dict[str, str] | None = None) -> dict[str, int]:
    env = os.environ if env is None else env
    every = _count(env, "SHOP_REPLICAS", 1)
    return {name: _count(env, f"{name.upper()}_REPLICAS", every) for name in services}


def _count(env, variable: str, default: int) -> int:
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{variable} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def replica_name(service: str, index: int) -> str:
    return service if index == 0 else f"{service}-{index + 1}"


def split_name(process: str) -> tuple[str, int]:
    """`stock` -> ("stock", 0); `stock-3` -> ("stock", 2)."""
    service, _, number = process.rpartition("-")
    if service and number.isdigit() and int(number) >= 2:
        return service, int(number) - 1
    return process, 0


def shifted(address: str, index: int) -> str:
    """The address of the index-th replica of a service whose first one listens on `address`
    ("off" stays off)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return address
    return f"{host}:{int(port) + REPLICA_PORT_STEP * index}"


def grpc_target(addresses: list[str]) -> str:
    """A gRPC channel target for every replica: the address itself for one, else an `ipv4:`
    list that the channel's round_robin policy balances over (and leaves out the ones it
    cannot reach)."""
    if len(addresses) == 1:
        return addresses[0]
    return "ipv4:" + ",".join(addresses)
