"""The benchmark's order picking and its accounting of repeated requests."""

import random

from shoptools.bench.load import IdPicker
from shoptools.bench.stats import summarize


def test_ids_come_without_replacement_until_the_share_is_used_up():
    picker = IdPicker(range(1, 10, 3), random.Random(1))
    first, second = [picker.next() for _ in range(3)], [picker.next() for _ in range(3)]
    assert sorted(first) == sorted(second) == [1, 4, 7]


def test_an_empty_share_still_yields_an_id():
    assert IdPicker(range(1, 1, 2), random.Random(1)).next() == 0


def test_only_first_requests_of_an_order_count_as_orders_paid():
    # (due, latency, status, order): order 1 twice, order 2 refused, order 3 during warmup.
    samples = [(1.5, 0.01, 200, 1), (0.5, 0.01, 200, 3), (1.6, 0.01, 409, 2), (2.5, 0.01, 200, 1)]
    figures = summarize(samples, warmup=1.0, duration=2.0)
    assert figures["requests"] == 3
    assert figures["repeated_requests"] == 1
    assert figures["throughput"] == {
        "checkouts_per_s": 1.0,
        "orders_paid_per_s": 0.5,
        "requests_per_s": 1.5,
    }
