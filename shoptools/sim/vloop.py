"""An asyncio event loop on virtual time: when nothing is ready, the clock jumps to the next
timer instead of waiting for it, so seconds of protocol time (leases, deadlines, backoffs)
pass in microseconds, and the order of events depends on nothing but the program and its
seed. asyncio's own scheduler is deterministic (FIFO ready queue, timers by time); only the
waiting is replaced. Written here rather than taken from a library (looptime) because the
simulator also needs every task tagged with the simulated process that created it, so that
a crash can end exactly that process's tasks."""

import asyncio
import contextvars
import selectors
from collections.abc import Coroutine
from typing import Any

# The simulated process (an `Incarnation`) whose code is running; inherited by every task
# it creates, as contextvars are.
PROCESS: contextvars.ContextVar[Any] = contextvars.ContextVar("sim_process", default=None)


class Deadlock(RuntimeError):
    """Nothing is ready and no timer is set: the run can never move again."""


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A wait becomes a jump of the clock."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None):  # type: ignore[override]
        # Only another thread or a signal could write the self-pipe: the simulator has
        # neither, so the real poll is skipped (it was a tenth of the run time).
        if self.loop is None:
            return super().select(timeout)
        events: list = []
        if timeout is None:
            raise Deadlock("no task is ready and no timer is set")
        self.loop.advance(timeout)
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 1000.0) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = start
        self.set_task_factory(_tagged_task)  # type: ignore[arg-type]

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


def _tagged_task(loop: asyncio.AbstractEventLoop, coro: Coroutine, **kwargs: Any) -> asyncio.Task:
    task = asyncio.Task(coro, loop=loop, **kwargs)
    context = kwargs.get("context")
    process = context.get(PROCESS) if context is not None else PROCESS.get()
    if process is not None:
        process.adopt(task)
    return task
