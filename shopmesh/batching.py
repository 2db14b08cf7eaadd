"""Natural batching, the group commit of databases: the first request goes out at once, and
whatever arrives while a batch is underway goes out together in the next one. Under light
load every batch holds one request (no added latency); under heavy load batches grow, and
the fixed cost of a call or a commit is shared by many requests.

Work nobody waits for (checkout's phase two) can afford to `linger`: each batch first waits
that long for company, so that light load also shares the fixed cost. An item somebody does
wait for is submitted `urgent`: the batch it joins stops lingering and goes out at once, and so
does a batch that filled up.

One item's bad data must not fail the others: when a batch of several fails with an
unexpected exception (not a ShopError, which says the whole call was refused, e.g. a peer that
is down), each item is run again on its own, and only those that fail alone get the failure.
"""

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Generic, Protocol, TypeVar

from shopmesh.errors import ShopError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class BatchScope(Protocol):
    """What a batch carries for its submitters beside their items (e.g. their trace span):
    `capture` runs at submit, in the submitter's context; the batch function runs inside
    `around(what was captured for each item)`."""

    def capture(self) -> object: ...
    def around(self, captured: Sequence[object]) -> AbstractContextManager[object]: ...


class Batcher(Generic[T, R]):
    """`submit(item)` is a future of `run_batch([item, ...])[i]`: one result per item, in
    order, where an exception instance is that item's failure. Await it for the result, or
    drop it for work nobody waits for (its failure is then the batch function's to report)."""

    def __init__(
        self,
        run_batch: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        max_batch: int = 500,
        max_in_flight: int = 1,
        linger_s: float = 0.0,
        scope: BatchScope | None = None,
    ) -> None:
        self._run_batch = run_batch
        self._scope = scope
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._linger_s = linger_s
        self._waiting: list[tuple[T, asyncio.Future, object, bool]] = []
        self._lingering: asyncio.Future[None] | None = None
        self._in_flight = 0
        self._starting = False  # a batch's task is created but has not taken its items yet
        self._tasks: set[asyncio.Task] = set()

    def submit(self, item: T, *, urgent: bool = False) -> "asyncio.Future[R]":
        """`urgent`: somebody waits for this item, so its batch does not linger."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # Retrieved here too, so that a failure nobody awaits is not reported as lost.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        captured = self._scope.capture() if self._scope is not None else None
        self._waiting.append((item, future, captured, urgent))
        if urgent or len(self._waiting) >= self._max_batch:
            _wake(self._lingering)
        self._start_batches()
        return future

    async def drain(self) -> None:
        """Wait until everything submitted so far has gone out and come back."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _start_batches(self) -> None:
        # A batch takes what is waiting when its task first runs, not when it is created, so
        # that everything submitted in the same turn of the event loop goes out together.
        if self._waiting and not self._starting and self._in_flight < self._max_in_flight:
            self._starting = True
            self._in_flight += 1
            task = asyncio.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        if self._linger_s and len(self._waiting) < self._max_batch and not self._any_urgent():
            try:
                await self._linger()
            except BaseException:  # cancelled while gathering: free the slot for the next one
                self._starting = False
                self._in_flight -= 1
                raise
        self._starting = False
        batch = self._waiting[: self._max_batch]
        del self._waiting[: self._max_batch]
        self._start_batches()  # what did not fit, if a slot is free
        try:
            results = await self._results([(item, captured) for item, _, captured, _ in batch])
        finally:
            self._in_flight -= 1
        for (_, future, _, _), result in zip(batch, results, strict=True):
            if future.done():  # its waiter gave up (cancelled)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._start_batches()

    def _any_urgent(self) -> bool:
        return any(urgent for *_, urgent in self._waiting)

    async def _linger(self) -> None:
        """Wait `linger_s` for company, or less if an urgent item comes or the batch fills."""
        loop = asyncio.get_running_loop()
        self._lingering = lingering = loop.create_future()
        timer = loop.call_later(self._linger_s, _wake, lingering)
        try:
            await lingering
        finally:
            timer.cancel()
            self._lingering = None

    async def _results(self, items: list[tuple[T, object]]) -> Sequence[R | BaseException]:
        try:
            return await self._checked(items)
        except Exception as failure:  # noqa: BLE001 - handed to the waiters
            if len(items) == 1 or isinstance(failure, ShopError):
                return [failure] * len(items)
            log.warning("a batch of %d failed (%r); running each alone", len(items), failure)
            alone = await asyncio.gather(
                *(self._checked([item]) for item in items), return_exceptions=True
            )
            return [result if isinstance(result, BaseException) else result[0] for result in alone]
        except BaseException as failure:  # noqa: BLE001 - cancelled: every waiter is told
            return [failure] * len(items)

    async def _checked(self, entries: list[tuple[T, object]]) -> Sequence[R | BaseException]:
        items = [item for item, _ in entries]
        if self._scope is None:
            results = await self._run_batch(items)
        else:
            with self._scope.around([captured for _, captured in entries]):
                results = await self._run_batch(items)
        if len(results) != len(items):
            raise RuntimeError(f"{len(results)} results for a batch of {len(items)}")
        return results


def _wake(lingering: "asyncio.Future[None] | None") -> None:
    if lingering is not None and not lingering.done():
        lingering.set_result(None)


def in_this_context(work: Callable[..., R]) -> Callable[..., R]:
    """`work` bound to the caller's context variables (its request id, for log lines and
    events), for when a batch runs it on another task or thread."""
    return partial(contextvars.copy_context().run, work)
