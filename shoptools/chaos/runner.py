"""The chaos run from start to end: stack, data, load under the nemesis, checks, report."""

import contextlib
import math
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

from shoptools.bench import consistency
from shoptools.bench.dataset import initialise
from shoptools.bench.drive import START_DELAY_S, drive
from shoptools.bench.load import LoadSpec, run_async
from shoptools.chaos import report
from shoptools.chaos.nemesis import Fault, Nemesis, schedule, victims_in_turn
from shoptools.chaos.netns import Namespace, Unavailable, place
from shoptools.chaos.options import Settings, parse_settings
from shoptools.devstack import ROOT, SERVICES, Stack, StackConfig
from shoptools.supervisor import SupervisorThread


@contextlib.contextmanager
def supervised_stack(
    settings: Settings, network: Namespace | None = None
) -> Iterator[tuple[Stack, SupervisorThread, list[bool]]]:
    """A fresh stack under a supervisor (its --partition process in `network`); its directory
    is removed afterwards unless the caller sets the yielded flag's [0] to True (a failed run
    keeps its logs)."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-chaos-"))
    replicas = dict.fromkeys(SERVICES, settings.replicas)
    config = StackConfig.ephemeral(base, replicas=replicas)
    if network is not None and settings.partition:
        place(network, config, settings.partition)
        print(f"{settings.partition} runs in network namespace {network.name}", flush=True)
    stack = Stack(config)
    print(f"starting the local stack in {base} ({settings.replicas} of each service)", flush=True)
    keep = [True]
    try:
        stack.start()
        watcher = SupervisorThread(stack)
        with watcher:
            yield stack, watcher, keep
    finally:
        stack.stop()
        if keep[0]:
            print(f"the stack's logs are kept in {stack.config.run_dir}", flush=True)
        else:
            shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def partition_network(settings: Settings) -> Iterator[Namespace | None]:
    """The namespace of the --partition process, removed on every way out (a SIGTERM, too,
    becomes an exit that runs this); None when there is none to make, saying why."""
    if not settings.partition:
        yield None
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with contextlib.ExitStack() as cleanup:
            try:
                network: Namespace | None = cleanup.enter_context(Namespace())
            except Unavailable as why:
                print(
                    f"partition of {settings.partition}: not available ({why});"
                    " pausing it with SIGSTOP instead",
                    flush=True,
                )
                network = None
            yield network
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def faults_for(stack: Stack, settings: Settings, network: Namespace | None) -> list[Fault]:
    end = settings.warmup + settings.duration - 1
    victims = settings.victims or victims_in_turn(stack, SERVICES)
    faults = (
        schedule(victims, settings.kill_every, settings.warmup, end) if settings.kill_every else []
    )
    half_way = settings.warmup + settings.duration / 2 + settings.kill_every / 2
    if settings.pause:
        faults.append(Fault(half_way, "pause", settings.pause, pause_s=settings.pause_s))
    if settings.partition:
        kind = "partition" if network is not None else "pause"
        at = half_way + (settings.pause_s + 2 if settings.pause else 0)
        faults.append(Fault(at, kind, settings.partition, pause_s=settings.partition_s))
    return faults


def checkout_load(url: str, settings: Settings) -> LoadSpec:
    return LoadSpec(
        base_url=url,
        method="POST",
        path="/orders/checkout/{}",
        ids=settings.orders,
        rate=settings.rate,
        phase=0.0,
        clients=0,
        connections=512,
        seconds=settings.warmup + settings.duration,
        start_at=0.0,
        seed=settings.seed,
        timeout_s=settings.timeout,
    )


def audit(stack: Stack) -> dict:
    """The auditor's verdict on the audit stream (exit 0: no violation). Not judged when the
    local broker restarted: it keeps the stream in memory, so the stream lost what came
    before, and checkouts that straddle the restart would look broken when they are not."""
    if len(stack.broker_starts) > 1:
        return {
            "exit_code": None,
            "passed": True,
            "judged": False,
            "output": [
                "not judged: the local broker restarted and its stream (in memory) lost"
                " the events before; the consistency check above still holds"
            ],
        }
    servers = stack.config.env.get("KAFKA_BOOTSTRAP_SERVERS", "")
    done = subprocess.run(
        [sys.executable, "-m", "shoptools.auditor", "--bootstrap-servers", servers],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    passed = done.returncode == 0
    return {"exit_code": done.returncode, "passed": passed, "judged": True, "output": lines[-15:]}


SETTLED_GAUGES = ("shop_reservations_held", "shop_outbox_backlog")


def unsettled(stack: Stack) -> dict[str, float]:
    """Reservations still held and events not yet published, per service (from the metrics,
    which read the stores)."""
    found = {}
    for name in SERVICES:
        address = stack.config.replica_metrics_addrs[name][0]
        try:
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            found[name] = math.inf  # restarting: ask again
            continue
        found[name] = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(SETTLED_GAUGES)
        )
    return {name: left for name, left in found.items() if left}


def wait_settled(stack: Stack, limit_s: float = 120.0) -> dict[str, float]:
    """Recovery finishes what the faults interrupted (holds released or committed, outboxes
    relayed): the auditor judges the stream after that. Returns what is left at the limit."""
    deadline = time.monotonic() + limit_s
    while (left := unsettled(stack)) and time.monotonic() < deadline:
        time.sleep(0.5)
    print(f"settled: {left or 'nothing held, every outbox relayed'}", flush=True)
    return left


def run(settings: Settings) -> int:
    with partition_network(settings) as network:
        return run_on(settings, network)


def run_on(settings: Settings, network: Namespace | None) -> int:
    with supervised_stack(settings, network) as (stack, watcher, keep):
        url = stack.config.rest_url
        initialise(url, settings)
        spec = checkout_load(url, settings)
        faults = faults_for(stack, settings, network)
        print(
            f"load: {settings.rate:g} checkouts/s for {settings.warmup + settings.duration:g} s;"
            f" {len(faults)} faults",
            flush=True,
        )
        start_at = time.time() + START_DELAY_S
        with Nemesis(stack, faults, start_at, network):
            load = drive(spec, 1, settings.warmup, "chaos")
        check = run_async(consistency.check(url, load.samples, settings.stock, settings.credit))
        left = wait_settled(stack)
        verdict = audit(stack)
        restarts = watcher.supervisor.history
        result = report.build(settings, load, faults, restarts, check, verdict, start_at)
        result["unsettled_at_the_end"] = left
        result["supervisor_gave_up"] = str(watcher.gave_up) if watcher.gave_up else None
        result["passed"] = result["passed"] and watcher.gave_up is None and not left
        keep[0] = not result["passed"]
    report.write(result, settings.out)
    report.print_summary(result, settings.out)
    return 0 if result["passed"] else 1


def main(argv: list[str]) -> int:
    return run(parse_settings(argv))
