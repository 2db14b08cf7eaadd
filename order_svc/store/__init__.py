"""Where orders live: the interface the API needs, and the adapter the settings pick."""

from collections.abc import Callable
from typing import Protocol, TypeVar

from order_svc.orders import Orders

T = TypeVar("T")


class OrderStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def transact(self, work: Callable[[Orders], T]) -> T: ...

    async def read(self, work: Callable[[Orders], T]) -> T: ...
