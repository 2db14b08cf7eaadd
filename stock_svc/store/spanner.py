"""The production store: the stock service's own Spanner database."""

from collections.abc import Iterable

from shopmesh.spanner import SpannerRepository, SpannerSettings, SpannerStore
from shopmesh.spanner_outbox import SpannerOutbox
from shopmesh.spanner_reservations import SpannerReservations
from shopmesh.spanner_schema import migrate
from stock_svc.inventory import Item

_COLUMNS = ("ItemId", "Stock", "Price")


class SpannerItems(SpannerRepository, SpannerReservations, SpannerOutbox):
    SERVICE = "stock"

    def get(self, item_id: str) -> Item | None:
        found, item = self.recall("Items", item_id)
        if found:
            return item
        rows = self.query(
            "SELECT ItemId, Stock, Price FROM Items WHERE ItemId = @item_id",
            lock=True,
            item_id=item_id,
        )
        return Item(*rows[0]) if rows else None

    def put(self, item: Item) -> None:
        self.put_many([item])

    def put_many(self, items: Iterable[Item]) -> None:
        items = list(items)
        self.upsert("Items", _COLUMNS, [(i.item_id, i.stock, i.price) for i in items])
        for item in items:
            self.remember("Items", item.item_id, item)


def open_spanner_store(settings: SpannerSettings) -> SpannerStore[SpannerItems]:
    return SpannerStore(settings, SpannerItems, lambda: migrate("stock", settings))
