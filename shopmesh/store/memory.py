"""An in-memory transactional store, with the SQLite store's contract, for tests and the
simulator: nothing is written anywhere, so the data is lost when the process exits.

The state is a set of named tables (plain dicts). A work runs against a private view of them
(`Tables`) that copies a table the first time the work writes it (copy-on-write, per table;
repositories copy values in and out, so a stored value is never shared with the rules), and
the view replaces the state only if the work returns: an exception rolls everything back.
Transactions take one lock, one at a time like SQLite's BEGIN IMMEDIATE, and a read sees the
state one commit left.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from shopmesh.errors import ShopError

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")

State = dict[str, dict[Any, Any]]

# What SQLite and Spanner store in an INTEGER / INT64 column.
_INT64 = range(-(2**63), 2**63)


async def _suspend() -> None:
    """Every call to a real store suspends the caller (a thread, a network round trip): so
    does this one, so that other tasks run in between here too."""
    await asyncio.sleep(0)


class ConstraintViolation(ValueError):
    """A write the real adapters' schema refuses (a CHECK, an INT64 out of range): the rules
    should never make one, so it is a bug, like sqlite3.IntegrityError."""


def check(condition: bool, what: str) -> None:
    """Refuse a write, as a CHECK constraint of the SQL schema would."""
    if not condition:
        raise ConstraintViolation(f"CHECK constraint failed: {what}")


def check_ints(**columns: int) -> None:
    for name, value in columns.items():
        check(value in _INT64, f"{name} fits in INT64")


class Tables:
    """One transaction's view of the state: reads see the state as it was, and a table is
    copied before the first write to it."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._copied: State = {}

    def rows(self, table: str) -> dict[Any, Any]:
        """The table to read (do not write it: use `writable`)."""
        return self._copied.get(table, self._state[table])

    def writable(self, table: str) -> dict[Any, Any]:
        if table not in self._copied:
            self._copied[table] = dict(self._state[table])
        return self._copied[table]

    def committed(self) -> State:
        """The state with this view's writes, to replace the old one."""
        return {**self._state, **self._copied}


class MemoryStore(Generic[R]):
    """A service's tables in memory, with `transact` and `read` running functions of a
    repository built over them."""

    def __init__(
        self, tables: Iterable[str], repository: Callable[[Tables], R], name: str = "memory"
    ) -> None:
        self.name = name
        self._state: State = {table: {} for table in tables}
        self._repository = repository
        self._lock = asyncio.Lock()
        self._open = False

    async def open(self) -> None:
        """Idempotent; a store closed and opened again keeps its data (like reopening a file)."""
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def transact(self, work: Callable[[R], T]) -> T:
        """Run `work` in one write transaction; an exception rolls everything back."""
        await _suspend()
        async with self._lock:
            tables = Tables(self._opened())
            result = work(self._repository(tables))
            self._state = tables.committed()
            return result

    async def transact_each(self, works: Sequence[Callable[[R], T]]) -> list[T | Exception]:
        """Run each work as if in a write transaction of its own: an exception undoes that work
        alone and is its result. The others commit together."""
        await _suspend()
        async with self._lock:
            state = self._opened()
            results: list[T | Exception] = []
            for work in works:
                attempt = Tables(state)
                try:
                    results.append(work(self._repository(attempt)))
                except Exception as failure:  # noqa: BLE001 - that work's result, the others go on
                    if not isinstance(failure, ShopError):
                        log.error("one work of a batch failed; the others go on", exc_info=failure)
                    results.append(failure)
                    continue
                state = attempt.committed()
            self._state = state
            return results

    async def read(self, work: Callable[[R], T]) -> T:
        """Run `work` against one consistent snapshot (its writes are dropped). Works run
        whole on the event loop, so no commit lands halfway through one: no lock needed,
        as WAL readers do not wait for the writer."""
        await _suspend()
        return work(self._repository(Tables(self._opened())))

    async def put_in_chunks(
        self,
        rows: Iterable[T],
        put: Callable[[R, list[T]], None],
        check: Callable[[R, list[T]], None] | None = None,
    ) -> None:
        """Bulk load, here in one transaction (no commit size limit): a refusal of `check`
        (read-only) or `put` rolls back everything."""

        def work(repo: R) -> None:
            chunk = list(rows)
            if check is not None:
                check(repo, chunk)
            put(repo, chunk)

        await self.transact(work)

    def _opened(self) -> State:
        if not self._open:
            raise RuntimeError(f"{self.name} is not open")
        return self._state
