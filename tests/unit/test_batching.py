"""Natural batching (shopmesh.batching.Batcher): what goes out together, and what each
submitter gets back."""

import asyncio

import pytest

from shopmesh.batching import Batcher
from shopmesh.errors import Aborted


class Recorder:
    """A batch function that records every batch, and can be held on a gate."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, items: list[int]) -> list:
        self.batches.append(list(items))
        if self.gate is not None:
            await self.gate.wait()
        return [ValueError(item) if item < 0 else item * 10 for item in items]


async def test_submissions_of_one_turn_go_out_together():
    run = Recorder()
    batcher = Batcher(run)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(5))) == [0, 10, 20, 30, 40]
    assert run.batches == [[0, 1, 2, 3, 4]]


async def test_what_arrives_while_a_batch_is_out_goes_in_the_next():
    run = Recorder()
    run.gate = asyncio.Event()
    batcher = Batcher(run)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert run.batches == [[1]]  # one batch in flight at a time
    run.gate.set()
    assert await asyncio.gather(first, *later) == [10, 20, 30, 40]
    assert run.batches == [[1], [2, 3, 4]]


async def test_an_exception_as_a_result_fails_only_its_item():
    batcher = Batcher(Recorder())
    results = await asyncio.gather(
        batcher.submit(1), batcher.submit(-2), batcher.submit(3), return_exceptions=True
    )
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError)


async def test_a_refused_batch_fails_every_item_and_the_next_batch_still_runs():
    calls = []

    async def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise Aborted("DEPENDENCY_UNAVAILABLE", "peer down")
        return items

    batcher = Batcher(run)
    failed = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert [getattr(result, "reason", result) for result in failed] == [
        "DEPENDENCY_UNAVAILABLE"
    ] * 2
    assert calls == [[1, 2]]  # the whole call was refused: not tried again item by item
    assert await batcher.submit(3) == 3


async def test_one_item_that_breaks_its_batch_fails_alone():
    """The batch function raises on item 13's data; everyone else's items go through."""
    calls = []

    async def run(items: list[int]) -> list[int]:
        calls.append(items)
        if 13 in items:
            raise ValueError("Value out of range")
        return [item * 10 for item in items]

    batcher = Batcher(run)
    results = await asyncio.gather(*(batcher.submit(i) for i in (1, 13, 2)), return_exceptions=True)
    assert results[0] == 10 and results[2] == 20
    assert isinstance(results[1], ValueError)
    assert calls == [[1, 13, 2], [1], [13], [2]]


async def test_batches_are_at_most_max_batch_and_drain_waits_for_added_work():
    run = Recorder()
    batcher = Batcher(run, max_batch=2, max_in_flight=2)
    for i in range(5):
        batcher.submit(i)
    batcher.submit(-1)  # a failure nobody waits for is not an unretrieved exception
    await batcher.drain()
    assert sorted(item for batch in run.batches for item in batch) == [-1, 0, 1, 2, 3, 4]
    assert max(len(batch) for batch in run.batches) == 2


async def test_a_wrong_number_of_results_fails_the_batch():
    async def run(items: list[int]) -> list[int]:
        return items[:-1]

    with pytest.raises(RuntimeError, match="results for a batch"):
        await Batcher(run).submit(1)


async def test_a_lingering_batch_waits_for_company():
    run = Recorder()
    batcher = Batcher(run, linger_s=0.05)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)  # within the linger: still gathering
    second = asyncio.ensure_future(batcher.submit(2))
    assert await asyncio.gather(first, second) == [10, 20]
    assert run.batches == [[1, 2]]


async def test_a_full_batch_does_not_linger():
    run = Recorder()
    batcher = Batcher(run, max_batch=2, linger_s=60)
    assert await asyncio.wait_for(
        asyncio.gather(*(batcher.submit(i) for i in range(4))), timeout=30
    ) == [0, 10, 20, 30]
    assert run.batches == [[0, 1], [2, 3]]


async def test_an_urgent_item_cuts_the_linger_short_and_takes_the_company_along():
    run = Recorder()
    batcher = Batcher(run, linger_s=60)
    lingering = batcher.submit(1)
    await asyncio.sleep(0.01)  # the batch lingers, waiting for company
    urgent = batcher.submit(2, urgent=True)
    assert await asyncio.wait_for(asyncio.gather(lingering, urgent), timeout=30) == [10, 20]
    assert run.batches == [[1, 2]]


async def test_a_batch_that_fills_while_it_lingers_goes_out_at_once():
    run = Recorder()
    batcher = Batcher(run, max_batch=2, linger_s=60)
    first = batcher.submit(1)
    await asyncio.sleep(0.01)  # lingering with one of two
    second = batcher.submit(2)
    assert await asyncio.wait_for(asyncio.gather(first, second), timeout=30) == [10, 20]
    assert run.batches == [[1, 2]]


async def test_after_an_urgent_batch_the_next_one_lingers_again():
    run = Recorder()
    batcher = Batcher(run, linger_s=0.5)
    await asyncio.wait_for(batcher.submit(1, urgent=True), timeout=30)
    second = batcher.submit(2)
    await asyncio.sleep(0.01)  # lingering again: the next item keeps it company
    third = batcher.submit(3)
    assert await asyncio.wait_for(asyncio.gather(second, third), timeout=30) == [20, 30]
    assert run.batches == [[1], [2, 3]]


async def test_a_batch_cancelled_while_it_lingers_leaves_the_batcher_working():
    run = Recorder()
    batcher = Batcher(run, linger_s=60)
    waiting = batcher.submit(1)
    await asyncio.sleep(0.01)  # its batch lingers
    for task in list(batcher._tasks):
        task.cancel()
    await asyncio.sleep(0.01)
    urgent = batcher.submit(2, urgent=True)  # the next batch takes both
    assert await asyncio.wait_for(asyncio.gather(waiting, urgent), timeout=30) == [10, 20]
    assert run.batches == [[1, 2]]
