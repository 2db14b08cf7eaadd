"""What the chaos run saw: per-second statuses with the faults marked, availability, how long
each killed process took to serve again, the checks; report.json and report.png."""

import json
import math
import pathlib
from collections import Counter

import matplotlib

from shoptools.bench.load import NO_ANSWER
from shoptools.bench.report import command_line, machine
from shoptools.bench.stats import latency_ms, status_label

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

COLOURS = {"200": "tab:green", "4xx": "tab:orange", "5xx": "tab:red", "no answer": "tab:gray"}


def kind(status: int) -> str:
    if status == NO_ANSWER:
        return "no answer"
    return "200" if status == 200 else f"{status // 100}xx"


def per_second(samples, faults, seconds: int) -> list[dict]:
    rows = [{"t": t, "status_counts": Counter(), "faults": []} for t in range(seconds)]
    for due, _, status, _ in samples:
        rows[min(int(due), seconds - 1)]["status_counts"][status_label(status)] += 1
    for fault in faults:
        if fault.done_at_s is not None and 0 <= fault.done_at_s < seconds:
            rows[int(fault.done_at_s)]["faults"].append(fault.label())
    for row in rows:
        row["status_counts"] = dict(sorted(row["status_counts"].items()))
    return rows


def failures_after_kills(samples, faults) -> dict:
    """Every request that did not get a 200, by how long after the latest fault it was due."""
    done = sorted(f.done_at_s for f in faults if f.done_at_s is not None)
    after = []
    for due, _, status, _ in samples:
        if status != 200:
            before = [at for at in done if at <= due + 0.5]  # in flight when it struck
            after.append(due - before[-1] if before else math.inf)
    return {
        "failed_requests": len(after),
        "max_s_after_a_fault": round(max(after), 2) if after else None,
        "outside_3_s_of_a_fault": sum(1 for s in after if s > 3.0),
    }


def restarts_of(restarts, start_at_monotonic_offset: float) -> list[dict]:
    return [
        {
            "process": r.name,
            "exit_code": r.exit_code,
            "serving_again_after_s": None if r.downtime_s is None else round(r.downtime_s, 2),
        }
        for r in restarts
    ]


def build(settings, load, faults, restarts, check, verdict, start_at: float) -> dict:
    samples = load.samples
    kinds = Counter(kind(s[2]) for s in samples)
    total = max(1, len(samples))
    seconds = math.ceil(settings.warmup + settings.duration)
    downtimes = [r.downtime_s for r in restarts if r.downtime_s is not None]
    problems = []
    problems += [f"{kinds['5xx']} answers were 5xx"] if kinds["5xx"] else []
    problems += [f"{check['violations']} consistency violations"] if not check["passed"] else []
    problems += [] if verdict["passed"] else [f"auditor exited {verdict['exit_code']}"]
    problems += [f"{len(restarts) - len(downtimes)} killed processes never served again"] * (
        len(restarts) > len(downtimes)
    )
    return {
        "command": command_line(),
        "machine": machine(),
        "settings": {
            k: str(v) if isinstance(v, pathlib.Path) else v for k, v in vars(settings).items()
        },
        "requests": len(samples),
        "status_kinds": dict(kinds),
        "availability": round(kinds["200"] / total, 5),
        "latency_ms": latency_ms(samples),
        # Refusals and 200s apart: a refusal's latency is what the deadline bounds.
        "latency_ms_by_status": {
            label: latency_ms([x for x in samples if status_label(x[2]) == label])
            for label in sorted({status_label(x[2]) for x in samples})
        },
        "faults": [
            {"at_s": f.done_at_s, "fault": f.label(), "pid": f.pid} for f in faults if f.done_at_s
        ],
        "restarts": restarts_of(restarts, start_at),
        "max_serving_again_after_s": round(max(downtimes), 2) if downtimes else None,
        "failures_after_faults": failures_after_kills(samples, faults),
        "consistency": check,
        "auditor": verdict,
        "passed": not problems,
        "problems": problems,
        "series": per_second(samples, faults, seconds),
    }


def write_plot(result: dict, path: pathlib.Path) -> None:
    rows = result["series"]
    t = [row["t"] for row in rows]
    figure, axes = plt.subplots(figsize=(11, 5))
    bottom = [0] * len(rows)
    for name, colour in COLOURS.items():
        values = [
            sum(n for s, n in row["status_counts"].items() if kind_of_label(s) == name)
            for row in rows
        ]
        axes.bar(t, values, bottom=bottom, color=colour, label=name, width=1.0)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for fault in result["faults"]:
        axes.axvline(fault["at_s"], color="black", linestyle="--", linewidth=0.8)
        axes.text(
            fault["at_s"],
            max(bottom or [1]) * 1.02,
            fault["fault"],
            rotation=90,
            fontsize=7,
            va="bottom",
        )
    axes.set_xlabel("second of the run (by when requests were due)")
    axes.set_ylabel("checkouts per second, by answer")
    axes.legend(loc="lower right")
    axes.set_title(
        f"chaos: availability {result['availability']:.4%}, "
        f"{'passed' if result['passed'] else 'FAILED'}",
        pad=60,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def kind_of_label(label: str) -> str:
    if label == "no answer":
        return label
    return "200" if label == "200" else f"{label[0]}xx"


def write(result: dict, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    write_plot(result, out / "report.png")


def print_summary(result: dict, out: pathlib.Path) -> None:
    print("\nsecond  statuses                                   faults")
    for row in result["series"]:
        counts = " ".join(f"{s}:{n}" for s, n in row["status_counts"].items())
        marks = ("  <== " + ", ".join(row["faults"])) if row["faults"] else ""
        print(f"{row['t']:>6}  {counts:<42}{marks}")
    print(f"\nrequests: {result['requests']}  {result['status_kinds']}")
    print(f"availability: {result['availability']:.4%}  latency: {result['latency_ms']}")
    for label, figures in result["latency_ms_by_status"].items():
        print(f"  latency of {label}: {figures}")
    for restart in result["restarts"]:
        print(
            f"restart: {restart['process']} (exit {restart['exit_code']}) serving again after"
            f" {restart['serving_again_after_s']} s"
        )
    print(f"failures after faults: {result['failures_after_faults']}")
    check = result["consistency"]
    print(
        f"consistency: {'passed' if check['passed'] else 'FAILED'}"
        f" ({check['orders_paid']} orders paid, {check['violations']} violations)"
    )
    verdict = result["auditor"]
    said = "passed" if verdict["passed"] else "FAILED"
    said = said if verdict.get("judged", True) else "not judged"
    print(f"auditor: {said}: " + " / ".join(verdict["output"][-3:]))
    print(f"report: {out / 'report.json'}, {out / 'report.png'}")
    print("PASSED" if result["passed"] else "FAILED: " + "; ".join(result["problems"]))
