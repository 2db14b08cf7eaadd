"""The command line of the benchmark."""

import argparse
import pathlib
import random
from dataclasses import dataclass

from shoptools.bench import __doc__ as USAGE


@dataclass(frozen=True)
class Settings:
    url: str | None
    users: int
    items: int
    orders: int
    credit: int
    stock: int
    price: int
    rate: float | None
    concurrency: int
    connections: int
    duration: float
    warmup: float
    processes: int
    timeout: float
    calibrate: float
    out: pathlib.Path
    seed: int
    profile: bool = False
    # --tracing: settings compared side by side (shoptools.bench.tracing_cost); () = not.
    tracing: tuple[str, ...] = ()
    tracing_rounds: int = 3
    find_duration: float = 0.0
    quarter_duration: float = 0.0
    compare: str | None = None

    @property
    def mode(self) -> str:
        return "open" if self.rate else "closed"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shoptools.bench",
        description=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--url", help="base URL of a running gateway (default: start a local stack)")
    add("--users", type=int, default=100_000, help="users initialised (default 100000)")
    add("--items", type=int, default=100_000, help="items initialised (default 100000)")
    add(
        "--orders",
        type=int,
        default=200_000,
        help="two-line orders initialised (default 200000: fresh ones for 60 s at 2,700/s)",
    )
    add("--credit", type=int, default=1_000_000, help="starting credit of each user")
    add("--stock", type=int, default=1_000_000, help="starting stock of each item")
    add("--price", type=int, default=1, help="price of each item")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float, help="open loop: checkouts offered per second")
    load.add_argument("--concurrency", type=int, help="closed loop: clients (default 64)")
    add("--connections", type=int, help="keep-alive connections (default: clients, or 256)")
    add("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    add("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    add("--processes", type=int, default=1, help="load generator processes (default 1)")
    add("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    add("--calibrate", type=float, default=3.0, help="seconds measuring the generator; 0: skip")
    add("--out", type=pathlib.Path, default=pathlib.Path("build/bench"), help="report folder")
    add("--seed", type=int, help="random seed of the order ids (default: random)")
    add(
        "--profile",
        action="store_true",
        help="local stack only: py-spy flame graphs of the services over the measured load,"
        " <out>/profile-<service>.svg",
    )
    add(
        "--tracing",
        metavar="off,0.01,1.0",
        help="CPU per checkout with tracing off and at these sampling ratios, one local stack"
        " each, measured in alternating rounds (default --rate 200); <out>/tracing.json",
    )
    add("--tracing-rounds", type=int, default=3, help="with --tracing: rounds (default 3)")
    add(
        "--find-duration",
        type=float,
        default=20.0,
        help="seconds of GET /stock/find before the checkouts, at the same clients and"
        " connections: the ceiling a checkout is compared with (default 20; 0: skip)",
    )
    add(
        "--quarter-duration",
        type=float,
        default=20.0,
        help="closed loop: seconds offering a quarter of the measured checkouts/s afterwards"
        " (open loop, fresh orders), for its p99 (default 20; 0: skip)",
    )
    add(
        "--compare",
        metavar="URL",
        help="another gateway (e.g. the course template) to run the same checkout load against"
        " in the same run, after this one; prints the ratio",
    )
    return parser


def parse_settings(argv: list[str]) -> Settings:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_ranges(parser, args)
    clients = args.concurrency or 64
    return Settings(
        url=args.url.rstrip("/") if args.url else None,
        users=args.users,
        items=args.items,
        orders=args.orders,
        credit=args.credit,
        stock=args.stock,
        price=args.price,
        rate=args.rate,
        concurrency=clients,
        connections=args.connections or (256 if args.rate else clients),
        duration=args.duration,
        warmup=args.warmup,
        processes=args.processes,
        timeout=args.timeout,
        calibrate=args.calibrate,
        out=args.out,
        seed=args.seed if args.seed is not None else random.randrange(2**31),
        profile=args.profile,
        tracing=_tracing(parser, args.tracing),
        tracing_rounds=args.tracing_rounds,
        find_duration=args.find_duration,
        quarter_duration=0.0 if args.rate else args.quarter_duration,
        compare=args.compare.rstrip("/") if args.compare else None,
    )


def _tracing(parser: argparse.ArgumentParser, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    from shoptools.bench.tracing_cost import parse_tracing

    try:
        return parse_tracing(value)
    except ValueError as error:
        parser.error(f"--tracing: {error}")


def check_ranges(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    positive = ["users", "items", "orders", "credit", "stock", "processes", "duration"]
    for name in positive:
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    for name in ["rate", "concurrency", "connections"]:
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    if args.tracing and (args.url or args.profile or args.concurrency):
        parser.error(
            "--tracing starts its own stacks at a fixed --rate: drop --url, --profile"
            " and --concurrency"
        )
    if args.tracing_rounds <= 0:
        parser.error("--tracing-rounds must be positive")
    if args.profile and args.url:
        parser.error("--profile needs the local stack (it attaches to its processes): drop --url")
    if args.find_duration < 0 or args.quarter_duration < 0:
        parser.error("--find-duration and --quarter-duration must be >= 0")
    if args.price < 0 or args.warmup < 0 or args.calibrate < 0 or args.timeout <= 0:
        parser.error("--price, --warmup and --calibrate must be >= 0, --timeout > 0")
