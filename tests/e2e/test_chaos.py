"""`make chaos`, briefly: kills and a pause under load on its own supervised stack, and a report
that says what happened and that nothing was lost."""

import json
import pathlib
import subprocess
import sys

import pytest

from shoptools.devstack import ROOT

pytestmark = pytest.mark.e2e


def test_a_short_chaos_run_reports_restarts_and_a_clean_verdict(tmp_path: pathlib.Path):
    out = tmp_path / "chaos"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shoptools.chaos",
            *("--rate", "30", "--warmup", "1", "--duration", "9", "--kill-every", "3"),
            *("--victim", "payment", "--pause", "stock", "--pause-s", "1.5"),
            *("--out", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads((out / "report.json").read_text())
    assert (out / "report.png").stat().st_size > 0
    assert report["passed"] and not report["problems"]
    assert report["consistency"]["passed"] and report["consistency"]["orders_paid"] > 0
    assert report["auditor"]["passed"]
    kills = [f for f in report["faults"] if f["fault"] == "kill -9 payment"]
    assert kills and any(f["fault"].startswith("pause stock") for f in report["faults"])
    restarted = [r for r in report["restarts"] if r["process"] == "payment"]
    assert len(restarted) == len(kills)
    assert all(r["serving_again_after_s"] is not None for r in restarted)
    assert "5xx" not in report["status_kinds"]
    # The per-second table marks the faults.
    assert "<== kill -9 payment" in done.stdout
    assert "PASSED" in done.stdout


def _no_namespaces() -> str | None:
    from shoptools.chaos.netns import unavailable_reason

    reason = unavailable_reason()
    if reason is None and subprocess.run(["ip", "netns", "list"], capture_output=True).returncode:
        reason = "`ip netns` does not work here"
    return reason


@pytest.mark.skipif(_no_namespaces() is not None, reason=str(_no_namespaces()))
def test_a_partitioned_participant_is_cut_off_and_heals_with_nothing_lost(tmp_path):
    out = tmp_path / "chaos"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shoptools.chaos",
            *("--rate", "30", "--warmup", "1", "--duration", "10", "--kill-every", "0"),
            *("--partition", "payment", "--partition-s", "2.5", "--out", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "runs in network namespace shopchaos-" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert [f["fault"] for f in report["faults"]] == ["partition payment 2.5s"]
    assert "<== partition payment 2.5s" in done.stdout
    # Cut off: checkouts during the partition are refused (payment unreachable), none 5xx,
    # and once healed they are paid again; nothing is lost either way.
    partitioned_at = report["faults"][0]["at_s"]
    seconds = report["series"]
    during = seconds[int(partitioned_at) + 1]["status_counts"]
    after = seconds[-1]["status_counts"]
    assert during.get("409", 0) > 0, seconds
    assert after.get("200", 0) > 0 and set(after) == {"200"}, seconds
    assert "5xx" not in report["status_kinds"]
    assert report["consistency"]["passed"] and report["auditor"]["passed"]
    # The namespace and its veth are gone.
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "shopchaos-" not in namespaces or all(
        pathlib.Path(f"/proc/{line.split()[0].removeprefix('shopchaos-')}").exists()
        for line in namespaces.splitlines()
        if line.startswith("shopchaos-")
    )
