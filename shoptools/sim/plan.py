"""What one seed runs: the shop's data, the workload and the faults, all drawn up front from
the seed's generator (the run itself draws the network's dice from its own)."""

import random
from dataclasses import dataclass, field

# Protocol settings of the simulated shop, in virtual seconds.
CHECKOUT_TIMEOUT_S = 1.0
RPC_TIMEOUT_S = 0.3
LEASE_S = 2.0
RECOVERY_INTERVAL_S = 0.5
HOLD_TIMEOUT_S = 3.0
STORE_LATENCY_S = 0.003
# Faults and workload happen in the first phase; then the network heals, every process is
# up again, and the second phase must bring every checkout to its end.
FAULT_PHASE_S = 6.0
SETTLE_PHASE_S = 40.0
OP_KINDS = ("checkout", "repeat", "add_item", "remove_item", "delete", "pay", "refund")
OP_WEIGHTS = (50, 15, 8, 8, 4, 8, 7)
FAULT_KINDS = ("crash", "partition")


@dataclass
class Op:
    at: float
    kind: str
    order_id: str
    item_id: str = ""
    quantity: int = 1


@dataclass
class Fault:
    at: float
    kind: str
    target: str
    duration_s: float


@dataclass
class Plan:
    coordinators: int
    items: dict[str, tuple[int, int]]  # item -> (stock, price)
    users: dict[str, int]  # user -> credit
    orders: dict[str, tuple[str, dict[str, int]]]  # order -> (user, units per item)
    ops: list[Op]
    faults: list[Fault]
    drop: float
    duplicate: float
    max_delay_s: float
    store_failure: float
    services: list[str] = field(default_factory=list)


def draw(rng: random.Random) -> Plan:
    coordinators = rng.choice((1, 1, 2))
    items = {f"i{n}": (rng.randint(0, 20), rng.randint(0, 5)) for n in range(rng.randint(1, 4))}
    users = {f"u{n}": rng.randint(0, 120) for n in range(rng.randint(1, 3))}
    size = rng.choice((1, 3, 8, 20, 40)) if rng.random() > 0.05 else 300
    orders = {
        f"o{n}": (
            rng.choice(list(users)),
            {
                item: rng.randint(1, 3)
                for item in rng.sample(list(items), rng.randint(1, len(items)))
            },
        )
        for n in range(max(1, size // 2))
    }
    burst = rng.random() < 0.2  # everything at once: batches as large as the workload
    start = rng.uniform(0.0, FAULT_PHASE_S)
    ops = [
        Op(
            at=start if burst else rng.uniform(0.0, FAULT_PHASE_S),
            kind=rng.choices(OP_KINDS, OP_WEIGHTS)[0],
            order_id=rng.choice(list(orders)),
            item_id=rng.choice(list(items)),
            quantity=rng.randint(1, 2),
        )
        for _ in range(size)
    ]
    services = [*(f"order-{n}" for n in range(coordinators)), "stock", "payment"]
    faults = [
        Fault(
            at=rng.uniform(0.0, FAULT_PHASE_S),
            kind=rng.choice(FAULT_KINDS),
            target=rng.choice(services),
            duration_s=rng.choice((0.05, 0.3, 1.0, 2.5, 5.0)),
        )
        for _ in range(rng.choice((0, 1, 2, 4, 8)))
    ]
    return Plan(
        coordinators=coordinators,
        items=items,
        users=users,
        orders=orders,
        ops=sorted(ops, key=lambda op: op.at),
        faults=sorted(faults, key=lambda fault: fault.at),
        drop=rng.choice((0.0, 0.0, 0.02, 0.1, 0.3)),
        duplicate=rng.choice((0.0, 0.0, 0.05, 0.3)),
        max_delay_s=rng.choice((0.002, 0.02, 0.2, 0.5)),
        services=services,
        # Drawn last, so that adding it left every earlier draw of a seed as it was.
        store_failure=rng.choice((0.0, 0.0, 0.0, 0.01, 0.05)),
    )
