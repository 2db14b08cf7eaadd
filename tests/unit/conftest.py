"""Fixtures for the rules and the stores.

The rules run against the in-memory adapters (`stock_store`, `payment_store`, `order_store`):
the fast tier. The store-contract suite takes `open_store`, which runs each of its tests on
every adapter: SQLite (a tmp_path file), Spanner (a fresh database on the emulator) and memory,
so that the in-memory adapters the rules run on are proven to behave like the real ones."""

import importlib
import pathlib
from collections.abc import AsyncIterator, Callable

import pytest
from stores import memory_store, opened

from order_svc.store import OrderStore
from order_svc.store import sqlite as order_sqlite
from payment_svc.store import PaymentStore
from payment_svc.store import sqlite as payment_sqlite
from shopmesh.errors import Kind, ShopError
from shopmesh.validation import MAX_INT32
from stock_svc.store import StockStore
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


@pytest.fixture(params=["sqlite", "spanner", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every store-contract test runs on every adapter."""
    return request.param


@pytest.fixture
async def open_store(
    request: pytest.FixtureRequest, backend: str, tmp_path: pathlib.Path
) -> AsyncIterator[Callable]:
    """`await open_store(sqlite_adapter_module, path=None)`: an opened store of the service
    that adapter belongs to, on the backend under test, closed after the test. The same
    `path` opens the same data again (a file, a Spanner database, or the same tables in
    memory)."""
    opened: list = []
    emulator = request.getfixturevalue("spanner_emulator") if backend == "spanner" else None
    prefixes: dict[pathlib.Path, str] = {}
    memories: dict[pathlib.Path, object] = {}

    async def open_(adapter, path: pathlib.Path | None = None):
        path = path or tmp_path / "store.db"
        if backend == "memory":
            store = memories.setdefault(path, memory_store(adapter))
        elif emulator is None:
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
async def stock_store() -> AsyncIterator[StockStore]:
    """The stock store the rules run on: in memory."""
    async with opened(memory_store(stock_sqlite)) as store:
        yield store


@pytest.fixture
async def payment_store() -> AsyncIterator[PaymentStore]:
    """The payment store the rules run on: in memory."""
    async with opened(memory_store(payment_sqlite)) as store:
        yield store


@pytest.fixture
async def order_store() -> AsyncIterator[OrderStore]:
    """The order store the rules run on: in memory."""
    async with opened(memory_store(order_sqlite)) as store:
        yield store


@pytest.fixture
def refused() -> Callable:
    """`await refused(store, work, reason, snapshot=fn)`: the store refuses `work` with `reason`,
    and what `snapshot` reads is the same after as before. Returns the error."""

    async def check(
        store: StockStore | PaymentStore | OrderStore,
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
