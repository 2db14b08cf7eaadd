"""The rows of a bulk load (batch_init), made again on each iteration: a store that checks a
whole batch before writing any of it (Spanner, which loads in chunks) reads them twice without
holding them all in memory."""

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Regenerated(Iterable[T]):
    def __init__(self, make: Callable[[], Iterator[T]]) -> None:
        self._make = make

    def __iter__(self) -> Iterator[T]:
        return self._make()
