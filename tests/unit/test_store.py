"""The storage contract, on every adapter (SQLite, Spanner, memory): rollback, durability
across reopening, bulk loads, and atomic read-check-write under concurrency (within one process
on every adapter, between processes on one SQLite file). The rule tests run on the in-memory
adapters; this suite is what shows those behave like the real ones."""

import asyncio
import collections
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from google.api_core import exceptions as google_exceptions

from order_svc.orders import Line, Order
from order_svc.store import sqlite as order_sqlite
from payment_svc import accounts
from payment_svc.accounts import DirectPayment, User
from payment_svc.store import sqlite as payment_sqlite
from shopmesh.errors import FailedPrecondition, ShopError
from shopmesh.store.memory import ConstraintViolation
from shopmesh.store.sqlite import SqliteStore
from stock_svc import inventory
from stock_svc.inventory import Item
from stock_svc.store import sqlite as stock_sqlite


@pytest.fixture
async def stock_store(open_store):
    """Here the adapter under test, not the in-memory store the rule tests use."""
    return await open_store(stock_sqlite)


@pytest.fixture
async def order_store(open_store):
    """Here the adapter under test, not the in-memory store the rule tests use."""
    return await open_store(order_sqlite)


# --- rollback ---------------------------------------------------------------------------------


def explode(items):
    raise RuntimeError("boom")


FAILURES = {
    "exception": (explode, RuntimeError),
    "refused-rule": (partial(inventory.subtract_stock, item_id="0", amount=1000), ShopError),
    "check-constraint": (
        lambda items: items.put(Item("1", -1, 1)),
        (sqlite3.IntegrityError, google_exceptions.GoogleAPICallError, ConstraintViolation),
    ),
}


@pytest.mark.parametrize(("fail", "error"), FAILURES.values(), ids=FAILURES)
async def test_failed_transaction_rolls_back_everything_it_wrote(stock_store, fail, error):
    await stock_store.transact(lambda items: items.put_many(inventory.batch_items(2, 10, 7)))

    def work(items):
        items.put(Item("new", 1, 1))
        items.put_many(inventory.batch_items(5, 99, 99))
        inventory.add_stock(items, "0", 5)
        fail(items)

    with pytest.raises(error):
        await stock_store.transact(work)
    assert await stock_store.read(lambda items: [items.get(i) for i in ("0", "1", "2", "new")]) == [
        Item("0", 10, 7),
        Item("1", 10, 7),
        None,
        None,
    ]
    # The store is still usable after a failure.
    item = await stock_store.transact(partial(inventory.add_stock, item_id="0", amount=1))
    assert item.stock == 11


# --- durability -------------------------------------------------------------------------------


def write_stock(items):
    items.put(Item("0", 5, 7))
    inventory.subtract_stock(items, "0", 2)


def write_payment(repo):
    repo.put_user(User("0", 50))
    accounts.pay_order(repo, "0", "o1", 20)


def write_order(repo):
    repo.put(Order("o1", "u1", lines=[Line("a", 2, 10), Line("b", 1, 5)]))


REOPEN = {
    "stock": (stock_sqlite, write_stock, lambda items: items.get("0"), Item("0", 3, 7)),
    "payment": (
        payment_sqlite,
        write_payment,
        lambda repo: (repo.get_user("0"), repo.get_payment("0", "o1")),
        (User("0", 30), DirectPayment("0", "o1", 20)),
    ),
    "order": (
        order_sqlite,
        write_order,
        lambda repo: repo.get("o1"),
        Order("o1", "u1", lines=[Line("a", 2, 10), Line("b", 1, 5)]),
    ),
}


@pytest.mark.parametrize(("adapter", "write", "read", "expected"), REOPEN.values(), ids=REOPEN)
async def test_data_survives_closing_and_reopening(
    open_store, tmp_path, adapter, write, read, expected
):
    path = tmp_path / "reopen.db"
    store = await open_store(adapter, path)
    await store.transact(write)
    await store.close()

    reopened = await open_store(adapter, path)
    assert await reopened.read(read) == expected


