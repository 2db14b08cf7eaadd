"""The stock service's tables in memory (shopmesh.store.memory): for tests and the simulator;
the data is lost when the process exits."""

from collections.abc import Iterable

from shopmesh.events import memory_outbox
from shopmesh.events.memory_outbox import MemoryOutbox
from shopmesh.participant import memory as memory_reservations
from shopmesh.participant.memory import MemoryReservations
from shopmesh.store.memory import MemoryStore, Tables, check, check_ints
from stock_svc.inventory import Item

TABLES = memory_reservations.TABLES + memory_outbox.TABLES + ("items",)


def _copy(item: Item) -> Item:
    return Item(item.item_id, item.stock, item.price, item.held)


class MemoryItems(MemoryReservations, MemoryOutbox):
    SERVICE = "stock"

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def get(self, item_id: str) -> Item | None:
        item = self._tables.rows("items").get(item_id)
        return _copy(item) if item is not None else None

    def put(self, item: Item) -> None:
        self.put_many([item])

    def put_many(self, items: Iterable[Item]) -> None:
        rows = self._tables.writable("items")
        for item in items:
            check_ints(stock=item.stock, price=item.price, held=item.held)
            check(item.stock >= 0 and item.price >= 0 and item.held >= 0, "items >= 0")
            rows[item.item_id] = _copy(item)

    def held_of(self, item_ids: list[str]) -> dict[str, int]:
        rows = self._tables.rows("items")
        held = ((i, rows[i].held) for i in dict.fromkeys(item_ids) if i in rows)
        return {item_id: units for item_id, units in held if units > 0}


def open_memory_store() -> MemoryStore[MemoryItems]:
    return MemoryStore(TABLES, MemoryItems, name="stock")
