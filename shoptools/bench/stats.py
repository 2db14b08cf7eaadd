"""Figures from samples: throughput, latency percentiles, status counts, per-second series.

Only requests due in the measured window [warmup, warmup + duration) count; the warmup's
requests still change the shop's state, so the consistency check sees all of them.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from shoptools.bench.load import NO_ANSWER, Sample

PERCENTILES = {"p50": 50, "p95": 95, "p99": 99}


def status_label(status: int) -> str:
    return "no answer" if status == NO_ANSWER else str(status)


def status_counts(samples: Iterable[Sample]) -> dict[str, int]:
    counts = Counter(status_label(status) for _, _, status, _ in samples)
    return dict(sorted(counts.items()))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (at least one)."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_ms(samples: Iterable[Sample]) -> dict[str, float | None]:
    """p50, p95, p99 and max in ms; each None when there is no sample: a second in which no
    request was due, say, had no latency, and 0 would plot and print as the fastest."""
    latencies = sorted(latency for _, latency, _, _ in samples)
    if not latencies:
        return dict.fromkeys([*PERCENTILES, "max"])
    figures = {name: percentile(latencies, pct) for name, pct in PERCENTILES.items()}
    figures["max"] = latencies[-1]
    return {name: round(value * 1000, 2) for name, value in figures.items()}


def ms(value: float | None) -> str:
    """A latency figure for people: "12.3 ms", or "not measured"."""
    return "not measured" if value is None else f"{value} ms"


def in_window(sample: Sample, warmup: float, duration: float) -> bool:
    return warmup <= sample[0] < warmup + duration


def measured(samples: Iterable[Sample], warmup: float, duration: float) -> list[Sample]:
    return [s for s in samples if in_window(s, warmup, duration)]


def repeats(samples: Iterable[Sample]) -> set[int]:
    """Positions (in `samples`) of requests for an id requested earlier in the run."""
    seen: set[int] = set()
    again = set()
    for position, (_, _, _, order) in sorted(enumerate(samples), key=lambda p: p[1][0]):
        if order in seen:
            again.add(position)
        seen.add(order)
    return again


def flag_repeats(samples: list[Sample]) -> list[tuple[Sample, bool]]:
    """Each sample with whether it requested an id requested earlier in the run."""
    again = repeats(samples)
    return [(s, i in again) for i, s in enumerate(samples)]


def orders_paid(flagged: Iterable[tuple[Sample, bool]]) -> int:
    """Successful checkouts of orders not requested before in the run (see flag_repeats)."""
    return sum(1 for s, repeat in flagged if s[2] == 200 and not repeat)


def summarize(
    samples: list[Sample], warmup: float, duration: float, *, first_requests: bool = False
) -> dict:
    """The measured window's figures. With `first_requests` its latency counts each id's first
    request only (a repeat is answered from the order's row, as cheaply as a read)."""
    window = [(s, r) for s, r in flag_repeats(samples) if in_window(s, warmup, duration)]
    ok = sum(1 for s, _ in window if s[2] == 200)
    first_ok = orders_paid(window)
    timed = (s for s, repeat in window if not (first_requests and repeat))
    return {
        "throughput": {
            "checkouts_per_s": round(ok / duration, 1),
            # Successful checkouts of orders not requested before in this run: orders paid.
            "orders_paid_per_s": round(first_ok / duration, 1),
            "requests_per_s": round(len(window) / duration, 1),
        },
        "requests": len(window),
        "repeated_requests": sum(1 for _, repeat in window if repeat),
        "latency_ms": latency_ms(timed),
        "status_counts": status_counts(s for s, _ in window),
        "status_counts_with_warmup": status_counts(samples),
    }


def series(samples: list[Sample], warmup: float, duration: float) -> list[dict]:
    """Per second of the measured window, by when the requests were due."""
    seconds: list[list[Sample]] = [[] for _ in range(math.ceil(duration))]
    for sample in measured(samples, warmup, duration):
        seconds[int(sample[0] - warmup)].append(sample)
    return [second_figures(t, in_second) for t, in_second in enumerate(seconds)]


def second_figures(t: int, samples: list[Sample]) -> dict:
    return {
        "t": t,
        "requests_per_s": len(samples),
        "checkouts_per_s": sum(1 for s in samples if s[2] == 200),
        "latency_ms": latency_ms(samples),
        "status_counts": status_counts(samples),
    }