# --- bulk loads -------------------------------------------------------------------------------


def put_items(items, chunk):
    items.put_many(chunk)


async def test_batch_init_loads_every_row(stock_store, backend):
    # 100,000 rows is more than one Spanner commit may hold: stores load in chunks. The
    # emulator is slow at bulk writes, so it loads fewer rows, still in several chunks.
    n = 5_000 if backend == "spanner" else 100_000
    await stock_store.put_in_chunks(inventory.batch_items(n, 100, 5), put_items)
    probe = ("0", str(n - 1), str(n))
    assert await stock_store.read(lambda items: [items.get(i) for i in probe]) == [
        Item("0", 100, 5),
        Item(str(n - 1), 100, 5),
        None,
    ]


async def test_batch_init_again_resets_the_items_it_covers(stock_store):
    await stock_store.put_in_chunks(inventory.batch_items(3, 10, 7), put_items)
    await stock_store.transact(partial(inventory.subtract_stock, item_id="2", amount=4))
    await stock_store.put_in_chunks(inventory.batch_items(2, 5, 1), put_items)
    assert await stock_store.read(lambda items: [items.get(i) for i in "012"]) == [
        Item("0", 5, 1),
        Item("1", 5, 1),
        Item("2", 6, 7),
    ]


def refuse_item_1200(items, chunk):
    if any(item.item_id == "1200" for item in chunk):
        raise FailedPrecondition("REFUSED", "item 1200 is refused")


async def test_a_bulk_load_whose_check_refuses_a_later_chunk_writes_nothing(stock_store):
    # 1,500 rows are two of Spanner's chunks, and the refused row is in the second: the check
    # must refuse before the first chunk is written, though `put` itself never refuses.
    with pytest.raises(FailedPrecondition):
        await stock_store.put_in_chunks(
            inventory.batch_items(1_500, 10, 1), put_items, refuse_item_1200
        )
    assert await stock_store.read(lambda items: items.get("0")) is None

    await stock_store.put_in_chunks(inventory.batch_items(2, 10, 1), put_items, refuse_item_1200)
    assert await stock_store.read(lambda items: items.get("1")) == Item("1", 10, 1)


# --- concurrency ------------------------------------------------------------------------------


@dataclass
class Contended:
    """50 units of something, and a rule that takes one unit per call."""

    adapter: object
    seed: Callable
    rule: Callable
    arguments: dict
    remaining: Callable
    refusal: str


CONTENDED = {
    "stock": Contended(
        stock_sqlite,
        lambda items: items.put(Item("0", 50, 1)),
        inventory.subtract_stock,
        {"item_id": "0", "amount": 1},
        lambda items: items.get("0").stock,
        "INSUFFICIENT_STOCK",
    ),
    "payment": Contended(
        payment_sqlite,
        lambda repo: repo.put_user(User("0", 50)),
        accounts.pay,
        {"user_id": "0", "amount": 1},
        lambda repo: repo.get_user("0").credit,
        "INSUFFICIENT_CREDIT",
    ),
}


async def attempt(store, work) -> str:
    try:
        await store.transact(work)
    except ShopError as error:
        return error.reason
    return "OK"


@pytest.mark.parametrize("case", CONTENDED.values(), ids=CONTENDED)
async def test_100_concurrent_tasks_take_exactly_50_units(open_store, case):
    store = await open_store(case.adapter)
    await store.transact(case.seed)
    work = partial(case.rule, **case.arguments)

    outcomes = await asyncio.gather(*(attempt(store, work) for _ in range(100)))

    assert collections.Counter(outcomes) == {"OK": 50, case.refusal: 50}
    assert await store.read(case.remaining) == 0


