"""The faults: a schedule of kills and pauses, carried out on a supervised stack's processes,
and what was done when (seconds since the load's t = 0)."""

import dataclasses
import os
import signal
import threading
import time


@dataclasses.dataclass
class Fault:
    at_s: float  # when, since the load's t = 0
    kind: str  # "kill", "pause" or "partition"
    victim: str  # process name in the stack: stock, stock-2, envoy, ...
    pause_s: float = 0.0
    done_at_s: float | None = None  # when it was actually carried out
    pid: int | None = None

    def label(self) -> str:
        if self.kind in ("pause", "partition"):
            return f"{self.kind} {self.victim} {self.pause_s:g}s"
        return f"kill -9 {self.victim}"


def victims_in_turn(stack, services: tuple[str, ...]) -> list[str]:
    """Each service in turn, one process of it at a time (its replicas take turns), and Envoy."""
    rounds = max(len(stack.config.process_names(name)) for name in services)
    order = []
    for i in range(rounds):
        for name in services:
            processes = stack.config.process_names(name)
            order.append(processes[i % len(processes)])
        order.append("envoy")
    return order


def schedule(victims: list[str], every_s: float, start_s: float, end_s: float) -> list[Fault]:
    faults, at, i = [], start_s, 0
    while at < end_s and victims:
        faults.append(Fault(at, "kill", victims[i % len(victims)]))
        at, i = at + every_s, i + 1
    return faults


class Nemesis:
    """Carries out the faults in a thread, on time, against the stack's current processes."""

    def __init__(self, stack, faults: list[Fault], start_at: float, network=None) -> None:
        self.stack = stack
        self.network = network  # the victim's namespace (netns.Namespace), for partitions
        self.faults = sorted(faults, key=lambda f: f.at_s)
        self.start_at = start_at  # time.time() of the load's t = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nemesis", daemon=True)

    def _run(self) -> None:
        for fault in self.faults:
            if self._stop.wait(max(0.0, self.start_at + fault.at_s - time.time())):
                return
            self._carry_out(fault)

    def _carry_out(self, fault: Fault) -> None:
        process = self.stack.processes.get(fault.victim)
        if process is None or process.poll() is not None:
            return  # already down: nothing to do
        fault.pid, fault.done_at_s = process.pid, time.time() - self.start_at
        print(f"nemesis: t={fault.done_at_s:.1f}s {fault.label()} (pid {process.pid})", flush=True)
        if fault.kind == "kill":
            os.kill(process.pid, signal.SIGKILL)
            return
        if fault.kind == "partition":
            self.network.cut()
            try:
                self._stop.wait(fault.pause_s)
            finally:
                self.network.heal()
                print(f"nemesis: t={time.time() - self.start_at:.1f}s healed", flush=True)
            return
        os.kill(process.pid, signal.SIGSTOP)
        try:
            self._stop.wait(fault.pause_s)
        finally:
            os.kill(process.pid, signal.SIGCONT)

    def __enter__(self) -> "Nemesis":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
