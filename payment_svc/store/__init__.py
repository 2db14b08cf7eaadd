"""Where credit lives: the interface the API needs, and the adapter the settings pick."""

from collections.abc import Callable
from typing import Protocol, TypeVar

from payment_svc.accounts import Accounts

T = TypeVar("T")


class PaymentStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def transact(self, work: Callable[[Accounts], T]) -> T: ...

    async def read(self, work: Callable[[Accounts], T]) -> T: ...
