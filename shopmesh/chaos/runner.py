"""The chaos run from start to end: stack, data, load under the nemesis, checks, report."""

import contextlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from shopmesh.bench import consistency
from shopmesh.bench.dataset import initialise
from shopmesh.bench.drive import START_DELAY_S, drive
from shopmesh.bench.load import LoadSpec, run_async
from shopmesh.chaos import report
from shopmesh.chaos.nemesis import Fault, Nemesis, schedule, victims_in_turn
from shopmesh.chaos.options import Settings, parse_settings
from shopmesh.devstack import ROOT, SERVICES, Stack, StackConfig
from shopmesh.supervisor import SupervisorThread


@contextlib.contextmanager
def supervised_stack(settings: Settings) -> Iterator[tuple[Stack, SupervisorThread]]:
    base = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-chaos-"))
    replicas = dict.fromkeys(SERVICES, settings.replicas)
    stack = Stack(StackConfig.ephemeral(base, replicas=replicas))
    print(f"starting the local stack in {base} ({settings.replicas} of each service)", flush=True)
    kept = True
    try:
        stack.start()
        watcher = SupervisorThread(stack)
        with watcher:
            yield stack, watcher
        kept = watcher.gave_up is not None
    finally:
        stack.stop()
        if kept:
            print(f"the stack's logs are kept in {stack.config.run_dir}", flush=True)
        else:
            shutil.rmtree(base, ignore_errors=True)


def faults_for(stack: Stack, settings: Settings) -> list[Fault]:
    end = settings.warmup + settings.duration - 1
    victims = settings.victims or victims_in_turn(stack, SERVICES)
    faults = (
        schedule(victims, settings.kill_every, settings.warmup, end) if settings.kill_every else []
    )
    paused = settings.pause or settings.partition
    if settings.partition:
        print(
            f"partition of {settings.partition}: not available (the local stack runs every"
            " process in the host's network namespace); pausing it with SIGSTOP instead",
            flush=True,
        )
    if paused:
        at = settings.warmup + settings.duration / 2 + settings.kill_every / 2
        faults.append(Fault(at, "pause", paused, pause_s=settings.pause_s))
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
    """The auditor's verdict on the audit stream (exit 0: no violation)."""
    servers = stack.config.env.get("KAFKA_BOOTSTRAP_SERVERS", "")
    done = subprocess.run(
        [sys.executable, "-m", "shopmesh.auditor", "--bootstrap-servers", servers],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"exit_code": done.returncode, "passed": done.returncode == 0, "output": lines[-15:]}


def wait_outboxes_drained(stack: Stack, seconds: float = 5.0) -> None:
    """The relays publish within a fraction of a second; give them a moment before auditing."""
    time.sleep(seconds)


def run(settings: Settings) -> int:
    with supervised_stack(settings) as (stack, watcher):
        url = stack.config.rest_url
        initialise(url, settings)
        spec = checkout_load(url, settings)
        faults = faults_for(stack, settings)
        print(
            f"load: {settings.rate:g} checkouts/s for {settings.warmup + settings.duration:g} s;"
            f" {len(faults)} faults",
            flush=True,
        )
        start_at = time.time() + START_DELAY_S
        with Nemesis(stack, faults, start_at):
            load = drive(spec, 1, settings.warmup, "chaos")
        check = run_async(consistency.check(url, load.samples, settings.stock, settings.credit))
        wait_outboxes_drained(stack)
        verdict = audit(stack)
        restarts = watcher.supervisor.history
        result = report.build(settings, load, faults, restarts, check, verdict, start_at)
        result["supervisor_gave_up"] = str(watcher.gave_up) if watcher.gave_up else None
    report.write(result, settings.out)
    report.print_summary(result, settings.out)
    return 0 if result["passed"] else 1


def main(argv: list[str]) -> int:
    return run(parse_settings(argv))
