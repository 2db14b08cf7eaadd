"""Simulated processes: each service (a coordinator replica, stock, payment) runs as a series
of incarnations. An incarnation owns the tasks its code creates (vloop tags them); a crash
fences its store handle, so nothing it still runs can write, and cancels its tasks: its memory
is gone, its store stays, as with kill -9. A restart builds the real objects afresh."""

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from shoptools.sim.vloop import PROCESS


class ProcessDead(BaseException):
    """Raised into the code of a crashed incarnation that still tries to use its store (a
    BaseException, so that no `except Exception` of the code under test swallows it)."""


class StoreFailure(RuntimeError):
    """A store transaction that failed before it committed (simulated disk I/O error)."""


class Incarnation:
    def __init__(self, service: str, name: str) -> None:
        self.service = service
        self.name = name
        self.alive = True
        self.handler: Any = None  # what the network delivers calls to
        self.parts: dict[str, Any] = {}  # the real objects it runs, by role
        self._tasks: dict[asyncio.Task, None] = {}
        self.context = None

    def adopt(self, task: asyncio.Task) -> None:
        if not self.alive:
            task.cancel()
            return
        self._tasks[task] = None
        task.add_done_callback(lambda done: self._tasks.pop(done, None))

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        """A task of this process (a request it serves, a background loop)."""
        token = PROCESS.set(self)
        try:
            return asyncio.get_running_loop().create_task(coro)
        finally:
            PROCESS.reset(token)

    def crash(self) -> None:
        self.alive = False
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()


class ProcessStore:
    """One incarnation's handle on a service's store: each transaction takes a little virtual
    time (disk, network), so that others interleave, and none of a dead incarnation commits."""

    def __init__(
        self,
        store: Any,
        owner: Incarnation,
        rng: random.Random,
        latency_s: float,
        weather: Any = None,
    ) -> None:
        self._weather = weather
        self._store = store
        self._owner = owner
        self._rng = rng
        self._latency_s = latency_s

    async def _io(self) -> None:
        if not self._owner.alive:
            raise ProcessDead(self._owner.name)
        await asyncio.sleep(self._rng.uniform(0.0, self._latency_s))
        if self._weather is not None and self._rng.random() < self._weather.store_failure:
            raise StoreFailure("disk I/O error (simulated)")

    def _fenced(self, work: Callable) -> Callable:
        def guarded(repo):
            if not self._owner.alive:
                raise ProcessDead(self._owner.name)
            return work(repo)

        return guarded

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def transact(self, work):
        await self._io()
        return await self._store.transact(self._fenced(work))

    async def read(self, work):
        await self._io()
        return await self._store.read(work)

    async def transact_each(self, works):
        await self._io()
        if not self._owner.alive:
            raise ProcessDead(self._owner.name)
        results = await self._store.transact_each([self._fenced(w) for w in works])
        if not self._owner.alive:  # fenced mid-batch: nothing of it committed
            raise ProcessDead(self._owner.name)
        return results

    async def put_in_chunks(self, rows, put, check=None):
        await self._io()
        return await self._store.put_in_chunks(rows, put, check)


class Service:
    """A service name, its store, and how to start an incarnation of it."""

    def __init__(self, name: str, store: Any, start: Callable[[Incarnation], None]) -> None:
        self.name = name
        self.store = store
        self._start = start
        self.current: Incarnation | None = None
        self._count = 0

    def boot(self) -> Incarnation:
        self._count += 1
        incarnation = Incarnation(self.name, f"{self.name}#{self._count}")
        self.current = incarnation
        self._start(incarnation)
        return incarnation

    def crash(self) -> None:
        if self.current is not None:
            self.current.crash()
            self.current = None
