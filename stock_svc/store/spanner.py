"""The production store: the stock service's own Spanner database."""

import pathlib
from collections.abc import Iterable

from shopmesh.events.spanner_outbox import SpannerOutbox
from shopmesh.participant.spanner import SpannerReservations
from shopmesh.store.spanner import SpannerSettings, SpannerStore
from shopmesh.store.spanner_schema import migrate
from stock_svc.inventory import Item

# The schema, as numbered DDL files (shopmesh.store.spanner_schema applies them).
DDL_DIR = pathlib.Path(__file__).with_name("spanner_ddl")

_COLUMNS = ("ItemId", "Stock", "Price", "Held")


class SpannerItems(SpannerReservations, SpannerOutbox):
    SERVICE = "stock"

    def get(self, item_id: str) -> Item | None:
        found, item = self.recall("Items", item_id)
        if found:
            return item
        rows = self.query(
            "SELECT ItemId, Stock, Price, Held FROM Items WHERE ItemId = @item_id",
            lock=True,
            item_id=item_id,
        )
        return Item(*rows[0]) if rows else None

    def put(self, item: Item) -> None:
        self.put_many([item])

    def put_many(self, items: Iterable[Item]) -> None:
        items = list(items)
        self.upsert("Items", _COLUMNS, [(i.item_id, i.stock, i.price, i.held) for i in items])
        for item in items:
            self.remember("Items", item.item_id, item)

    def held_of(self, item_ids: list[str]) -> dict[str, int]:
        rows = self.query(
            "SELECT ItemId, Held FROM Items WHERE ItemId IN UNNEST(@ids) AND Held > 0",
            ids=item_ids,
        )
        return {item_id: held for item_id, held in rows}


def open_spanner_store(settings: SpannerSettings) -> SpannerStore[SpannerItems]:
    return SpannerStore(settings, SpannerItems, lambda: migrate(DDL_DIR, settings))
