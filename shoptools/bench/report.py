"""The report: report.json (figures, settings, machine) and report.png (figures over time)."""

import json
import os
import pathlib
import platform
import shlex
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def command_line() -> str:
    return shlex.join(["python", "-m", "shoptools.bench", *sys.argv[1:]])


def write_json(report: dict, path: pathlib.Path) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n")


def write_plot(report: dict, path: pathlib.Path) -> None:
    seconds = report["series"]
    t = [s["t"] for s in seconds]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7))
    top.plot(t, [s["requests_per_s"] for s in seconds], label="all requests/s")
    top.plot(t, [s["checkouts_per_s"] for s in seconds], label="successful checkouts/s")
    top.set_ylabel("per second")
    top.set_ylim(bottom=0)
    top.legend(loc="lower right")
    for name in ("p50", "p95", "p99"):
        bottom.plot(t, [s["latency_ms"][name] for s in seconds], label=name)
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("second of the measured run (by when requests were due)")
    bottom.legend(loc="upper right")
    top.set_title(title(report))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def title(report: dict) -> str:
    settings = report["settings"]
    load = (
        f"open loop, {settings['rate']:g} offered/s"
        if settings["mode"] == "open"
        else f"closed loop, {settings['concurrency']} clients"
    )
    figures = report["throughput"]
    latency = report["latency_ms"]
    return (
        f"shopmesh checkout: {load}; {figures['checkouts_per_s']:.0f} checkouts/s, "
        f"p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms"
    )


def write(result: dict, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "report.json")
    write_plot(result, out / "report.png")


def print_summary(result: dict, out: pathlib.Path) -> None:
    figures, latency = result["throughput"], result["latency_ms"]
    duration = result["settings"]["duration"]
    print(
        f"throughput: {figures['checkouts_per_s']:.1f} successful checkouts/s "
        f"({figures['orders_paid_per_s']:.1f} orders paid/s, {result['repeated_requests']} "
        f"repeated requests), {figures['requests_per_s']:.1f} requests/s over {duration:g} s",
        f"latency: p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
        f"p99 {latency['p99']} ms, max {latency['max']} ms",
        f"statuses: {result['status_counts']} (with warmup: {result['status_counts_with_warmup']})",
        sep="\n",
    )
    if capacity := result["generator_capacity"]:
        print(
            f"generator alone: {capacity['requests_per_s']:.0f} requests/s "
            f"using {capacity['processes_cpu_cores']} cores "
            f"({capacity['requests_per_cpu_second']} requests per CPU second)"
        )
    during = result["generator_during_load"]
    print(
        f"generator during the load: {during['processes_cpu_cores']} cores, "
        f"{during['cpu_ms_per_request']} ms CPU per request"
    )
    if result.get("stack_cpu_cores"):
        used = ", ".join(f"{name} {cores}" for name, cores in result["stack_cpu_cores"].items())
        print(f"stack CPU (cores): {used}; {result['stack_cpu_ms_per_checkout']} ms per checkout")
    check = result["consistency"]
    verdict = "passed" if check["passed"] else f"FAILED, {check['violations']} violations"
    print(
        f"consistency: {verdict} ({check['orders_checked']} orders, "
        f"{check['items_checked']} items, {check['users_checked']} users)"
    )
    for example in check["violation_examples"]:
        print(f"  {example}")
    for name, where in (result.get("profiles") or {}).items():
        print(f"profile of {name}: {where}")
    print(f"report: {out / 'report.json'}, {out / 'report.png'}")
    print("PASSED" if result["passed"] else "FAILED: " + "; ".join(result["failures"]))
