"""Google Cloud Spanner as a service's transactional store, used from asyncio.

The same shape as `shopmesh.store.sqlite.SqliteStore`: `transact(work)` runs a rules function in one
read-write transaction, `read(work)` against one snapshot. The mature synchronous client runs
in a bounded thread pool. `run_in_transaction` re-runs `work` when Spanner aborts the
transaction, which is safe because the rules are pure: they touch nothing but the repository
(no RPCs, no events) and every side effect is a buffered mutation that commits or vanishes
with the transaction.

Repositories read rows they are about to write with an exclusive lock (the
`LOCK_SCANNED_RANGES=exclusive` hint), so concurrent transactions on one hot row queue up
instead of deadlocking on a shared-to-exclusive lock upgrade and aborting each other.
"""

import asyncio
import contextvars
import copy
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar, cast

from google.api_core import exceptions as google_exceptions
from google.cloud import spanner
from google.cloud.spanner_v1 import param_types
from google.cloud.spanner_v1.pool import BurstyPool

from shopmesh.env import env_int, env_str
from shopmesh.errors import Aborted, TransactionTooLarge

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")
Row = TypeVar("Row")

# Spanner commits at most 80,000 mutations (cells, index entries included); bulk loads
# commit in chunks far below that. Small chunks also keep the emulator fast: its commit time
# grows with the square of the rows checked against CHECK constraints.
BULK_CHUNK_ROWS = 1_000
EXCLUSIVE = "@{LOCK_SCANNED_RANGES=exclusive} "
READ_ATTEMPTS = 5
# Production Spanner ignores this; the emulator needs it to use a NULL_FILTERED index.
NULL_FILTERED_OK = "spanner_emulator.disable_query_null_filtered_index_check=true"


@dataclass(frozen=True)
class SpannerSettings:
    project: str
    instance: str
    database: str
    emulator_host: str
    sessions: int
    threads: int
    create_schema: bool

    @classmethod
    def from_env(cls, service: str) -> "SpannerSettings":
        return cls(
            project=env_str("SPANNER_PROJECT", "shop-local"),
            instance=env_str("SPANNER_INSTANCE", "shop"),
            # One database per service: "<prefix><service>", e.g. shop-stock.
            database=env_str("SPANNER_DATABASE_PREFIX", "shop-") + service,
            emulator_host=env_str("SPANNER_EMULATOR_HOST", ""),
            sessions=env_int("SPANNER_SESSIONS", 16),
            threads=env_int("SPANNER_THREADS", 16),
            create_schema=env_str("SPANNER_CREATE_SCHEMA", "false").lower() in {"1", "true"},
        )


def client_for(settings: SpannerSettings) -> spanner.Client:
    if settings.emulator_host:
        # The client library knows the emulator only from its environment (its built-in
        # metrics, credentials and channel all ask it there): the one place below a
        # composition root that writes os.environ.
        os.environ["SPANNER_EMULATOR_HOST"] = settings.emulator_host
        # The emulator fails concurrent read-write transactions on multiplexed sessions with
        # errors the client does not retry.
        os.environ.setdefault("GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW", "false")
    return spanner.Client(project=settings.project)


_MISSING = object()


class SpannerRepository:
    """Base of the services' Spanner repositories: typed SQL within one transaction.

    Spanner buffers a transaction's mutations until commit, so its reads do not see its own
    writes; SQLite's do. Repositories remember what they wrote (`remember`) and answer reads of
    those keys from memory (`recall`), so both adapters behave the same to the rules."""

    def __init__(self, txn, writable: bool) -> None:
        self._txn = txn
        self._writable = writable
        self._written: dict[tuple[str, object], object] = {}

    def remember(self, table: str, key: object, value: object) -> None:
        self._written[(table, key)] = copy.deepcopy(value)

    def recall(self, table: str, key: object) -> tuple[bool, Any]:
        """(True, what this transaction wrote under the key, None if deleted), or (False, None)."""
        value = self._written.get((table, key), _MISSING)
        return (False, None) if value is _MISSING else (True, copy.deepcopy(value))

    def query(self, sql: str, lock: bool = False, **params: object) -> list[list]:
        """Rows of a parameterised query; `lock` takes exclusive locks when writable."""
        types = {name: _param_type(value) for name, value in params.items()}
        prefix = EXCLUSIVE if lock and self._writable else ""
        return list(self._txn.execute_sql(prefix + sql, params=params, param_types=types))

    def upsert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        self._txn.insert_or_update(table, columns, rows)

    def delete_rows(self, table: str, keys: list[list]) -> None:
        self._txn.delete(table, spanner.KeySet(keys=keys))


def _param_type(value: object):
    if isinstance(value, list):
        return param_types.Array(param_types.STRING)
    if isinstance(value, bool):
        return param_types.BOOL
    if isinstance(value, int):
        return param_types.INT64
    if isinstance(value, float):
        return param_types.FLOAT64
    return param_types.STRING


