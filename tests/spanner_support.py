"""The Spanner emulator for tests: started on a free port, skipped with how to install it
where the binary is absent."""

import itertools
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from shopmesh.store.spanner import SpannerSettings, client_for
from shoptools.devstack import free_ports
from shoptools.spanner_emulator import INSTALL_HINT, find_emulator, start_emulator


@dataclass
class SpannerEmulator:
    """A running emulator; every database prefix it hands out is new, so tests never share."""

    host: str
    project: str = "shop-test"
    instance: str = "shop"
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def new_prefix(self) -> str:
        return f"t{next(self._ids)}-"

    def settings(self, service: str, prefix: str) -> SpannerSettings:
        return SpannerSettings(
            project=self.project,
            instance=self.instance,
            database=f"{prefix}{service}",
            emulator_host=self.host,
            sessions=8,
            threads=8,
            create_schema=True,
        )

    def unsettled(self, prefix: str) -> tuple[int, int]:
        """(reservations still HELD in stock and payment, checkout transactions unfinished)."""

        def count(service: str, sql: str) -> int:
            settings = self.settings(service, prefix)
            database = client_for(settings).instance(settings.instance).database(settings.database)
            with database.snapshot() as snapshot:
                return list(snapshot.execute_sql(sql))[0][0]

        held_sql = "SELECT COUNT(*) FROM Reservations WHERE State = 'HELD'"
        held = count("stock", held_sql) + count("payment", held_sql)
        unfinished_sql = "SELECT COUNT(*) FROM Checkouts WHERE UnfinishedLeaseUntil IS NOT NULL"
        return held, count("order", unfinished_sql)

    def env(self, prefix: str | None = None) -> dict[str, str]:
        """Settings that put a stack's services on fresh databases of this emulator."""
        return {
            "SHOP_STORE": "spanner",
            "SPANNER_EMULATOR_HOST": self.host,
            "SPANNER_PROJECT": self.project,
            "SPANNER_INSTANCE": self.instance,
            "SPANNER_DATABASE_PREFIX": prefix or self.new_prefix(),
            "SPANNER_CREATE_SCHEMA": "true",
            # The emulator runs one read-write transaction at a time: slow under concurrency,
            # so calls get deadlines that measure correctness, not its speed.
            "RPC_TIMEOUT_S": "15",
            "CHECKOUT_TIMEOUT_S": "30",
            "GATEWAY_TIMEOUT_S": "90",
            # The emulator aborts every transaction that overlaps another; with one client
            # thread per service at most three race for its single slot, and none starves.
            "SPANNER_THREADS": "1",
        }


def run_emulator(base: pathlib.Path, *extra_args: str) -> Iterator[SpannerEmulator]:
    if find_emulator() is None:
        pytest.skip(f"Spanner tests skipped: {INSTALL_HINT}")
    port = free_ports(1)[0]
    process = start_emulator(port, base / "emulator.log", extra_args)
    yield SpannerEmulator(host=f"127.0.0.1:{port}")
    process.terminate()
    process.wait(10)
