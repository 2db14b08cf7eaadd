"""The benchmark's order picking, its accounting of repeated requests, and latency where
nothing was answered."""

import random
from types import SimpleNamespace

from shoptools.bench.drive import Progress
from shoptools.bench.load import IdPicker
from shoptools.bench.report import write_plot
from shoptools.bench.stats import series, summarize


def test_ids_come_without_replacement_until_the_share_is_used_up():
    picker = IdPicker(range(1, 10, 3), random.Random(1))
    first, second = [picker.next() for _ in range(3)], [picker.next() for _ in range(3)]
    assert sorted(first) == sorted(second) == [1, 4, 7]


def test_an_empty_share_still_yields_an_id():
    assert IdPicker(range(1, 1, 2), random.Random(1)).next() == 0


def test_only_first_requests_of_an_order_count_as_orders_paid():
    # (due, latency, status, order): order 1 twice, order 2 refused, order 3 during warmup.
    samples = [(1.5, 0.01, 200, 1), (0.5, 0.01, 200, 3), (1.6, 0.01, 409, 2), (2.5, 0.01, 200, 1)]
    figures = summarize(samples, warmup=1.0, duration=2.0)
    assert figures["requests"] == 3
    assert figures["repeated_requests"] == 1
    assert figures["throughput"] == {
        "checkouts_per_s": 1.0,
        "orders_paid_per_s": 0.5,
        "requests_per_s": 1.5,
    }


def test_a_second_with_no_request_has_no_latency_not_a_fast_one(tmp_path, capsys):
    # A stall: requests due in seconds 0 and 2 and none in second 1 (every client was waiting).
    samples = [(0.5, 0.010, 200, 1), (2.5, 0.030, 200, 2)]
    seconds = series(samples, warmup=0.0, duration=3.0)
    assert [s["requests_per_s"] for s in seconds] == [1, 0, 1]
    assert seconds[0]["latency_ms"]["p99"] == 10.0
    assert seconds[1]["latency_ms"] == {"p50": None, "p95": None, "p99": None, "max": None}
    assert summarize(samples, warmup=5.0, duration=1.0)["latency_ms"]["p50"] is None

    # The plot leaves a gap there, and the progress line says nothing was measured.
    report = {
        "settings": {"mode": "closed", "concurrency": 64, "rate": None},
        "throughput": {"checkouts_per_s": 0.7, "orders_paid_per_s": 0.7},
        "latency_ms": summarize(samples, warmup=0.0, duration=3.0)["latency_ms"],
        "series": seconds,
    }
    write_plot(report, tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 0
    Progress(SimpleNamespace(statuses={}), "load", start_at=0.0, warmup=0.0).show([], 1.0, 1.0)
    assert "p50       - ms  p99       - ms" in capsys.readouterr().out