# Runs in its own process: opens its own store on the file, waits for "go" on stdin, then makes
# `attempts` concurrent calls of the rule and prints how they ended, as JSON.
CHILD = """
import asyncio, collections, importlib, json, pathlib, sys
from functools import partial
from shopmesh.errors import ShopError

adapter, module, name, arguments, attempts, path = sys.argv[1:]
work = partial(getattr(importlib.import_module(module), name), **json.loads(arguments))

async def attempt(store):
    try:
        await store.transact(work)
    except ShopError as error:
        return error.reason
    return "OK"

async def main():
    store = importlib.import_module(adapter).open_sqlite_store(pathlib.Path(path), "NORMAL")
    await store.open()
    print("ready", flush=True)
    sys.stdin.readline()
    outcomes = await asyncio.gather(*(attempt(store) for _ in range(int(attempts))))
    await store.close()
    print(json.dumps(collections.Counter(outcomes)))

asyncio.run(main())
"""


def run_processes(count: int, case: Contended, attempts: int, path) -> collections.Counter:
    """Start `count` processes, release them together, and add up their outcomes."""
    argv = [
        sys.executable,
        "-c",
        CHILD,
        case.adapter.__name__,
        case.rule.__module__,
        case.rule.__name__,
        json.dumps(case.arguments),
        str(attempts),
        str(path),
    ]
    processes = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout.readline() == "ready\n"
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        total = collections.Counter()
        for process in processes:
            out, _ = process.communicate(timeout=120)
            assert process.returncode == 0
            total.update(json.loads(out))
        return total
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("case", CONTENDED.values(), ids=CONTENDED)
async def test_two_processes_on_one_file_take_exactly_50_units(open_store, backend, case):
    if backend != "sqlite":
        pytest.skip("two processes on one file: an embedded-store concern")
    store = await open_store(case.adapter)
    await store.transact(case.seed)

    outcomes = await asyncio.to_thread(run_processes, 2, case, 50, store.path)

    assert outcomes == {"OK": 50, case.refusal: 50}
    assert await store.read(case.remaining) == 0


async def test_one_work_of_a_batch_failing_unexpectedly_undoes_only_itself(order_store):
    """transact_each: a bug one request's data provokes is that work's result; the works
    beside it commit (SQLite: one transaction with savepoints; Spanner: one each)."""

    def write(order_id: str):
        return lambda repo: repo.put(Order(order_id, "u"))

    def write_then_fail(repo):
        repo.put(Order("broken", "u"))
        raise ValueError("Value out of range")

    results = await order_store.transact_each([write("x"), write_then_fail, write("y")])

    assert isinstance(results[1], ValueError)
    stored = await order_store.read(lambda repo: [repo.get(i) for i in ("x", "broken", "y")])
    assert [o.order_id if o else None for o in stored] == ["x", None, "y"]


def enforce_foreign_keys(conn):
    """Off by default, and the pragma does nothing inside a transaction: step out of the one
    the store began, and back in."""
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")


async def test_a_commit_that_fails_undoes_its_work_and_leaves_the_store_usable(tmp_path):
    """SQLite may leave a transaction open when its COMMIT fails (a full disk, an I/O error);
    a deferred foreign key, checked only at COMMIT, fails one that way for real."""
    schema = """
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
    """
    store = SqliteStore(tmp_path / "rig.sqlite3", schema, repository=lambda conn: conn)
    await store.open()
    await store.read(enforce_foreign_keys)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await store.transact(lambda conn: conn.execute("INSERT INTO child VALUES (1)"))

        def adopt(conn):
            conn.execute("INSERT INTO parent VALUES (2)")
            conn.execute("INSERT INTO child VALUES (2)")

        await store.transact(adopt)  # the next transaction begins and commits
        rows = await store.read(lambda conn: conn.execute("SELECT * FROM child").fetchall())
        assert rows == [(2,)]  # the failed one's row is gone
    finally:
        await store.close()
