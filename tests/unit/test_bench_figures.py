"""The bench's ratios, per-request CPU, order split, target verdicts and local stack."""

import random

from shoptools.bench import figures
from shoptools.bench.drive import Run
from shoptools.bench.load import Generator, LoadSpec
from shoptools.bench.phases import phase_figures
from shoptools.bench.runner import add_phases, local_config


def test_cpu_per_request_is_per_process_with_a_total():
    per = figures.cpu_ms_per_request({"order": 1.5, "stock": 0.5}, answered=1000)
    assert per == {"order": 1.5, "stock": 0.5, "total": 2.0}
    assert figures.cpu_ms_per_request({"order": 1.0}, answered=0) is None
    assert figures.cpu_ms_per_request(None, answered=10) is None


def test_ratio_and_quarter_rate():
    assert figures.ratio(532, 1702) == 0.313
    assert figures.ratio(0, 1702) is None and figures.ratio(532, 0) is None
    assert figures.quarter_rate(1538.0) == 384.5
    assert figures.quarter_rate(0.0) is None


def test_the_light_phase_gets_the_last_tenth_of_the_orders():
    assert figures.split_orders(100_000, quarter_phase=True) == 90_000
    assert figures.split_orders(100_000, quarter_phase=False) == 100_000
    assert figures.split_orders(5, quarter_phase=True) == 4
    assert figures.split_orders(1, quarter_phase=True) == 1


def test_a_phase_starting_at_id_start_never_picks_an_earlier_order():
    spec = LoadSpec("http://x", "POST", "/{}", 100, None, 0.0, 1, 1, 1.0, 0.0, 1, 1.0, id_start=90)
    generator = Generator(spec, session=None, sink=lambda batch: None)  # type: ignore[arg-type]
    generator.rng = random.Random(3)
    picked = {generator.ids.next() for _ in range(10)}
    assert picked == set(range(90, 100))


def report(ratio=0.7, find_non_2xx=0, statuses=None, compare=6.0, p99=12.0, rss=None):
    return {
        "find_phase": {"checkout_per_find": ratio, "non_2xx": find_non_2xx},
        "status_counts": statuses or {"200": 100},
        "compare": {"ratio": compare},
        "quarter_rate_phase": {"latency_ms": {"p99": p99}},
        "rss_mb_after": rss or {"order": 120.0, "stock": 90.0, "envoy": 400.0},
    }


def test_targets_met_and_missed():
    met = figures.targets(report())
    assert {name: figure["met"] for name, figure in met.items()} == {
        "checkout_per_find": True,
        "compare": True,
        "quarter_rate_p99_ms": True,
        "rss_mb": True,  # Envoy is no Python service: only stock, payment and order count
    }
    missed = figures.targets(report(ratio=0.31, compare=3.2, p99=25.0, rss={"order": 151.0}))
    assert not any(figure["met"] for figure in missed.values())
    assert missed["rss_mb"]["value"] == 151.0
    # Each replica counts too (ORDER_REPLICAS=2: `order-2`).
    replica = figures.targets(report(rss={"order": 120.0, "order-2": 152.0, "envoy": 300.0}))
    assert replica["rss_mb"] == {**replica["rss_mb"], "value": 152.0, "met": False}


def test_the_find_ratio_counts_only_when_every_answer_was_a_2xx():
    assert not figures.targets(report(find_non_2xx=1))["checkout_per_find"]["met"]
    refused = report(statuses={"200": 100, "409": 1})
    assert not figures.targets(refused)["checkout_per_find"]["met"]


def test_a_target_not_measured_has_no_verdict():
    verdicts = figures.targets({})
    assert all(figure["met"] is None for figure in verdicts.values())


def test_the_local_stack_runs_the_replicas_the_environment_asks_for(tmp_path):
    config = local_config(tmp_path, environ={"ORDER_REPLICAS": "2"})
    assert len(config.replica_addrs["order"]) == 2
    assert len(set(config.replica_addrs["order"])) == 2
    assert [len(config.replica_addrs[name]) for name in ("stock", "payment")] == [1, 1]
    assert len(local_config(tmp_path, environ={}).replica_addrs["order"]) == 1


def test_ratios_count_orders_paid_not_repeated_checkouts_of_paid_orders():
    # A run that ran out of fresh orders: 95.9/s of its checkouts were of orders it had paid
    # already, each answered from the order's row as cheaply as a read.
    throughput = {"checkouts_per_s": 1472.7, "orders_paid_per_s": 1376.8}
    result = {"throughput": throughput, "failures": [], "passed": True}
    add_phases(result, {"requests_per_s": 5453.3, "non_2xx": 0}, None, [], None)
    assert result["find_phase"]["checkout_per_find"] == 0.252
    assert figures.quarter_rate(figures.paid_per_s(throughput)) == 344.2


def test_the_light_phase_times_fresh_checkouts_and_says_when_it_ran_out_of_them():
    # Measured: --orders 60,000 leaves the light phase 6,000 orders for 336/s over 22 s, so
    # its last 1,397 requests checked out orders it had paid, each answered from the order's
    # row. Here four fresh checkouts take 10 ms, then the same four orders come again at 1 ms.
    fresh = [(0.1 * i, 0.010, 200, i) for i in range(4)]
    again = [(0.5 + 0.1 * i, 0.001, 200, i) for i in range(4)]
    done = Run(fresh + again, seconds=1.0, cpu_seconds=0.0)
    quarter = phase_figures(done, None, warmup=0.0, seconds=1.0, checkouts=True)
    assert quarter["repeated_requests"] == 4
    assert quarter["latency_ms"]["p50"] == quarter["latency_ms"]["p99"] == 10.0
    assert quarter["status_counts"] == {"200": 8}
    # Fresh orders all used up in the warmup: no latency of a checkout was measured.
    used_up = phase_figures(done, None, warmup=0.5, seconds=0.5, checkouts=True)
    assert used_up["repeated_requests"] == 4 and used_up["latency_ms"]["p99"] is None
    verdict = figures.targets({"quarter_rate_phase": used_up})["quarter_rate_p99_ms"]
    assert verdict["met"] is None
    # A read phase has nothing to repeat: every request counts.
    finds = phase_figures(done, None, warmup=0.0, seconds=1.0)
    assert "repeated_requests" not in finds and finds["latency_ms"]["p50"] == 1.0
