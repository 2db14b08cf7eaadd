"""The benchmark from start to end: stack, data, generator calibration, load, check, report."""

import contextlib
import dataclasses
import pathlib
import shutil
import tempfile
import threading
from collections.abc import Iterator

from shoptools.bench import consistency, report
from shoptools.bench.cpu import CpuMeter
from shoptools.bench.dataset import initialise
from shoptools.bench.drive import START_DELAY_S, Run, drive
from shoptools.bench.load import NO_ANSWER, LoadSpec, Sample, event_loop_name, run_async
from shoptools.bench.options import Settings
from shoptools.bench.profile import Profiler
from shoptools.bench.stats import series, status_counts, summarize
from shoptools.devstack import Stack, StackConfig

# Envoy answers this itself (404, no such method): no Python service is involved.
CALIBRATION_PATH = "/__bench/calibrate/{}"


@dataclasses.dataclass
class Target:
    url: str
    stack: Stack | None = None
    failed: bool = False


@contextlib.contextmanager
def target(settings: Settings) -> Iterator[Target]:
    """The gateway to load: --url, or a local stack in a temporary directory."""
    if settings.url:
        yield Target(settings.url)
        return
    base = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-bench-"))
    print(f"starting the local stack in {base}", flush=True)
    stack = Stack(StackConfig.ephemeral(base))
    here = Target(stack.config.rest_url, stack, failed=True)
    try:
        stack.start()
        print(f"stack is up: {here.url}", flush=True)
        yield here
    finally:
        stack.stop()
        if here.failed:
            print(f"the stack's logs are kept in {stack.config.run_dir}", flush=True)
        else:
            shutil.rmtree(base, ignore_errors=True)


def checkout_load(url: str, settings: Settings) -> LoadSpec:
    return LoadSpec(
        base_url=url,
        method="POST",
        path="/orders/checkout/{}",
        ids=settings.orders,
        rate=settings.rate,
        phase=0.0,
        clients=settings.concurrency,
        connections=settings.connections,
        seconds=settings.warmup + settings.duration,
        start_at=0.0,
        seed=settings.seed,
        timeout_s=settings.timeout,
    )


def calibrate(url: str, settings: Settings) -> dict | None:
    """How many requests/s this generator pushes when the server does (almost) nothing."""
    if not settings.calibrate:
        return None
    clients = max(64, settings.concurrency)
    spec = dataclasses.replace(
        checkout_load(url, settings),
        method="GET",
        path=CALIBRATION_PATH,
        ids=1,
        rate=None,
        clients=clients,
        connections=clients,
        seconds=settings.calibrate,
    )
    print(f"generator: {clients} clients on GET {CALIBRATION_PATH.format(0)}", flush=True)
    done = drive(spec, settings.processes, warmup=0.0, label="generator")
    return {
        "requests_per_s": round(len(done.samples) / settings.calibrate, 1),
        "request": f"GET {CALIBRATION_PATH.format(0)} (answered by Envoy: 404)",
        "clients": clients,
        "seconds": settings.calibrate,
        "status_counts": status_counts(done.samples),
        **generator_cpu(done),
    }


def generator_cpu(done: Run) -> dict:
    """CPU the generator used: below 1 core per process, it was not what limited the rate."""
    return {
        "processes_cpu_cores": round(done.cpu_seconds / done.seconds, 2),
        "cpu_ms_per_request": done.cpu_per_request_ms(),
        "requests_per_cpu_second": round(len(done.samples) / max(done.cpu_seconds, 1e-9)),
    }


def run(settings: Settings) -> int:
    if settings.tracing:
        from shoptools.bench import tracing_cost  # its own stacks, side by side

        return tracing_cost.run(settings)
    with target(settings) as shop:
        init = initialise(shop.url, settings)
        capacity = calibrate(shop.url, settings)
        print(f"load: {describe_load(settings)}", flush=True)
        pids = {n: p.pid for n, p in shop.stack.processes.items()} if shop.stack else {}
        meter = CpuMeter(pids) if pids else None
        profiler = Profiler(pids, settings.out, settings.duration) if settings.profile else None
        with profiling(profiler, START_DELAY_S + settings.warmup):
            load = drive(
                checkout_load(shop.url, settings), settings.processes, settings.warmup, "load"
            )
        stack_cpu = meter.cores() if meter else None
        check = run_async(
            consistency.check(shop.url, load.samples, settings.stock, settings.credit)
        )
        exited = shop.stack.exited() if shop.stack else []
        result = build_report(settings, shop, init, capacity, load, check, exited, stack_cpu)
        result["profiles"] = profiler.finish() if profiler else None
        shop.failed = not result["passed"]
    report.write(result, settings.out)
    report.print_summary(result, settings.out)
    return 0 if result["passed"] else 1


@contextlib.contextmanager
def profiling(profiler: Profiler | None, after_s: float) -> Iterator[None]:
    """Start the profiler when the measured load starts (after the warmup)."""
    if profiler is None:
        yield
        return
    timer = threading.Timer(after_s, profiler.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def describe_load(settings: Settings) -> str:
    load = (
        f"{settings.rate:g} checkouts/s offered (open loop)"
        if settings.rate
        else f"{settings.concurrency} clients (closed loop)"
    )
    return (
        f"{load}, {settings.warmup:g} s warmup + {settings.duration:g} s, "
        f"{settings.processes} process(es), {settings.connections} connections"
    )


def failures(samples: list[Sample], check: dict, exited: list[str]) -> list[str]:
    server_errors = sum(1 for s in samples if s[2] >= 500)
    unanswered = sum(1 for s in samples if s[2] == NO_ANSWER)
    found = [f"{check['violations']} consistency violations"] if not check["passed"] else []
    found += [f"{server_errors} answers were 5xx"] if server_errors else []
    found += [f"{unanswered} requests got no answer"] if unanswered else []
    found += [f"{name} exited during the run" for name in exited]
    return found


def cpu_per_checkout(stack_cpu: dict | None, load: Run, settings: Settings) -> float | None:
    successes = status_counts(load.samples).get("200", 0)
    if not stack_cpu or not successes:
        return None
    cpu_seconds = sum(stack_cpu.values()) * (settings.warmup + settings.duration)
    return round(1000 * cpu_seconds / successes, 2)


def build_report(settings, shop, init, capacity, load: Run, check, exited, stack_cpu) -> dict:
    problems = failures(load.samples, check, exited)
    return {
        "command": report.command_line(),
        "machine": report.machine(),
        "settings": {
            **dataclasses.asdict(settings),
            "out": str(settings.out),
            "mode": settings.mode,
            "target": shop.url,
            "local_stack": shop.stack is not None,
            "event_loop": event_loop_name(),
        },
        "init_seconds": init,
        "generator_capacity": capacity,
        "generator_during_load": generator_cpu(load),
        # Local stack only: cores each process used during the load (warmup included), and
        # the stack's CPU per successful checkout: a figure that noisy neighbours disturb less.
        "stack_cpu_cores": stack_cpu,
        "stack_cpu_ms_per_checkout": cpu_per_checkout(stack_cpu, load, settings),
        **summarize(load.samples, settings.warmup, settings.duration),
        "consistency": check,
        "passed": not problems,
        "failures": problems,
        "series": series(load.samples, settings.warmup, settings.duration),
    }
