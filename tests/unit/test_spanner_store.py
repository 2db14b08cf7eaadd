"""How the Spanner store reports what the database refused (no emulator needed: the
database is a stand-in that raises what Cloud Spanner raises)."""

import pytest
from google.api_core import exceptions as google_exceptions

from shopmesh.errors import ShopError, TransactionTooLarge
from shopmesh.store.spanner import SpannerSettings, SpannerStore


class Refusing:
    """A database whose every read-write transaction fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def run_in_transaction(self, fn, *args):
        raise self._error


def _store(error: Exception) -> SpannerStore:
    settings = SpannerSettings("p", "i", "d", "", sessions=1, threads=1, create_schema=False)
    store = SpannerStore(settings, lambda txn, writable: None)
    store._database = Refusing(error)
    return store


async def test_a_commit_past_the_mutation_limit_is_too_large_not_an_internal_error():
    error = google_exceptions.InvalidArgument(
        "The transaction contains too many mutations. Insert and update operations count"
        " with the multiplicity of the number of columns they affect."
    )
    with pytest.raises(TransactionTooLarge):
        await _store(error).transact(lambda repo: None)


async def test_aborted_again_and_again_is_store_contention():
    with pytest.raises(ShopError) as refused:
        await _store(google_exceptions.Aborted("aborted")).transact(lambda repo: None)
    assert refused.value.reason == "STORE_CONTENTION"
