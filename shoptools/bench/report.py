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

from shoptools.bench.stats import ms  # noqa: E402


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
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7))
    phases = plotted_phases(report)
    for label, seconds in phases.items():
        t = [s["t"] for s in seconds]
        key = "requests_per_s" if label.startswith("find") else "checkouts_per_s"
        top.plot(t, [s[key] for s in seconds], label=label)
    top.set_ylabel("answered per second (2xx for checkouts)")
    top.set_ylim(bottom=0)
    top.legend(loc="lower right", fontsize="small")
    for label, seconds in phases.items():
        t = [s["t"] for s in seconds]
        names = ("p50", "p95", "p99") if label == "checkouts" else ("p99",)
        for name in names:
            bottom.plot(t, [s["latency_ms"][name] for s in seconds], label=f"{label} {name}")
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("second of each measured phase (by when requests were due)")
    bottom.legend(loc="upper right", fontsize="small")
    top.set_title(title(report), fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plotted_phases(report: dict) -> dict[str, list[dict]]:
    phases = {"checkouts": report["series"]}
    if find := report.get("find_phase"):
        phases["find (GET /stock/find)"] = find["series"]
    if quarter := report.get("quarter_rate_phase"):
        phases[f"checkouts at {quarter['offered_per_s']:g}/s offered"] = quarter["series"]
    if (compare := report.get("compare")) and "series" in compare:
        phases["checkouts on --compare"] = compare["series"]
    return phases


def title(report: dict) -> str:
    settings = report["settings"]
    load = (
        f"open loop, {settings['rate']:g} offered/s"
        if settings["mode"] == "open"
        else f"closed loop, {settings['concurrency']} clients"
    )
    figures = report["throughput"]
    latency = report["latency_ms"]
    line = (
        f"shopmesh checkout: {load}; {figures['checkouts_per_s']:.0f} checkouts/s"
        + (
            f" ({figures['orders_paid_per_s']:.0f} orders paid/s)"
            if figures["orders_paid_per_s"] != figures["checkouts_per_s"]
            else ""
        )
        + f", p50 {ms(latency['p50'])}, p99 {ms(latency['p99'])}"
    )
    ratios = []
    if (find := report.get("find_phase")) and find.get("checkout_per_find"):
        ratios.append(f"{find['checkout_per_find']:.2f} x GET /stock/find's rate")
    if (compare := report.get("compare")) and compare.get("ratio"):
        ratios.append(f"{compare['ratio']:.1f} x --compare's")
    return line + ("\n" + "; ".join(ratios) if ratios else "")


def write(result: dict, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "report.json")
    write_plot(result, out / "report.png")


def cpu_line(per_request: dict | None) -> str:
    if not per_request:
        return ""
    parts = ", ".join(f"{name} {ms}" for name, ms in per_request.items() if name != "total")
    return f"; stack CPU per request {per_request['total']} ms ({parts})"


def print_phases(result: dict) -> None:
    """The ratios and the phases beside the checkout load."""
    print(f"checkout phase{cpu_line(result.get('stack_cpu_ms_per_request'))}")
    if find := result.get("find_phase"):
        latency = find["latency_ms"]
        print(
            f"find phase: {find['requests_per_s']:.1f} GET /stock/find/s, p50 {ms(latency['p50'])},"
            f" p99 {ms(latency['p99'])}, {find['non_2xx']} non-2xx"
            + cpu_line(find["stack_cpu_ms_per_request"])
        )
        print(f"checkouts/s (orders paid) / finds/s: {find['checkout_per_find']}")
    if quarter := result.get("quarter_rate_phase"):
        latency = quarter["latency_ms"]
        timed = (
            f"p50 {ms(latency['p50'])}, p99 {ms(latency['p99'])}"
            if latency["p99"] is not None
            else "latency not measured (no fresh order)"
        )
        print(
            f"quarter rate: {quarter['offered_per_s']:g} checkouts/s offered, "
            f"{quarter['requests_per_s']:.1f}/s answered, {timed}, "
            f"statuses {quarter['status_counts']}"
            f"{cpu_line(quarter['stack_cpu_ms_per_request'])}"
        )
        if repeated := quarter.get("repeated_requests"):
            print(
                f"note: the quarter-rate phase ran out of fresh orders: {repeated} measured"
                " requests asked for an order it had requested before; its latency counts each"
                " order's first request only (--orders: more fresh orders)"
            )
    if rss := result.get("rss_mb_after"):
        print("RSS after the run (MiB): " + ", ".join(f"{n} {mb}" for n, mb in rss.items()))
    if compare := result.get("compare"):
        if "error" in compare:
            print(f"compare: {compare['url']} failed: {compare['error']}")
        else:
            theirs, latency = compare["throughput"], compare["latency_ms"]
            print(
                f"compare: {compare['url']} {theirs['checkouts_per_s']:.1f} successful checkouts/s"
                f" ({theirs['orders_paid_per_s']:.1f} orders paid/s), p50 {ms(latency['p50'])}, "
                f"p99 {ms(latency['p99'])}, statuses {compare['status_counts']}; "
                f"ratio {compare['ratio']}"
            )
    for name, figure in (result.get("targets") or {}).items():
        bound = ">=" if figure["bound"] == "min" else "<="
        met = {True: "met", False: "NOT met", None: "not measured"}[figure["met"]]
        print(f"target {name}: {figure['value']} ({bound} {figure['target']}): {met}")


def print_summary(result: dict, out: pathlib.Path) -> None:
    figures, latency = result["throughput"], result["latency_ms"]
    duration = result["settings"]["duration"]
    print(
        f"throughput: {figures['checkouts_per_s']:.1f} successful checkouts/s "
        f"({figures['orders_paid_per_s']:.1f} orders paid/s, {result['repeated_requests']} "
        f"repeated requests), {figures['requests_per_s']:.1f} requests/s over {duration:g} s",
        f"latency: p50 {ms(latency['p50'])}, p95 {ms(latency['p95'])}, "
        f"p99 {ms(latency['p99'])}, max {ms(latency['max'])}",
        f"statuses: {result['status_counts']} (with warmup: {result['status_counts_with_warmup']})",
        sep="\n",
    )
    if result["repeated_requests"]:
        print(
            f"note: {result['repeated_requests']} measured requests checked out an order paid "
            "earlier in the run, answered as cheaply as a read; the ratios and CPU per checkout "
            "count orders paid (--orders: more fresh orders)"
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
    print_phases(result)
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
