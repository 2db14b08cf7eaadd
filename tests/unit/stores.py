"""Opening stores in tests: the in-memory adapter of a service, named by its SQLite adapter
module (the key the store fixtures and the participant specs use)."""

import contextlib
import importlib
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from shopmesh.store.memory import MemoryStore


def service_of(adapter: ModuleType) -> str:
    """ "stock" for stock_svc.store.sqlite (or any other of stock's adapters)."""
    return adapter.__name__.split("_svc")[0]


def memory_store(adapter: ModuleType) -> MemoryStore[Any]:
    """A new, empty, unopened in-memory store of the service `adapter` belongs to."""
    memory = importlib.import_module(f"{service_of(adapter)}_svc.store.memory")
    return memory.open_memory_store()


@contextlib.asynccontextmanager
async def opened(store: Any) -> AsyncIterator[Any]:
    """`store`, opened, and closed after."""
    await store.open()
    try:
        yield store
    finally:
        await store.close()
