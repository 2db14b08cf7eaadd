"""SQLite as an embedded transactional store, used from asyncio.

A store runs every transaction as a plain function on one dedicated thread that owns the
connection, mirroring Spanner's `run_in_transaction(fn)`: the rules stay synchronous and pure,
the event loop never blocks on disk. Write transactions start with BEGIN IMMEDIATE, which
takes SQLite's write lock up front, so a read-check-write inside one function is atomic even
against other processes on the same file (they wait on busy_timeout instead of deadlocking on
a lock upgrade).

WAL with synchronous=FULL (the default) syncs the WAL to disk before COMMIT returns, so a
committed transaction survives a power loss too; synchronous=NORMAL (SQLITE_SYNCHRONOUS, an
explicit opt-in) survives a process crash but may lose the last commits to a power loss, and
with them a checkout decision already answered 200. Batches share one sync among many
checkouts (`transact_each`), which keeps FULL cheap.
"""

import asyncio
import contextvars
import logging
import pathlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from shopmesh.errors import ShopError

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")


class SqliteStore(Generic[R]):
    """A service's SQLite file, with `transact` and `read` running functions of a repository."""

    def __init__(
        self,
        path: pathlib.Path,
        schema: str,
        repository: Callable[[sqlite3.Connection], R],
        *,
        synchronous: str = "FULL",
        busy_timeout_s: float = 30.0,
        migrate: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        self.path = path
        self._schema = schema
        self._repository = repository
        self._synchronous = synchronous
        self._migrate = migrate
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._run(self._open)
        log.info("opened %s", self.path)

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)

    async def transact(self, work: Callable[[R], T]) -> T:
        """Run `work` in one write transaction; an exception rolls everything back."""
        return await self._run(self._in_transaction, "BEGIN IMMEDIATE", work)

    async def transact_each(self, works: Sequence[Callable[[R], T]]) -> list[T | Exception]:
        """Run each work as if in a write transaction of its own: an exception (a ShopError,
        or a bug one request's data provoked) undoes that work alone and is its result. All
        commit together, in one sync to disk."""
        return await self._run(self._each_in_transaction, works)

    async def read(self, work: Callable[[R], T]) -> T:
        """Run `work` against one consistent snapshot."""
        return await self._run(self._in_transaction, "BEGIN", work)

    async def put_in_chunks(
        self,
        rows: Iterable[T],
        put: Callable[[R, list[T]], None],
        check: Callable[[R, list[T]], None] | None = None,
    ) -> None:
        """Bulk load, here in one transaction: SQLite has no commit size limit. A refusal of
        `check` (read-only) or `put` in any chunk rolls back all of them."""

        def put_checked(repo: R, chunk: list[T]) -> None:
            if check is not None:
                check(repo, chunk)
            put(repo, chunk)

        def work(repo: R) -> None:
            chunk: list[T] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) == 10_000:
                    put_checked(repo, chunk)
                    chunk = []
            put_checked(repo, chunk)

        await self.transact(work)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        # In the caller's context, so that the work's log lines and events name its request.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, context.run, fn, *args
        )

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(self._schema):
                conn.execute(statement)
            if self._migrate is not None:
                self._migrate(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._conn = conn

    def _in_transaction(self, begin: str, work: Callable[[R], T]) -> T:
        conn = self._connection()
        conn.execute(begin)
        try:
            result = work(self._repository(conn))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            # A COMMIT that fails (a full disk, an I/O error, a deferred constraint) may leave
            # the transaction open; every later BEGIN would then fail until a restart.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _each_in_transaction(self, works: Sequence[Callable[[R], T]]) -> list[T | Exception]:
        def each(repo: R) -> list[T | Exception]:
            return [self._isolated(repo, work) for work in works]

        return self._in_transaction("BEGIN IMMEDIATE", each)

    def _isolated(self, repo: R, work: Callable[[R], T]) -> T | Exception:
        conn = self._connection()
        conn.execute("SAVEPOINT work")
        try:
            result = work(repo)
        except Exception as failure:  # noqa: BLE001 - that work's result, the others go on
            if not isinstance(failure, ShopError):
                log.error("one work of a batch failed; the others go on", exc_info=failure)
            conn.execute("ROLLBACK TO work")
            conn.execute("RELEASE work")
            return failure
        conn.execute("RELEASE work")
        return result

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"{self.path} is not open")
        return self._conn


def _statements(schema: str) -> list[str]:
    return [statement.strip() for statement in schema.split(";") if statement.strip()]


def add_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """`ALTER TABLE table ADD COLUMN column` unless the table has it; True if it was added.
    For files made by an earlier version of the schema (CREATE TABLE IF NOT EXISTS keeps them
    as they were)."""
    name = column.split()[0]
    if any(row[1] == name for row in conn.execute(f"PRAGMA table_info({table})")):
        return False
    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    return True
