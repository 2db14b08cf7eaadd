"""How much CPU and memory each process of a local stack used during the load."""

import time

import psutil


class CpuMeter:
    def __init__(self, pids: dict[str, int]) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._started = time.monotonic()
        self._at_start = self._cpu_seconds()

    def _cpu_seconds(self) -> dict[str, float]:
        seconds = {}
        for name, process in self._processes.items():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            seconds[name] = times.user + times.system
        return seconds

    def used(self) -> dict[str, float]:
        """CPU seconds used per process since the meter started."""
        now = self._cpu_seconds()
        return {name: now[name] - self._at_start[name] for name in now if name in self._at_start}

    def cores(self) -> dict[str, float]:
        """Cores used per process since the meter started (1.0: one core all the time)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return {name: round(seconds / elapsed, 2) for name, seconds in self.used().items()}


def rss_mb(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory of each process that is still running, in MiB."""
    found = {}
    for name, pid in pids.items():
        try:
            found[name] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        except psutil.NoSuchProcess:
            continue
    return found
