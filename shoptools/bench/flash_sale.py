"""Flash sale: every checkout buys the same item. Does the stock outbox keep up, and how soon
after the sale is the audit stream whole?

    python -m shoptools.bench.flash_sale [--rate 1000] [--seconds 15] [--compare-with REV]

Starts a local stack (free ports, a temporary directory), creates one item with stock for
every order, users, and orders that each buy that item twice (batch_init), then sends
`--rate` checkouts per second (open loop; as many as the machine manages) for `--seconds`.
Meanwhile it samples the stock service's `shop_outbox_backlog` gauge every 0.25 s. Once the
last answer is in it measures how long until every outbox is empty, and how long until the
auditor (`shoptools.auditor.audit` over the whole topic, read again and again) finds no
violation. The target: a bounded backlog during the sale, the auditor clean within 2 s.

`--compare-with REV` runs the same sale first on the services of git revision REV (exported
to a temporary directory with `git archive`; the load and the audit are this tree's) and
prints both side by side: hosts differ, so compare within one run.
"""

import argparse
import asyncio
import contextlib
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator

from shopmesh.events.kafka import KafkaSettings
from shoptools import devstack
from shoptools.auditor import audit, read_audit_events
from shoptools.bench.dataset import post
from shoptools.bench.load import LoadSpec, generate, run_async
from shoptools.devstack import SERVICES, Stack, StackConfig

SAMPLE_EVERY_S = 0.25
BACKLOG = re.compile(r'^shop_outbox_backlog\{service="(\w+)"\} ([0-9.e+]+)$', re.M)


class TreeStack(Stack):
    """A Stack whose services run from another source tree (an older revision)."""

    def __init__(self, config: StackConfig, root: pathlib.Path) -> None:
        super().__init__(config)
        self.root = root

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        # `python -m` puts the working directory first on sys.path: the tree's code wins.
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
            )


@contextlib.contextmanager
def running_stack(root: pathlib.Path) -> Iterator[Stack]:
    base = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-flash-"))
    stack = TreeStack(StackConfig.ephemeral(base), root)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def source_tree(revision: str | None) -> Iterator[pathlib.Path]:
    """This tree, or `revision` exported into a temporary directory."""
    if revision is None:
        yield devstack.ROOT
        return
    target = pathlib.Path(tempfile.mkdtemp(prefix="shopmesh-rev-"))
    try:
        archive = subprocess.run(
            ["git", "archive", revision], cwd=devstack.ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        yield target
    finally:
        shutil.rmtree(target, ignore_errors=True)


def backlogs(stack: Stack) -> dict[str, float]:
    """service -> events waiting in its outbox, from its metrics endpoint."""
    found = {}
    for name in SERVICES:
        with urllib.request.urlopen(stack.config.metrics_url(name), timeout=5) as answer:
            text = answer.read().decode()
        found.update((s, float(v)) for s, v in BACKLOG.findall(text) if s == name)
    return found


class BacklogSampler(threading.Thread):
    """The stock outbox's backlog every SAMPLE_EVERY_S, until stopped."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.samples: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_EVERY_S):
            with contextlib.suppress(OSError):
                self.samples.append(backlogs(self.stack)["stock"])


def initialise(url: str, orders: int, users: int) -> None:
    post(f"{url}/payment/batch_init/{users}/{1_000_000}")
    post(f"{url}/stock/batch_init/1/{2 * orders}/1")  # stock enough for every order
    post(f"{url}/orders/batch_init/{orders}/1/{users}/1")  # every order: item 0, twice


def checkouts(url: str, rate: float, seconds: float, orders: int) -> Counter:
    """Send the sale's checkouts; returns the answers' statuses."""
    statuses: Counter = Counter()
    spec = LoadSpec(
        base_url=url,
        method="POST",
        path="/orders/checkout/{}",
        ids=orders,
        rate=rate,
        phase=0.0,
        clients=0,
        connections=256,
        seconds=seconds,
        start_at=time.time() + 0.5,
        seed=1,
        timeout_s=30,
    )
    run_async(generate(spec, lambda batch: statuses.update(s for _, _, s, _ in batch)))
    return statuses


def wait_drained(stack: Stack, since: float, timeout_s: float) -> float | None:
    """Seconds from `since` until every outbox is empty (None: not within timeout_s)."""
    while time.monotonic() - since < timeout_s:
        with contextlib.suppress(OSError):
            if not any(backlogs(stack).values()):
                return time.monotonic() - since
        time.sleep(0.05)
    return None


def wait_audit_clean(stack: Stack, since: float, timeout_s: float) -> tuple[float | None, int]:
    """Seconds from `since` to the start of the first whole read of the audit topic that the
    auditor finds clean, and how many violations the read before it had."""
    servers = stack.config.env["KAFKA_BOOTSTRAP_SERVERS"]
    settings = KafkaSettings.from_env("flash-sale")
    settings = KafkaSettings(servers, settings.audit_topic, settings.retry_topic, "flash-sale")
    last = -1
    while time.monotonic() - since < timeout_s:
        started = time.monotonic()
        events = asyncio.run(read_audit_events(settings, timeout_s=60))
        violations = audit(events)[1]
        if not violations:
            return started - since, last
        last = len(violations)
    return None, last


def sale(root: pathlib.Path, args: argparse.Namespace) -> dict:
    """One flash sale on a fresh stack of the services in `root`; its figures."""
    orders = int(args.rate * args.seconds)
    with running_stack(root) as stack:
        url = stack.config.rest_url
        initialise(url, orders, args.users)
        sampler = BacklogSampler(stack)
        sampler.start()
        statuses = checkouts(url, args.rate, args.seconds, orders)
        stopped = time.monotonic()
        sampler.stopping.set()
        sampler.join()
        drained = wait_drained(stack, stopped, args.timeout_s)
        clean, before = wait_audit_clean(stack, stopped, args.timeout_s)
    backlog = sampler.samples or [0.0]
    return {
        "checkouts answered/s": sum(statuses.values()) / args.seconds,
        "answers": dict(sorted((str(k), v) for k, v in statuses.items())),
        "stock backlog max": max(backlog),
        "stock backlog at end": backlog[-1],
        "outboxes empty after (s)": drained,
        "auditor clean after (s)": clean,
        "violations in the read before": before,
    }


def show(results: dict[str, dict]) -> str:
    labels = list(results)
    rows = [f"{'':<30}" + "".join(f"{label:>24}" for label in labels)]
    for figure in results[labels[0]]:
        cells = [_cell(results[label][figure]) for label in labels]
        rows.append(f"{figure:<30}" + "".join(f"{cell:>24}" for cell in cells))
    return "\n".join(rows)


def _cell(value: object) -> str:
    if value is None:
        return "not in time"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shoptools.bench.flash_sale", description=__doc__
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="checkouts per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the sale lasts")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--timeout-s", type=float, default=120.0, help="wait for a clean audit")
    parser.add_argument("--compare-with", metavar="REV", help="also run REV's services first")
    args = parser.parse_args(argv)
    results = {}
    for revision in ([args.compare_with] if args.compare_with else []) + [None]:
        label = revision or "this tree"
        print(f"flash sale on {label}: {args.rate:.0f}/s for {args.seconds:.0f} s", flush=True)
        with source_tree(revision) as root:
            results[label] = sale(root, args)
        print(show({label: results[label]}), flush=True)
    print(show(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
