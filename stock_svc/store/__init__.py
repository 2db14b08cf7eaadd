"""Where stock lives: the interface the API needs, and the adapter the settings pick."""

from collections.abc import Callable
from typing import Protocol, TypeVar

from stock_svc.inventory import Items

T = TypeVar("T")


class StockStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def transact(self, work: Callable[[Items], T]) -> T: ...

    async def read(self, work: Callable[[Items], T]) -> T: ...
