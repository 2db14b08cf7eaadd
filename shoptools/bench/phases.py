"""The phases beside the checkout load: the GET /stock/find ceiling before it, the light-load
phase at a quarter of its rate after it, and the same checkout load on another gateway."""

import dataclasses

from shoptools.bench import figures
from shoptools.bench.cpu import CpuMeter
from shoptools.bench.dataset import initialise
from shoptools.bench.drive import Run, drive
from shoptools.bench.load import NO_ANSWER, LoadSpec
from shoptools.bench.options import Settings
from shoptools.bench.stats import series, status_counts, summarize

FIND_WARMUP_S = 2.0
QUARTER_WARMUP_S = 2.0
QUARTER_CONNECTIONS = 256


def checkout_load(url: str, settings: Settings) -> LoadSpec:
    return LoadSpec(
        base_url=url,
        method="POST",
        path="/orders/checkout/{}",
        ids=figures.split_orders(settings.orders, settings.quarter_duration > 0),
        rate=settings.rate,
        phase=0.0,
        clients=settings.concurrency,
        connections=settings.connections,
        seconds=settings.warmup + settings.duration,
        start_at=0.0,
        seed=settings.seed,
        timeout_s=settings.timeout,
    )


def metered(spec: LoadSpec, settings: Settings, pids: dict, warmup: float, label: str):
    """Drive `spec`; the run and the CPU seconds each stack process used meanwhile."""
    meter = CpuMeter(pids) if pids else None
    done = drive(spec, settings.processes, warmup, label)
    return done, meter.used() if meter else None


def answered(done: Run) -> int:
    return sum(1 for s in done.samples if s[2] != NO_ANSWER)


def phase_figures(
    done: Run, cpu: dict | None, warmup: float, seconds: float, *, checkouts: bool = False
) -> dict:
    """Throughput, latency and statuses of the measured window; CPU over the whole phase.
    For `checkouts` the latency counts each order's first request only: a checkout of an
    order the phase paid already is answered from the order's row, as cheaply as a read
    (`repeated_requests` says how many requests repeated an order; a phase runs out of fresh
    orders when --orders leaves it too few). Its per-second series counts every request."""
    window = summarize(done.samples, warmup, seconds, first_requests=checkouts)
    result = {
        "requests_per_s": window["throughput"]["requests_per_s"],
        "latency_ms": window["latency_ms"],
        "status_counts": window["status_counts"],
        "non_2xx": figures.non_2xx(status_counts(done.samples)),
        "stack_cpu_ms_per_request": figures.cpu_ms_per_request(cpu, answered(done)),
        "series": series(done.samples, warmup, seconds),
    }
    if checkouts:
        result["repeated_requests"] = window["repeated_requests"]
    return result


def find_phase(url: str, settings: Settings, pids: dict) -> dict | None:
    """GET /stock/find/{random item} at the checkout load's clients and connections."""
    if not settings.find_duration:
        return None
    spec = dataclasses.replace(
        checkout_load(url, settings),
        method="GET",
        path="/stock/find/{}",
        ids=settings.items,
        rate=None,
        seconds=FIND_WARMUP_S + settings.find_duration,
        seed=settings.seed + 1,
    )
    print(f"find phase: {settings.concurrency} clients on GET /stock/find/{{item}}", flush=True)
    done, cpu = metered(spec, settings, pids, FIND_WARMUP_S, "find")
    return {
        "request": "GET /stock/find/{random item}",
        "clients": settings.concurrency,
        "connections": settings.connections,
        "seconds": settings.find_duration,
        **phase_figures(done, cpu, FIND_WARMUP_S, settings.find_duration),
    }


def quarter_phase(url: str, settings: Settings, pids: dict, saturated: float) -> tuple:
    """Open loop at a quarter of the saturated checkouts/s, on orders the load left alone.

    Returns the phase's figures (None when skipped) and its samples, which the consistency
    check needs beside the load's."""
    rate = figures.quarter_rate(saturated) if settings.quarter_duration else None
    if rate is None:
        return None, []
    spec = dataclasses.replace(
        checkout_load(url, settings),
        ids=settings.orders,
        id_start=figures.split_orders(settings.orders, True),
        rate=rate,
        connections=QUARTER_CONNECTIONS,
        seconds=QUARTER_WARMUP_S + settings.quarter_duration,
        seed=settings.seed + 2,
    )
    print(f"quarter-rate phase: {rate:g} checkouts/s offered (open loop)", flush=True)
    done, cpu = metered(spec, settings, pids, QUARTER_WARMUP_S, "quarter")
    result = {
        "offered_per_s": rate,
        "seconds": settings.quarter_duration,
        "orders": [spec.id_start, settings.orders],
        **phase_figures(done, cpu, QUARTER_WARMUP_S, settings.quarter_duration, checkouts=True),
    }
    return result, done.samples


def compare_phase(settings: Settings, ours: float) -> dict | None:
    """The same data and the same checkout load on --compare's gateway, after ours."""
    if not settings.compare:
        return None
    print(f"compare: the same load on {settings.compare}", flush=True)
    try:
        init = initialise(settings.compare, settings)
    except (SystemExit, OSError) as error:  # an unreachable or refusing gateway: say so
        print(f"compare: could not initialise {settings.compare}: {error}", flush=True)
        return {"url": settings.compare, "error": str(error), "ratio": None}
    spec = dataclasses.replace(checkout_load(settings.compare, settings), ids=settings.orders)
    done = drive(spec, settings.processes, settings.warmup, "compare")
    window = summarize(done.samples, settings.warmup, settings.duration)
    theirs = figures.paid_per_s(window["throughput"])
    return {
        "url": settings.compare,
        "init_seconds": init,
        "throughput": window["throughput"],
        "latency_ms": window["latency_ms"],
        "status_counts": window["status_counts"],
        "ratio": figures.ratio(ours, theirs),
        "series": series(done.samples, settings.warmup, settings.duration),
    }
