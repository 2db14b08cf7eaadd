"""Where credit lives: the interface the API needs, and the adapter the settings pick."""

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from payment_svc.accounts import Accounts
from shopmesh.settings import ServiceSettings

T = TypeVar("T")
Row = TypeVar("Row")


class PaymentStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def transact(self, work: Callable[[Accounts], T]) -> T: ...

    async def read(self, work: Callable[[Accounts], T]) -> T: ...

    async def transact_each(self, works: Sequence[Callable[[Accounts], T]]) -> list[T | Exception]:
        """Each work as if in a transaction of its own (a failure is its result alone)."""
        ...

    async def put_in_chunks(
        self,
        rows: Iterable[Row],
        put: Callable[[Accounts, list[Row]], None],
        check: Callable[[Accounts, list[Row]], None] | None = None,
    ) -> None:
        """Bulk (re)initialisation; atomic per chunk, not as a whole. `check` (put's refusals,
        read-only) refusing any chunk changes nothing: it runs before the first chunk is
        written, or in the same transaction."""
        ...


def open_store(settings: ServiceSettings) -> PaymentStore:
    """The adapter SHOP_STORE names: sqlite (embedded default), spanner, or memory."""
    if settings.store == "memory":
        # For tests and the simulator only: nothing is written anywhere, the data is lost
        # when the process exits. Never the default.
        from payment_svc.store.memory import open_memory_store

        return open_memory_store()
    if settings.store == "spanner":
        from payment_svc.store.spanner import open_spanner_store

        return open_spanner_store(settings.spanner)
    from payment_svc.store.sqlite import open_sqlite_store

    return open_sqlite_store(settings.db_path, settings.sqlite_synchronous)
