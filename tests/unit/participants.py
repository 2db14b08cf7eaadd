"""The two checkout participants as test data: how to seed each, what one standard reservation
takes, and the protocol's messages as one-line awaits. Shared by the participant tests."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from stores import memory_store

from payment_svc import accounts
from payment_svc.accounts import User
from payment_svc.store import sqlite as payment_sqlite
from shopmesh.errors import Kind, ShopError
from shopmesh.participant.reservations import State
from stock_svc import inventory
from stock_svc.inventory import Item
from stock_svc.store import sqlite as stock_sqlite


@dataclass
class Spec:
    """One participant: how to seed it, what one reservation takes, how to read its balance."""

    name: str
    adapter: ModuleType  # its SQLite adapter, the key the store fixtures open by
    seed: Callable
    reserve: Callable  # (repo, txn_id, now) -> Reservation, for the standard request
    commit: Callable
    cancel: Callable
    balance: Callable  # (repo) -> what a user notices: stock per item, or credit
    full: object  # balance before anything is held
    taken: object  # balance while the standard request is held (or after it committed)


STOCK = Spec(
    name="stock",
    adapter=stock_sqlite,
    seed=lambda repo: repo.put_many(iter([Item("a", 10, 3), Item("b", 5, 7)])),
    reserve=lambda repo, txn_id, now: inventory.reserve_stock(repo, txn_id, {"a": 2, "b": 1}, now),
    commit=inventory.commit_reservation,
    cancel=inventory.cancel_reservation,
    balance=lambda repo: {"a": repo.get("a").stock, "b": repo.get("b").stock},
    full={"a": 10, "b": 5},
    taken={"a": 8, "b": 4},
)
PAYMENT = Spec(
    name="payment",
    adapter=payment_sqlite,
    seed=lambda repo: repo.put_users(iter([User("u", 100)])),
    reserve=lambda repo, txn_id, now: accounts.reserve_credit(repo, txn_id, "u", "o1", 30, now),
    commit=accounts.commit_reservation,
    cancel=accounts.cancel_reservation,
    balance=lambda repo: repo.get_user("u").credit,
    full=100,
    taken=70,
)


class Participant:
    """A participant's store with the protocol's messages as one-line awaits."""

    def __init__(self, kind: Spec, store: Any) -> None:
        self.kind = kind
        self.store = store

    async def reserve(self, txn_id: str):
        return await self.store.transact(partial(self.kind.reserve, txn_id=txn_id, now=time.time()))

    async def commit(self, txn_id: str):
        return await self.store.transact(partial(self.kind.commit, txn_id=txn_id, now=time.time()))

    async def cancel(self, txn_id: str):
        return await self.store.transact(partial(self.kind.cancel, txn_id=txn_id, now=time.time()))

    async def balance(self):
        return await self.store.read(self.kind.balance)

    async def state(self, txn_id: str) -> State | None:
        reservation = await self.store.read(lambda repo: repo.get_reservation(txn_id))
        return reservation.state if reservation else None

    async def refused(self, message, txn_id: str, reason: str, kind: Kind) -> ShopError:
        """The message is refused with `reason` and changes neither balance nor state."""
        before = (await self.balance(), await self.state(txn_id))
        with pytest.raises(ShopError) as info:
            await message(txn_id)
        assert (info.value.reason, info.value.kind) == (reason, kind)
        assert info.value.metadata["transaction_id"] == txn_id
        assert (await self.balance(), await self.state(txn_id)) == before
        return info.value


async def open_seeded(kind: Spec) -> Any:
    """A new in-memory store of the participant, opened and seeded (close it after)."""
    store = memory_store(kind.adapter)
    await store.open()
    await store.transact(kind.seed)
    return store
