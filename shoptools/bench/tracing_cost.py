"""What tracing costs: `--tracing off,0.01,1.0` measures the stack's CPU per checkout with
tracing off and at each sampling ratio given, side by side in one run.

One local stack per setting runs at the same time (a traced one with the OTLP receiver of
shoptools.traces, writing its run/traces.jsonl, and Envoy sampling the same ratio). Then, round
after round, each stack gets the same open-loop load in turn (`--rate`, default 200/s, for
`--warmup` + `--duration`), each round on orders not used before, and the CPU its stock,
payment, order and Envoy processes used is divided by the checkouts they paid. On a shared
machine the neighbours' load changes from minute to minute: alternating short phases lets every
setting see the same weather, and the spread of the rounds shows how much it mattered.
"""

import contextlib
import dataclasses
import json
import pathlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator

from shoptools.bench import consistency
from shoptools.bench.cpu import CpuMeter
from shoptools.bench.dataset import initialise
from shoptools.bench.drive import drive
from shoptools.bench.load import run_async
from shoptools.bench.options import Settings
from shoptools.bench.runner import checkout_load, local_config
from shoptools.bench.stats import latency_ms, measured, status_counts
from shoptools.devstack import Stack, StackConfig, free_ports

DEFAULT_RATE = 200.0
# The stack's own processes: the broker and the trace receiver are not the shop's cost.
SHOP_PROCESSES = ("stock", "payment", "order", "envoy")


def parse_tracing(value: str) -> tuple[str, ...]:
    """ "off,0.01,1.0" -> ("off", "0.01", "1.0"); a ratio must be in (0, 1]."""
    settings = tuple(part.strip() for part in value.split(",") if part.strip())
    for setting in settings:
        if setting != "off" and not 0 < float(setting) <= 1:
            raise ValueError(f"a sampling ratio is in (0, 1], got {setting}")
    if len(set(settings)) != len(settings) or not settings:
        raise ValueError("name each setting once: off and/or sampling ratios")
    return settings


def stack_config(base: pathlib.Path, setting: str) -> StackConfig:
    if setting == "off":
        return local_config(base)
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": setting}
    config = local_config(base, env)
    config.otlp_collector = f"127.0.0.1:{free_ports(1)[0]}"
    config.trace_receiver = True
    return config


@contextlib.contextmanager
def stacks(settings: tuple[str, ...]) -> Iterator[dict[str, Stack]]:
    base = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-bench-tracing-"))
    started: dict[str, Stack] = {}
    try:
        for setting in settings:
            stack = Stack(stack_config(base / setting, setting))
            started[setting] = stack
            stack.start()
            print(f"tracing {setting}: stack up at {stack.config.rest_url}", flush=True)
        yield started
    finally:
        for stack in started.values():
            stack.stop()
        shutil.rmtree(base, ignore_errors=True)


def phase(stack: Stack, settings: Settings, rate: float, round_: int, rounds: int) -> dict:
    spec = dataclasses.replace(
        checkout_load(stack.config.rest_url, settings),
        rate=rate,
        seed=settings.seed + round_,
        id_offset=round_,  # each round its own orders: every checkout pays a new one
        id_stride=rounds,
    )
    pids = {name: p.pid for name, p in stack.processes.items()}
    meter = CpuMeter(pids)
    started = time.monotonic()
    load = drive(spec, 1, settings.warmup, f"round {round_ + 1}")
    elapsed = time.monotonic() - started
    cores = meter.cores()
    shop_cpu_s = elapsed * sum(c for n, c in cores.items() if n.split("-")[0] in SHOP_PROCESSES)
    paid = status_counts(load.samples).get("200", 0)
    window = measured(load.samples, settings.warmup, settings.duration)
    return {
        "samples": load.samples,
        "checkouts": paid,
        "cpu_ms_per_checkout": round(1000 * shop_cpu_s / paid, 3) if paid else None,
        "receiver_cores": cores.get("traces"),
        "latency_ms": latency_ms(window),
        "status_counts": status_counts(load.samples),
    }


def run(settings: Settings) -> int:
    rate = settings.rate or DEFAULT_RATE
    rounds = settings.tracing_rounds
    figures: dict[str, list[dict]] = {s: [] for s in settings.tracing}
    with stacks(settings.tracing) as running:
        for stack in running.values():
            initialise(stack.config.rest_url, settings)
        for round_ in range(rounds):
            for setting, stack in running.items():
                print(f"tracing {setting}, round {round_ + 1} of {rounds}", flush=True)
                figures[setting].append(phase(stack, settings, rate, round_, rounds))
        checks = {
            setting: run_async(
                consistency.check(
                    stack.config.rest_url,
                    [s for p in figures[setting] for s in p["samples"]],
                    settings.stock,
                    settings.credit,
                )
            )
            for setting, stack in running.items()
        }
        exited = [f"{s}: {name}" for s, stack in running.items() for name in stack.exited()]
    result = summary(settings, rate, figures, checks, exited)
    settings.out.mkdir(parents=True, exist_ok=True)
    (settings.out / "tracing.json").write_text(json.dumps(result, indent=2))
    print_summary(result, settings.out / "tracing.json")
    return 0 if result["passed"] else 1


def summary(settings, rate, figures: dict, checks: dict, exited: list[str]) -> dict:
    by_setting = {}
    for setting, phases in figures.items():
        cpu = [p["cpu_ms_per_checkout"] for p in phases if p["cpu_ms_per_checkout"] is not None]
        by_setting[setting] = {
            "cpu_ms_per_checkout_by_round": cpu,
            "cpu_ms_per_checkout_median": round(statistics.median(cpu), 3) if cpu else None,
            "p50_ms_by_round": [p["latency_ms"].get("p50") for p in phases],
            "p99_ms_by_round": [p["latency_ms"].get("p99") for p in phases],
            "receiver_cores_by_round": [p["receiver_cores"] for p in phases],
            "status_counts_by_round": [p["status_counts"] for p in phases],
            "consistency_passed": checks[setting]["passed"],
        }
    server_errors = sum(
        n
        for phases in figures.values()
        for p in phases
        for status, n in p["status_counts"].items()
        if status.isdigit() and int(status) >= 500
    )
    passed = not exited and not server_errors and all(c["passed"] for c in checks.values())
    return {
        "rate": rate,
        "rounds": settings.tracing_rounds,
        "seconds_per_phase": settings.warmup + settings.duration,
        "data": {"users": settings.users, "items": settings.items, "orders": settings.orders},
        "settings": by_setting,
        "server_errors": server_errors,
        "exited": exited,
        "passed": passed,
    }


def print_summary(result: dict, path: pathlib.Path) -> None:
    print(
        f"\ntracing cost: {result['rate']:g} checkouts/s offered, {result['rounds']} rounds of"
        f" {result['seconds_per_phase']:g} s per setting, alternating"
    )
    print(f"{'tracing':>8}  {'CPU ms/checkout (median)':>24}  {'by round':<28}  p99 ms by round")
    for setting, figures in result["settings"].items():
        rounds = ", ".join(f"{c:.2f}" for c in figures["cpu_ms_per_checkout_by_round"])
        p99 = ", ".join(f"{v:.0f}" for v in figures["p99_ms_by_round"] if v is not None)
        median = figures["cpu_ms_per_checkout_median"]
        print(f"{setting:>8}  {median if median is not None else '-':>24}  {rounds:<28}  {p99}")
    verdict = "passed" if result["passed"] else f"FAILED: {result}"
    print(f"consistency and 5xx: {verdict}; report: {path}")
