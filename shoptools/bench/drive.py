"""Run the load generator in this process or spread over several, with a live progress line.

Worker processes send their samples to the parent through a queue every FLUSH_EVERY_S; the
parent merges them and prints the progress, so percentiles are over all processes' samples.
"""

import asyncio
import dataclasses
import multiprocessing
import queue
import sys
import time
from collections import Counter
from collections.abc import Callable

from shoptools.bench.load import LoadSpec, Sample, generate, run_async
from shoptools.bench.stats import latency_ms, status_label

START_DELAY_S = 1.0  # lets every worker process start before t = 0


class Collector:
    """All samples, plus the ones that arrived since the progress line last took them."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.window: list[Sample] = []
        self.statuses: Counter[str] = Counter()

    def add(self, batch: list[Sample]) -> None:
        self.samples.extend(batch)
        self.window.extend(batch)
        self.statuses.update(status_label(status) for _, _, status, _ in batch)

    def take_window(self) -> list[Sample]:
        window, self.window = self.window, []
        return window


class Progress:
    """Once a second on a terminal (rewriting one line), else one line every ~5 s."""

    def __init__(self, collector: Collector, label: str, start_at: float, warmup: float) -> None:
        self.collector = collector
        self.label = label
        self.start_at = start_at
        self.warmup = warmup
        self.tty = sys.stdout.isatty()
        self.every = 1.0 if self.tty else 5.0
        self.last = start_at  # nothing to show before t = 0

    def tick(self) -> None:
        now = time.time()
        if now - self.last >= self.every:
            self.show(self.collector.take_window(), now - self.last, now)
            self.last = now

    def show(self, window: list[Sample], span: float, now: float) -> None:
        elapsed = now - self.start_at
        phase = "warmup" if elapsed < self.warmup else self.label
        latency = latency_ms(window)
        counts = " ".join(f"{k}:{v}" for k, v in sorted(self.collector.statuses.items()))
        line = (
            f"{phase:>8} {elapsed:6.1f}s {len(window) / span:8.0f} req/s"
            f"  p50 {_fixed(latency['p50'])} ms  p99 {_fixed(latency['p99'])} ms  [{counts}]"
        )
        print(f"\r{line:<100}" if self.tty else line, end="" if self.tty else "\n", flush=True)

    def finish(self) -> None:
        if self.tty:
            print(flush=True)


def _fixed(ms: float | None) -> str:
    """A latency in a fixed width; "-" for a span in which nothing was answered."""
    return f"{'-':>7}" if ms is None else f"{ms:7.1f}"


def split(spec: LoadSpec, processes: int) -> list[LoadSpec]:
    """Each process gets a share of the rate (interleaved schedules) or of the clients."""
    shares = []
    for k in range(processes):
        clients = spec.clients // processes + (1 if k < spec.clients % processes else 0)
        connections = max(1, spec.connections // processes)
        shares.append(
            dataclasses.replace(
                spec,
                rate=spec.rate / processes if spec.rate else None,
                phase=k / spec.rate if spec.rate else 0.0,
                clients=max(1, clients),
                connections=connections,
                seed=spec.seed * 1000 + k,
                id_offset=k,
                id_stride=processes,
            )
        )
    return shares


@dataclasses.dataclass
class Run:
    samples: list[Sample]
    seconds: float  # wall clock, from t = 0 to the last answer
    cpu_seconds: float  # used by the generator process(es)

    def cpu_per_request_ms(self) -> float:
        return round(1000 * self.cpu_seconds / max(1, len(self.samples)), 3)


def drive(spec: LoadSpec, processes: int, warmup: float, label: str) -> Run:
    spec = dataclasses.replace(spec, start_at=time.time() + START_DELAY_S)
    collector = Collector()
    progress = Progress(collector, label, spec.start_at, warmup)
    try:
        if processes == 1:
            started = time.process_time()
            run_async(drive_here(spec, collector.add, progress.tick))
            cpu = time.process_time() - started
        else:
            cpu = drive_processes(split(spec, processes), collector.add, progress.tick)
    finally:
        progress.finish()
    return Run(collector.samples, time.time() - spec.start_at, cpu)


async def drive_here(spec: LoadSpec, sink: Callable, tick: Callable) -> None:
    async def keep_ticking() -> None:
        while True:
            await asyncio.sleep(0.2)
            tick()

    ticker = asyncio.create_task(keep_ticking())
    try:
        await generate(spec, sink)
    finally:
        ticker.cancel()


def drive_processes(specs: list[LoadSpec], sink: Callable, tick: Callable) -> float:
    """Runs one worker process per spec; returns the CPU seconds they used."""
    context = multiprocessing.get_context("spawn")
    samples = context.Queue()
    workers = [context.Process(target=worker, args=(spec, samples)) for spec in specs]
    for process in workers:
        process.start()
    try:
        return receive(samples, workers, sink, tick)
    finally:
        for process in workers:
            process.join(5)
            if process.is_alive():
                process.kill()


def receive(samples, workers: list, sink: Callable, tick: Callable) -> float:
    running, cpu_seconds = len(workers), 0.0
    while running:
        try:
            batch = samples.get(timeout=0.2)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in workers):
                raise RuntimeError("a load generator process failed") from None
        else:
            if isinstance(batch, float):  # a worker's last message: its CPU time
                running -= 1
                cpu_seconds += batch
            else:
                sink(batch)
        tick()
    return cpu_seconds


def worker(spec: LoadSpec, samples) -> None:
    started = time.process_time()
    run_async(generate(spec, samples.put))
    samples.put(time.process_time() - started)