class SpannerStore(Generic[R]):
    """A service's Spanner database with `transact`, `read` and `put_in_chunks`."""

    def __init__(
        self,
        settings: SpannerSettings,
        repository: Callable[[object, bool], R],
        migrations: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings
        self._repository = repository
        self._migrations = migrations
        self._executor = ThreadPoolExecutor(
            max_workers=settings.threads, thread_name_prefix=f"spanner-{settings.database}"
        )
        self._database: Any = None  # a google.cloud.spanner Database once open

    async def open(self) -> None:
        await self._run(self._open)
        log.info(
            "opened spanner %s/%s/%s",
            self.settings.project,
            self.settings.instance,
            self.settings.database,
        )

    def _open(self) -> None:
        if self.settings.create_schema and self._migrations:
            self._migrations()
        client = client_for(self.settings)
        # BurstyPool: FixedSizePool.get in google-cloud-spanner 3.71 compares naive and aware
        # datetimes and breaks the thread's transaction state.
        pool = BurstyPool(target_size=self.settings.sessions)
        database = client.instance(self.settings.instance).database(
            self.settings.database, pool=pool
        )
        if not database.exists():
            raise SystemExit(
                f"spanner database {self.settings.database!r} does not exist: create it with"
                " `make spanner-schema` or set SPANNER_CREATE_SCHEMA=true"
            )
        self._database = database

    async def close(self) -> None:
        self._executor.shutdown(wait=True)

    async def transact(self, work: Callable[[R], T]) -> T:
        try:
            return await self._run(self._database.run_in_transaction, self._in_transaction, work)
        except google_exceptions.InvalidArgument as error:
            if "mutations" in str(error).lower():
                raise TransactionTooLarge(str(error)) from error
            raise
        except google_exceptions.Aborted as error:
            # Aborted again and again until the client's retry budget ran out: nothing was
            # written, so the request may say so (409) and be tried again.
            raise Aborted(
                "STORE_CONTENTION", f"the transaction kept aborting; nothing changed ({error})"
            ) from error

    async def transact_each(self, works: Sequence[Callable[[R], T]]) -> list[T | Exception]:
        """Each work in a transaction of its own, concurrently: whatever it raised (a refusal,
        a deadline, an internal error) is its result alone; the others committed or not on
        their own."""
        results = await asyncio.gather(
            *(self.transact(work) for work in works), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancellation, KeyboardInterrupt: not one work's failure
        return cast(list[T | Exception], results)

    def _in_transaction(self, txn, work: Callable[[R], T]) -> T:
        return work(self._repository(txn, True))

    async def read(self, work: Callable[[R], T]) -> T:
        return await self._run(self._in_snapshot, work)

    def _in_snapshot(self, work: Callable[[R], T]) -> T:
        # A multi-use read-only transaction can be lost to the server (the emulator drops them
        # under concurrent writes); the work only reads, so running it again is safe.
        for attempt in range(READ_ATTEMPTS):
            try:
                with self._database.snapshot(multi_use=True) as snapshot:
                    return work(self._repository(snapshot, False))
            except (google_exceptions.Aborted, google_exceptions.NotFound) as error:
                if "Transaction" not in str(error) or attempt == READ_ATTEMPTS - 1:
                    raise
                log.info("read-only transaction lost (%s); reading again", error)
        raise AssertionError("unreachable")

    async def put_in_chunks(
        self,
        rows: Iterable[Row],
        put: Callable[[R, list[Row]], None],
        check: Callable[[R, list[Row]], None] | None = None,
    ) -> None:
        """Bulk load: one transaction per chunk, so no commit nears the mutation limit.

        Not atomic as a whole. So that a refusal changes nothing, `check` (put's refusals,
        read-only) runs over every chunk in one snapshot before the first chunk is written:
        the rows are read twice, so with a check they must be made again on each iteration
        (shopmesh.store.bulk.Regenerated), never held all at once. What is still not atomic:
        a write that lands between the check and a later chunk (a checkout's hold) can make
        `put` refuse that chunk after the earlier ones committed. `put` must therefore check
        its chunk again."""
        if check is not None:
            if iter(rows) is rows:
                raise TypeError("a checked bulk load reads its rows twice: not an iterator")
            await self.read(_checking(check, rows))
        for chunk in _chunks(iter(rows), BULK_CHUNK_ROWS):
            await self.transact(_putting(put, chunk))

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        # In the caller's context, so that the work's log lines and events name its request.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, context.run, fn, *args
        )


def _putting(put: Callable[[R, list[Row]], None], chunk: list[Row]) -> Callable[[R], None]:
    def work(repo: R) -> None:
        put(repo, chunk)

    return work


def _checking(check: Callable[[R, list[Row]], None], rows: Iterable[Row]) -> Callable[[R], None]:
    def work(repo: R) -> None:
        # Chunk by chunk, so that no query carries more ids than a write's chunk does.
        for chunk in _chunks(iter(rows), BULK_CHUNK_ROWS):
            check(repo, chunk)

    return work


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk
