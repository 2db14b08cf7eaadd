"""How much CPU each process of a local stack used during the load: where the time goes."""

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

    def cores(self) -> dict[str, float]:
        """Cores used per process since the meter started (1.0: one core all the time)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        now = self._cpu_seconds()
        return {
            name: round((now[name] - self._at_start[name]) / elapsed, 2)
            for name in now
            if name in self._at_start
        }
