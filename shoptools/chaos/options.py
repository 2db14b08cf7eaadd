"""The command line of `make chaos`."""

import argparse
import pathlib
from dataclasses import dataclass

from shoptools.chaos import __doc__ as USAGE


@dataclass(frozen=True)
class Settings:
    rate: float
    duration: float
    warmup: float
    kill_every: float
    victims: list[str] | None
    pause: str | None
    pause_s: float
    partition: str | None
    partition_s: float
    replicas: int
    orders: int
    out: pathlib.Path
    seed: int
    timeout: float
    # The bench's dataset (shoptools.bench.dataset): plenty of everything, so that a refusal
    # means a fault, never an empty shelf.
    users: int = 10_000
    items: int = 10_000
    credit: int = 1_000_000
    stock: int = 1_000_000
    price: int = 1


def parse_settings(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m shoptools.chaos",
        description=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--rate", type=float, default=200.0, help="checkouts offered per second (default 200)")
    add("--duration", type=float, default=60.0, help="seconds of load under faults")
    add("--warmup", type=float, default=3.0, help="seconds of load before the first fault")
    add("--kill-every", type=float, default=10.0, help="seconds between kills; 0: no kills")
    add("--victim", action="append", dest="victims", help="process to kill (default: in turn)")
    add("--pause", help="process to pause once (SIGSTOP), half way through")
    add("--pause-s", type=float, default=5.0, help="how long the pause lasts (default 5)")
    add("--partition", help="process to cut off from the others once (see above), half way")
    add("--partition-s", type=float, default=5.0, help="how long it lasts (default 5)")
    add("--replicas", type=int, default=1, help="processes of each service (default 1)")
    add("--orders", type=int, help="orders initialised (default: enough for no repeats)")
    add("--out", type=pathlib.Path, default=pathlib.Path("build/chaos"), help="report folder")
    add("--seed", type=int, default=16, help="random seed of the order ids")
    add("--timeout", type=float, default=30.0, help="per-request timeout of the load")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.replicas < 1:
        parser.error("--rate and --duration must be positive, --replicas at least 1")
    orders = args.orders or int(args.rate * (args.warmup + args.duration) * 1.2) + 100
    return Settings(
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        kill_every=args.kill_every,
        victims=args.victims,
        pause=args.pause,
        pause_s=args.pause_s,
        partition=args.partition,
        partition_s=args.partition_s,
        replicas=args.replicas,
        orders=orders,
        out=args.out,
        seed=args.seed,
        timeout=args.timeout,
    )
