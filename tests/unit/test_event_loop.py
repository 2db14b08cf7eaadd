"""Which event loop a service runs on: uvloop unless SHOP_EVENT_LOOP says asyncio; anything
else stops the process with a message naming the setting."""

import asyncio

import pytest
import uvloop

from shopmesh.rpc.server import run_main


def _loop_of_main() -> type:
    ran_on: list[type] = []

    async def main() -> None:
        ran_on.append(type(asyncio.get_running_loop()))

    run_main(main)
    return ran_on[0]


def test_a_service_runs_on_uvloop_by_default(monkeypatch):
    monkeypatch.delenv("SHOP_EVENT_LOOP", raising=False)
    assert _loop_of_main() is uvloop.Loop


def test_shop_event_loop_asyncio_keeps_the_standard_loop(monkeypatch):
    monkeypatch.setenv("SHOP_EVENT_LOOP", "asyncio")
    assert not issubclass(_loop_of_main(), uvloop.Loop)


def test_an_unknown_event_loop_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("SHOP_EVENT_LOOP", "trio")
    with pytest.raises(SystemExit, match="SHOP_EVENT_LOOP must be one of asyncio, uvloop"):
        run_main(lambda: None)  # type: ignore[arg-type, return-value]
