"""The figures that compare one phase of a run with another: what the issue's targets are.

Absolute rates depend on the host; ratios measured in one run against the same stack much less,
so the report gives those: checkouts/s over GET /stock/find requests/s (the simplest request
the stack serves, also one inbound request and one store read), checkouts/s over another
gateway's on the same load (checkouts/s counting orders paid: `paid_per_s`), and the stack's
CPU per request of each phase, per process.
"""

from shoptools.devstack import SERVICES
from shoptools.replicas import split_name

TARGETS = {
    # orders paid/s at least this share of GET /stock/find requests/s, same clients, same run
    "checkout_per_find": 0.6,
    # at least this many times the other gateway's orders paid/s (--compare), same run
    "compare": 5.0,
    # p99 at an offered quarter of the saturated checkout rate, ms
    "quarter_rate_p99_ms": 20.0,
    # every service's resident memory after the run, MiB
    "rss_mb": 150.0,
}


def paid_per_s(throughput: dict) -> float:
    """The rate the ratios use: orders paid/s. A checkout of an order paid before in the run
    is answered from the order's row, as cheaply as a read, so it does not count."""
    return throughput["orders_paid_per_s"]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def cpu_ms_per_request(cpu_seconds: dict[str, float] | None, answered: int) -> dict | None:
    """Each process's CPU per answered request (ms), and the sum of them as `total`."""
    if not cpu_seconds or not answered:
        return None
    per = {name: round(1000 * seconds / answered, 3) for name, seconds in cpu_seconds.items()}
    return {**per, "total": round(1000 * sum(cpu_seconds.values()) / answered, 3)}


def quarter_rate(paid_per_s: float) -> float | None:
    """The offered rate of the light-load phase: a quarter of the saturated rate."""
    rate = round(paid_per_s / 4, 1)
    return rate if rate > 0 else None


def split_orders(orders: int, quarter_phase: bool) -> int:
    """First order id of the light-load phase's share (a tenth), so it pays fresh orders."""
    return orders - max(1, orders // 10) if quarter_phase and orders > 1 else orders


def targets(report: dict) -> dict:
    """Each target's figure and whether this run met it (None: the run did not measure it)."""
    find = report.get("find_phase") or {}
    compare = report.get("compare") or {}
    quarter = report.get("quarter_rate_phase") or {}
    rss = report.get("rss_mb_after") or {}
    services = {n: mb for n, mb in rss.items() if split_name(n)[0] in SERVICES}
    # Target 1 counts only with every answer of both phases a 2xx.
    clean = find.get("non_2xx") == 0 and non_2xx(report.get("status_counts") or {}) == 0
    per_find = find.get("checkout_per_find")
    figures = {
        "checkout_per_find": (per_find if clean or per_find is None else 0.0, "min"),
        "compare": (compare.get("ratio"), "min"),
        "quarter_rate_p99_ms": ((quarter.get("latency_ms") or {}).get("p99"), "max"),
        "rss_mb": (max(services.values()) if services else None, "max"),
    }
    return {name: verdict(value, TARGETS[name], bound) for name, (value, bound) in figures.items()}


def verdict(value: float | None, target: float, bound: str) -> dict:
    met = None if value is None else value >= target if bound == "min" else value <= target
    return {"value": value, "target": target, "bound": bound, "met": met}


def non_2xx(counts: dict[str, int]) -> int:
    return sum(n for status, n in counts.items() if not status.startswith("2"))
