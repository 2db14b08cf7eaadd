"""Smoke runs of the benchmark command: seconds of load on small data, on a stack it starts.

They check that the command works end to end (report written, final state consistent), never
how fast the shop is: timings on a shared CI machine prove nothing."""

import json
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMALL = ["--users", "50", "--items", "20", "--orders", "100", "--duration", "3", "--warmup", "1"]
SMALL += ["--find-duration", "2", "--quarter-duration", "2"]
REPORT_KEYS = {
    "command",
    "machine",
    "settings",
    "init_seconds",
    "generator_capacity",
    "generator_during_load",
    "throughput",
    "requests",
    "repeated_requests",
    "latency_ms",
    "status_counts",
    "status_counts_with_warmup",
    "consistency",
    "passed",
    "failures",
    "series",
    "find_phase",
    "quarter_rate_phase",
    "rss_mb_after",
    "stack_cpu_ms_per_request",
    "compare",
    "targets",
}
SERVICES = {"stock", "payment", "order"}


def bench(out: pathlib.Path, *load: str) -> dict:
    argv = [sys.executable, "-m", "shoptools.bench", *SMALL, *load, "--calibrate", "1"]
    done = subprocess.run(
        [*argv, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert (out / "report.png").read_bytes().startswith(b"\x89PNG")
    return json.loads((out / "report.json").read_text())


def assert_sound(report: dict) -> None:
    assert REPORT_KEYS <= set(report), sorted(report)
    assert report["passed"] and report["failures"] == []
    check = report["consistency"]
    assert check["passed"] and check["violations"] == 0, check["violation_examples"]
    assert check["orders_checked"] > 0 and check["items_checked"] > 0
    assert set(report["machine"]) >= {"nproc", "cpu_model", "python"}
    assert set(report["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert set(report["throughput"]) == {"checkouts_per_s", "orders_paid_per_s", "requests_per_s"}
    assert report["requests"] > 0 and report["status_counts"].get("200", 0) > 0
    statuses = report["status_counts_with_warmup"]
    assert all(status.startswith(("2", "4")) for status in statuses), statuses
    assert len(report["series"]) == 3
    assert report["generator_capacity"]["requests_per_s"] > 0


def test_closed_loop_smoke_run_with_profiles(tmp_path: pathlib.Path):
    # Orders enough that the measured load pays fresh ones (the ratios count orders paid).
    report = bench(tmp_path, "--concurrency", "8", "--seed", "7", "--profile", "--orders", "5000")
    assert_sound(report)
    assert report["settings"]["mode"] == "closed"
    assert report["settings"]["seed"] == 7
    # The ceiling measured against the same stack: every find answered, its CPU per process.
    find = report["find_phase"]
    assert find["non_2xx"] == 0 and find["status_counts"].get("200", 0) > 0
    assert find["checkout_per_find"] > 0
    assert SERVICES <= set(find["stack_cpu_ms_per_request"]) - {"total"}
    # A quarter of the checkout rate, offered afterwards on the last tenth of the orders.
    quarter = report["quarter_rate_phase"]
    assert quarter["offered_per_s"] == round(report["throughput"]["orders_paid_per_s"] / 4, 1)
    assert quarter["orders"] == [4500, 5000]
    assert set(quarter["status_counts"]) == {"200"}
    assert SERVICES <= set(report["rss_mb_after"])
    assert all(mb > 0 for mb in report["rss_mb_after"].values())
    assert report["targets"]["checkout_per_find"]["value"] == find["checkout_per_find"]
    # A py-spy flame graph of each Python service over the measured load.
    assert report["profiles"] == {
        name: str(tmp_path / f"profile-{name}.svg") for name in ("stock", "payment", "order")
    }
    for name in ("stock", "payment", "order"):
        svg = (tmp_path / f"profile-{name}.svg").read_text()
        assert "<svg" in svg and "samples" in svg, name


def test_profiling_needs_the_local_stack(tmp_path: pathlib.Path):
    argv = [sys.executable, "-m", "shoptools.bench", "--url", "http://127.0.0.1:9", "--profile"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--profile needs the local stack" in done.stderr


def test_open_loop_smoke_run_over_two_processes(tmp_path: pathlib.Path):
    # --compare against a gateway that is not there: said in the report, the run still passes.
    report = bench(tmp_path, "--rate", "50", "--processes", "2", "--compare", "http://127.0.0.1:9")
    assert_sound(report)
    assert report["settings"]["mode"] == "open"
    assert report["quarter_rate_phase"] is None  # an open loop already is a fixed rate
    assert report["compare"]["url"] == "http://127.0.0.1:9" and report["compare"]["error"]
    assert report["targets"]["compare"]["met"] is None
    # Every due request is sent, whatever the answers: 50/s over the 3 measured seconds.
    assert abs(report["requests"] - 150) <= 1, report["requests"]
    # Each process walks its 50 of the 100 orders once before any repeats: the first 100
    # requests (1 s of warmup, 1 s measured) pay an order each, the last 100 are repeats.
    assert abs(report["repeated_requests"] - 100) <= 1, report["repeated_requests"]
    assert abs(report["throughput"]["orders_paid_per_s"] - 50 / 3) < 0.5, report["throughput"]
    assert report["consistency"]["orders_checked"] == 100
