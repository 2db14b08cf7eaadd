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
