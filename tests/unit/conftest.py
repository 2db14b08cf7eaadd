"""Fixtures for the rules against the real store adapters: SQLite (a tmp_path file) and
Spanner (a fresh database on the emulator)."""

import importlib
import pathlib
from collections.abc import AsyncIterator, Callable

import pytest

from order_svc.store import sqlite as order_sqlite
from payment_svc.store import sqlite as payment_sqlite
from shopmesh.errors import Kind, ShopError
from shopmesh.store.sqlite import SqliteStore
from shopmesh.validation import MAX_INT32
from stock_svc.store import sqlite as stock_sqlite

# Ids every rule must refuse with INVALID_ID: empty, one past the length limit, unprintable.
BAD_IDS = {"empty": "", "129-chars": "x" * 129, "newline": "a\nb", "nul": "a\x00", "tab": "a\tb"}
# Amounts, quantities and counts outside 1..2^31-1, with the kind of error each must get.
BAD_NUMBERS = {
    "zero": (0, Kind.INVALID_ARGUMENT),
    "negative": (-1, Kind.INVALID_ARGUMENT),
    "2^31": (MAX_INT32 + 1, Kind.OUT_OF_RANGE),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `bad_id` runs once per BAD_IDS entry, `bad_number` once per
    BAD_NUMBERS entry."""
    for name, values in (("bad_id", BAD_IDS), ("bad_number", BAD_NUMBERS)):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, list(values.values()), ids=list(values))


@pytest.fixture(params=["sqlite", "spanner"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every store test runs on both adapters: the storage contract."""
    return request.param


@pytest.fixture
async def open_store(
    request: pytest.FixtureRequest, backend: str, tmp_path: pathlib.Path
) -> AsyncIterator[Callable]:
    """`await open_store(sqlite_adapter_module, path=None)`: an opened store of the service
    that adapter belongs to, on the backend under test, closed after the test. The same
    `path` opens the same data again (a file, or a Spanner database)."""
    opened: list = []
    emulator = request.getfixturevalue("spanner_emulator") if backend == "spanner" else None
    prefixes: dict[pathlib.Path, str] = {}

    async def open_(adapter, path: pathlib.Path | None = None):
        path = path or tmp_path / "store.db"
        if emulator is None:
            store = adapter.open_sqlite_store(path, "NORMAL")
        else:
            service = adapter.__name__.split("_svc")[0]
            prefix = prefixes.setdefault(path, emulator.new_prefix())
            spanner_adapter = importlib.import_module(f"{service}_svc.store.spanner")
            store = spanner_adapter.open_spanner_store(emulator.settings(service, prefix))
        await store.open()
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


@pytest.fixture
async def stock_store(open_store: Callable) -> SqliteStore:
    return await open_store(stock_sqlite)


@pytest.fixture
async def payment_store(open_store: Callable) -> SqliteStore:
    return await open_store(payment_sqlite)


@pytest.fixture
async def order_store(open_store: Callable) -> SqliteStore:
    return await open_store(order_sqlite)


@pytest.fixture
def refused() -> Callable:
    """`await refused(store, work, reason, snapshot=fn)`: the store refuses `work` with `reason`,
    and what `snapshot` reads is the same after as before. Returns the error."""

    async def check(
        store: SqliteStore,
        work: Callable,
        reason: str,
        *,
        snapshot: Callable,
        kind: Kind | None = None,
    ) -> ShopError:
        before = await store.read(snapshot)
        with pytest.raises(ShopError) as info:
            await store.transact(work)
        assert info.value.reason == reason
        if kind is not None:
            assert info.value.kind is kind
        assert await store.read(snapshot) == before
        return info.value

    return check
