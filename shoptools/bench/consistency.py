"""The final-state check: do stock, credit and paid orders agree with what the bench saw?

For every order the bench checked out: an order that got a 200 is paid, an order that only
got 4xx is unpaid (one with a 5xx or no answer may be either). For every item and user in
those orders: stock = initial - units in paid orders, credit = initial - cost of paid orders.
Orders the bench never touched are unpaid since batch_init, so they change nothing. Balances
that disagree are read again for a few seconds before they count, in case the shop applies
committed checkouts asynchronously.
"""

import asyncio
import time
from collections import Counter, defaultdict

import aiohttp

from shoptools.bench.load import Sample

FETCH_CONCURRENCY = 64
SETTLE_S = 10.0
EXAMPLES = 20


def outcome_kinds(samples: list[Sample]) -> dict[str, set[str]]:
    """Per order id: the kinds of answer it got ('200', '4xx', 'other')."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for _, _, status, order in samples:
        kind = "200" if status == 200 else "4xx" if 400 <= status < 500 else "other"
        kinds[str(order)].add(kind)
    return kinds


class Reader:
    """GETs many resources at once through one keep-alive pool."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.limit = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def get(self, path: str) -> tuple[int, dict | None]:
        async with self.limit:
            try:
                async with self.session.get(self.base_url + path) as response:
                    body = await response.json(content_type=None)
                    return response.status, body if response.status == 200 else None
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return 0, None

    async def get_all(self, template: str, ids: list[str]) -> dict[str, tuple[int, dict | None]]:
        answers = await asyncio.gather(*(self.get(template.format(i)) for i in ids))
        return dict(zip(ids, answers, strict=True))


def order_violations(kinds: dict[str, set[str]], found: dict) -> list[str]:
    violations = []
    for order, (status, body) in found.items():
        if body is None:
            violations.append(f"order {order}: GET /orders/find answered {status}")
        elif "200" in kinds[order] and not body["paid"]:
            violations.append(f"order {order} got 200 for checkout but is not paid")
        elif kinds[order] == {"4xx"} and body["paid"]:
            violations.append(f"order {order} only got 4xx for checkout but is paid")
    return violations


def expected_balances(found: dict, stock: int, credit: int) -> tuple[dict, dict]:
    """Expected stock per item and credit per user of every order read."""
    sold: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    for _, body in found.values():
        if body is None:
            continue
        paid = body["paid"]
        # Adding 0 for an unpaid order still lists its items and user: they must be unchanged.
        for item, quantity in body["items"]:
            sold[item] += int(quantity) if paid else 0
        spent[body["user_id"]] += int(body["total_cost"]) if paid else 0
    return (
        {item: stock - sold[item] for item in sold},
        {user: credit - spent[user] for user in spent},
    )


async def settled(reader: Reader, template: str, field: str, expected: dict) -> dict:
    """Balances read, re-reading the ones that disagree for up to SETTLE_S."""
    found: dict[str, int | None] = {}
    pending, deadline = list(expected), time.monotonic() + SETTLE_S
    while pending:
        for key, (_, body) in (await reader.get_all(template, pending)).items():
            found[key] = int(body[field]) if body else None
        pending = [key for key in pending if found[key] != expected[key]]
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5 if pending else 0)
    return found


def balance_violations(what: str, field: str, expected: dict, found: dict) -> list[str]:
    return [
        f"{what} {key}: {field} {found[key]}, expected {expected[key]}"
        for key in expected
        if found[key] != expected[key]
    ]


async def check(base_url: str, samples: list[Sample], stock: int, credit: int) -> dict:
    started = time.monotonic()
    kinds = outcome_kinds(samples)
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=FETCH_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        reader = Reader(session, base_url)
        print(f"check: reading {len(kinds)} orders", flush=True)
        orders = await reader.get_all("/orders/find/{}", sorted(kinds, key=int))
        stocks, credits = expected_balances(orders, stock, credit)
        print(f"check: reading {len(stocks)} items and {len(credits)} users", flush=True)
        found_stock = await settled(reader, "/stock/find/{}", "stock", stocks)
        found_credit = await settled(reader, "/payment/find_user/{}", "credit", credits)
    violations = [
        *order_violations(kinds, orders),
        *balance_violations("item", "stock", stocks, found_stock),
        *balance_violations("user", "credit", credits, found_credit),
    ]
    return summary(kinds, orders, stocks, credits, violations, time.monotonic() - started)


def summary(kinds, orders, stocks, credits, violations: list[str], seconds: float) -> dict:
    return {
        "passed": not violations,
        "orders_checked": len(orders),
        "orders_paid": sum(1 for _, body in orders.values() if body and body["paid"]),
        "orders_answered_200": sum(1 for k in kinds.values() if "200" in k),
        "orders_only_4xx": sum(1 for k in kinds.values() if k == {"4xx"}),
        "orders_with_unknown_outcome": sum(
            1 for k in kinds.values() if "other" in k and "200" not in k
        ),
        "items_checked": len(stocks),
        "users_checked": len(credits),
        "violations": len(violations),
        "violation_examples": violations[:EXAMPLES],
        "seconds": round(seconds, 2),
    }
