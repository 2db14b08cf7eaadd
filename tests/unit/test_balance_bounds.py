"""Stock and credit never leave the API's 32-bit range, whatever order reserves, cancels, adds
and refunds come in: units and credit a reservation holds count against the bound, because a
cancel gives them back and cannot be refused. On both store adapters."""

import sqlite3
import time
from functools import partial

import pytest

from payment_svc import accounts
from payment_svc.accounts import DirectPayment, User
from payment_svc.store import sqlite as payment_sqlite
from shopmesh.errors import Kind
from shopmesh.validation import MAX_INT32
from stock_svc import inventory
from stock_svc.inventory import Item
from stock_svc.store import sqlite as stock_sqlite


@pytest.fixture
async def stock(stock_store):
    """Item "a": 5 in stock, of which a checkout "t1" holds all 5."""
    await stock_store.transact(lambda repo: repo.put_many([Item("a", 5, 0)]))
    await stock_store.transact(
        partial(inventory.reserve_stock, txn_id="t1", lines={"a": 5}, now=time.time())
    )
    return stock_store


@pytest.fixture
async def bank(payment_store):
    """User "u": credit 100, of which a checkout "t1" holds 30; a direct payment of 10 for
    order "paid" already taken from it."""
    await payment_store.transact(lambda repo: repo.put_users([User("u", 110)]))
    await payment_store.transact(
        partial(accounts.pay_order, user_id="u", order_id="paid", amount=10)
    )
    await payment_store.transact(
        partial(accounts.reserve_credit, txn_id="t1", user_id="u", order_id="o", amount=30, now=0.0)
    )
    return payment_store


def _item(repo):
    return repo.get("a")


def _user(repo):
    return repo.get_user("u")


async def test_adding_stock_that_would_not_fit_beside_the_held_units_is_refused(stock, refused):
    error = await refused(
        stock,
        partial(inventory.add_stock, item_id="a", amount=MAX_INT32),
        "STOCK_OVERFLOW",
        snapshot=_item,
    )
    assert error.kind is Kind.OUT_OF_RANGE


async def test_stock_added_up_to_the_bound_fits_when_the_hold_is_cancelled(stock):
    await stock.transact(partial(inventory.add_stock, item_id="a", amount=MAX_INT32 - 5))
    await stock.transact(partial(inventory.cancel_reservation, txn_id="t1", now=time.time()))
    assert (await stock.read(_item)) == Item("a", MAX_INT32, 0, held=0)


async def test_a_commit_ends_the_hold_so_the_room_comes_back(stock):
    await stock.transact(partial(inventory.commit_reservation, txn_id="t1", now=time.time()))
    item = await stock.transact(partial(inventory.add_stock, item_id="a", amount=MAX_INT32))
    assert (item.stock, item.held) == (MAX_INT32, 0)


async def test_batch_init_over_held_units_keeps_them_and_refuses_what_would_not_fit(stock, refused):
    await refused(
        stock,
        lambda repo: inventory.load_items(repo, [Item("a", MAX_INT32, 0)]),
        "STOCK_OVERFLOW",
        snapshot=_item,
    )
    await stock.transact(lambda repo: inventory.load_items(repo, [Item("a", 7, 1)]))
    assert (await stock.read(_item)) == Item("a", 7, 1, held=5)


async def test_adding_funds_that_would_not_fit_beside_the_held_credit_is_refused(bank, refused):
    await refused(
        bank,
        partial(accounts.add_funds, user_id="u", amount=MAX_INT32 - 70),
        "CREDIT_OVERFLOW",
        snapshot=_user,
    )
    user = await bank.transact(partial(accounts.add_funds, user_id="u", amount=MAX_INT32 - 100))
    assert (user.credit, user.held) == (MAX_INT32 - 30, 30)


async def test_a_refund_that_would_not_fit_beside_the_held_credit_is_refused(bank, refused):
    await bank.transact(partial(accounts.add_funds, user_id="u", amount=MAX_INT32 - 100))
    await refused(
        bank,
        partial(accounts.cancel_payment, user_id="u", order_id="paid"),
        "CREDIT_OVERFLOW",
        snapshot=lambda repo: (repo.get_user("u"), repo.get_payment("u", "paid")),
    )
    assert await bank.read(lambda repo: repo.get_payment("u", "paid")) == DirectPayment(
        "u", "paid", 10
    )


async def test_cancelled_credit_comes_back_and_is_no_longer_held(bank):
    await bank.transact(partial(accounts.cancel_reservation, txn_id="t1", now=1.0))
    assert (await bank.read(_user)) == User("u", 100, held=0)


def _old_file(path, schema: str, rows: list[str]) -> None:
    """A file as the previous version of a service's schema left it."""
    conn = sqlite3.connect(path)
    conn.executescript(schema + ";".join(rows))
    conn.close()


OLD_RESERVATIONS = """
CREATE TABLE reservations (txn_id TEXT PRIMARY KEY, state TEXT NOT NULL, payload TEXT,
    subject TEXT NOT NULL, updated_at REAL NOT NULL) WITHOUT ROWID;
"""


async def test_a_stock_file_of_the_previous_schema_counts_its_held_units(tmp_path):
    path = tmp_path / "stock.db"
    _old_file(
        path,
        OLD_RESERVATIONS + "CREATE TABLE items (item_id TEXT PRIMARY KEY, stock INTEGER NOT NULL,"
        " price INTEGER NOT NULL) WITHOUT ROWID;",
        [
            "INSERT INTO items VALUES ('a', 1, 2)",
            """INSERT INTO reservations VALUES ('t1', 'HELD', '{"lines": {"a": 4}}', '', 0)""",
            """INSERT INTO reservations VALUES ('t2', 'COMMITTED', '{"lines": {"a": 9}}', '', 0)""",
        ],
    )
    store = stock_sqlite.open_sqlite_store(path, "NORMAL")
    await store.open()
    try:
        assert await store.read(_item) == Item("a", 1, 2, held=4)
    finally:
        await store.close()


async def test_a_payment_file_of_the_previous_schema_counts_its_held_credit(tmp_path):
    path = tmp_path / "payment.db"
    _old_file(
        path,
        OLD_RESERVATIONS
        + "CREATE TABLE users (user_id TEXT PRIMARY KEY, credit INTEGER NOT NULL) WITHOUT ROWID;",
        [
            "INSERT INTO users VALUES ('u', 8)",
            """INSERT INTO reservations VALUES
               ('t1', 'HELD', '{"user_id": "u", "order_id": "o", "amount": 6}', 'o', 0)""",
        ],
    )
    store = payment_sqlite.open_sqlite_store(path, "NORMAL")
    await store.open()
    try:
        assert await store.read(_user) == User("u", 8, held=6)
    finally:
        await store.close()
