"""Checkout on Spanner when Spanner aborts transactions: the emulator's fault injection aborts
commits at random, the client runs the transaction function again, and every invariant of
checkout still holds (the functions are pure, so a re-run is harmless)."""

import asyncio
import collections

import httpx
import pytest
from spanner_support import run_emulator

pytestmark = pytest.mark.e2e

STOCK, USERS, IN_FLIGHT = 20, 60, 8


@pytest.fixture(scope="module")
def aborting_emulator(tmp_path_factory: pytest.TempPathFactory):
    yield from run_emulator(tmp_path_factory.mktemp("aborting-spanner"), "--enable_fault_injection")


async def checkout_all(base_url: str, orders: list[str]) -> list[int]:
    limit = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:

        async def checkout(order_id: str) -> int:
            async with limit:
                return (await client.post(f"/orders/checkout/{order_id}")).status_code

        return await asyncio.gather(*(checkout(o) for o in orders))


def test_checkout_invariants_hold_when_spanner_aborts_commits(aborting_emulator, make_stack):
    prefix = aborting_emulator.new_prefix()
    # The emulator runs one transaction at a time and now aborts some: slow, never wrong.
    slow = {"RPC_TIMEOUT_S": "30", "CHECKOUT_TIMEOUT_S": "60", "GATEWAY_TIMEOUT_S": "120"}
    env = {**aborting_emulator.env(prefix), **slow}
    stack = make_stack(env)
    with httpx.Client(base_url=stack.config.rest_url, timeout=120) as http:
        item = http.post("/stock/item/create/1").json()["item_id"]
        assert http.post(f"/stock/add/{item}/{STOCK}").status_code == 200
        assert http.post(f"/payment/batch_init/{USERS}/1").status_code == 200
        orders = [http.post(f"/orders/create/{u}").json()["order_id"] for u in range(USERS)]
        for order in orders:
            assert http.post(f"/orders/addItem/{order}/{item}/1").status_code == 200

        statuses = asyncio.run(checkout_all(stack.config.rest_url, orders))

        classes = collections.Counter(status // 100 * 100 for status in statuses)
        assert classes == {200: STOCK, 400: USERS - STOCK}, statuses
        assert http.get(f"/stock/find/{item}").json()["stock"] == 0
        credit = sum(http.get(f"/payment/find_user/{u}").json()["credit"] for u in range(USERS))
        assert credit == USERS - STOCK
        paid = {o for o in orders if http.get(f"/orders/find/{o}").json()["paid"]}
        assert paid == {o for o, s in zip(orders, statuses, strict=True) if s == 200}
    assert aborting_emulator.unsettled(prefix) == (0, 0)
