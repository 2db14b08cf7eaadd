"""Sampling profiles of the stack's Python services during the measured load (--profile).

py-spy attaches to each running service from outside (ptrace: root, or CAP_SYS_PTRACE) and
writes a flame graph, <out>/profile-<service>.svg, where the width of a frame is its share of
the samples. It samples without pausing the process (--nonblocking), so the profile barely
changes the figures; that rules out C frames (--native), so time inside grpc's C core shows up
as the Python frame that called into it (often asyncio's `Handle._run`, grpc.aio's callbacks).
Idle threads are left out: a graph shows where the CPU went, not where threads waited.
"""

import pathlib
import shutil
import subprocess
import sys

from shoptools.devstack import SERVICES
from shoptools.replicas import split_name

RATE_HZ = 250


def py_spy() -> str | None:
    """The py-spy next to this interpreter (the venv's), else one on PATH."""
    beside = pathlib.Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    def __init__(self, pids: dict[str, int], out: pathlib.Path, seconds: float) -> None:
        self.pids = {n: pid for n, pid in pids.items() if split_name(n)[0] in SERVICES}
        self.out = out
        self.seconds = seconds
        self.running: dict[str, subprocess.Popen] = {}
        self.tool = py_spy()
        if self.tool is None:
            raise SystemExit("--profile needs py-spy: pip install py-spy (make install has it)")

    def path(self, name: str) -> pathlib.Path:
        return self.out / f"profile-{name}.svg"

    def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [self.tool, "record", "--pid", str(pid), "--nonblocking"]
            command += ["--duration", str(round(self.seconds)), "--rate", str(RATE_HZ)]
            command += ["--format", "flamegraph", "--output", str(self.path(name))]
            self.running[name] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )

    def finish(self) -> dict[str, str]:
        """Wait for every profile; each service's SVG path, or why there is none."""
        written = {}
        for name, process in self.running.items():
            _, errors = process.communicate(timeout=self.seconds + 60)
            if process.returncode == 0 and self.path(name).exists():
                written[name] = str(self.path(name))
            else:
                lines = errors.strip().splitlines() or [f"exit code {process.returncode}"]
                written[name] = f"failed: {lines[-1]}"
        return written
