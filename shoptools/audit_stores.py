"""The auditor's optional last check: each entity's last balance in the stream against what
its store says now, read through the public REST API of a gateway. Only meaningful on a quiet
stack: a change made after the stream was read shows as a difference."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

# entity kind -> (REST path of its balance, the balance's field)
READS = {"item": ("/stock/find/{}", "stock"), "user": ("/payment/find_user/{}", "credit")}
CONCURRENCY = 16


def store_balance(rest_url: str, entity_key: str) -> int | str:
    """The entity's balance as its store answers, or what went wrong, as text."""
    kind, _, entity_id = entity_key.partition("/")
    path, field = READS[kind]
    url = rest_url.rstrip("/") + path.format(urllib.request.quote(entity_id, safe=""))
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(json.loads(answer.read())[field])  # int64 arrives as a JSON string
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError, KeyError) as error:
        return repr(error)


def store_differences(rest_url: str, balances: dict[str, int]) -> list[tuple[str, int, object]]:
    """(entity_key, balance in the stream, store's answer) for every entity that differs."""
    keys = sorted(key for key in balances if key.partition("/")[0] in READS)
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda key: store_balance(rest_url, key), keys))
    return [
        (key, balances[key], answer)
        for key, answer in zip(keys, answers, strict=True)
        if answer != balances[key]
    ]
