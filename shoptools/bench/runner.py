"""The benchmark from start to end: stack, data, generator calibration, load, check, report."""

import contextlib
import dataclasses
import pathlib
import shutil
import tempfile
import threading
from collections.abc import Iterator

from shoptools.bench import consistency, figures, report
from shoptools.bench.cpu import CpuMeter, rss_mb
from shoptools.bench.dataset import initialise
from shoptools.bench.drive import START_DELAY_S, Run, drive
from shoptools.bench.load import NO_ANSWER, Sample, event_loop_name, run_async
from shoptools.bench.options import Settings
from shoptools.bench.phases import answered, checkout_load, compare_phase, find_phase, quarter_phase
from shoptools.bench.profile import Profiler
from shoptools.bench.stats import flag_repeats, orders_paid, series, status_counts, summarize
from shoptools.devstack import SERVICES, Stack, StackConfig
from shoptools.replicas import replica_counts

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
    stack = Stack(local_config(base))
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


def local_config(
    base: pathlib.Path,
    service_env: dict[str, str] | None = None,
    *,
    environ: dict[str, str] | None = None,
) -> StackConfig:
    """The local stack's ports and directories (`service_env`: more environment for its
    services), with as many processes of each service as SHOP_REPLICAS / ORDER_REPLICAS (and so
    on) in `environ` (default: this process's) ask for, as `make up` runs them."""
    return StackConfig.ephemeral(base, service_env, replica_counts(SERVICES, environ))


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
        pids = {n: p.pid for n, p in shop.stack.processes.items()} if shop.stack else {}
        find = find_phase(shop.url, settings, pids)
        print(f"load: {describe_load(settings)}", flush=True)
        meter = CpuMeter(pids) if pids else None
        profiler = Profiler(pids, settings.out, settings.duration) if settings.profile else None
        with profiling(profiler, START_DELAY_S + settings.warmup):
            load = drive(
                checkout_load(shop.url, settings), settings.processes, settings.warmup, "load"
            )
        stack_cpu = (meter.cores(), meter.used()) if meter else None
        saturated = summarize(load.samples, settings.warmup, settings.duration)
        quarter, light = quarter_phase(
            shop.url, settings, pids, figures.paid_per_s(saturated["throughput"])
        )
        memory = rss_mb(pids) if pids else None
        check = run_async(
            consistency.check(shop.url, load.samples + light, settings.stock, settings.credit)
        )
        exited = shop.stack.exited() if shop.stack else []
        result = build_report(settings, shop, init, capacity, load, check, exited, stack_cpu)
        add_phases(result, find, quarter, light, memory)
        result["profiles"] = profiler.finish() if profiler else None
        shop.failed = not result["passed"]
    result["compare"] = compare_phase(settings, figures.paid_per_s(result["throughput"]))
    result["targets"] = figures.targets(result)
    report.write(result, settings.out)
    report.print_summary(result, settings.out)
    return 0 if result["passed"] else 1


def add_phases(result: dict, find, quarter, light: list[Sample], memory) -> None:
    """The find and quarter-rate phases, the memory after them; their failures count too."""
    if find:
        ours = figures.paid_per_s(result["throughput"])
        find["checkout_per_find"] = figures.ratio(ours, find["requests_per_s"])
    result["find_phase"] = find
    result["quarter_rate_phase"] = quarter
    result["rss_mb_after"] = memory
    problems = [f"{find['non_2xx']} find answers were not 2xx"] if find and find["non_2xx"] else []
    problems += [f"quarter-rate phase: {p}" for p in failures(light, {"passed": True}, [])]
    result["failures"] += problems
    result["passed"] = result["passed"] and not problems


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


def cpu_per_checkout(used: dict | None, load: Run) -> float | None:
    """The stack's CPU over the load (warmup included) per order it paid (a checkout of an
    order paid before in the run is answered as cheaply as a read)."""
    successes = orders_paid(flag_repeats(load.samples))
    if not used or not successes:
        return None
    return round(1000 * sum(used.values()) / successes, 2)


def build_report(settings, shop, init, capacity, load: Run, check, exited, stack_cpu) -> dict:
    cores, used = stack_cpu or (None, None)
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
        "stack_cpu_cores": cores,
        "stack_cpu_ms_per_checkout": cpu_per_checkout(used, load),
        # The same per process, per answered request (the find phase has its own).
        "stack_cpu_ms_per_request": figures.cpu_ms_per_request(used, answered(load)),
        **summarize(load.samples, settings.warmup, settings.duration),
        "consistency": check,
        "passed": not problems,
        "failures": problems,
        "series": series(load.samples, settings.warmup, settings.duration),
    }
