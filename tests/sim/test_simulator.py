"""The deterministic simulator (shoptools.sim) over the real checkout classes: a fixed budget
of seeds must keep every invariant, a seed must replay exactly, and two deliberately broken
variants of the protocol (built here by subclassing, nothing in production code) must be caught
within that budget. `make sim SEEDS=100000` runs longer."""

import asyncio
import dataclasses
import os
import subprocess
import sys
from functools import partial

from order_svc.checkout import Decision
from order_svc.coordinator import CheckoutCoordinator
from shopmesh.participant.stale import StaleReservationResolver
from shoptools.sim import world

# CI's budget: about 45 s on the 2-core CI machine. SIM_SEEDS overrides it.
BUDGET = int(os.environ.get("SIM_SEEDS", "1000"))


def first_caught(build: world.Build) -> world.Outcome | None:
    for seed in range(BUDGET):
        outcome = world.run(seed, build, trace=False)
        if outcome.violation is not None:
            return outcome
    return None


def report(outcome: world.Outcome, build: world.Build | None = None) -> str:
    """The seed, the violation and the steps that led to it (the seed run again, traced)."""
    traced = world.run(outcome.seed, build)
    steps = "\n".join(traced.minimal_trace())
    seed = outcome.seed
    replay = f"make sim SEED={seed} TRACE=1" if build is None else f"world.run({seed}, {build})"
    return f"seed {seed}: {outcome.violation}\n{steps}\nreplay: {replay}"


def test_every_invariant_holds_over_the_budget() -> None:
    broken = first_caught(world.Build())
    assert broken is None, report(broken)


def test_one_seed_replays_exactly() -> None:
    seed = next(s for s in range(100) if sum(world.run(s, trace=False).faults.values()) >= 4)
    first, again = world.run(seed), world.run(seed)
    assert first.trace == again.trace
    assert first.answers == again.answers and first.trace


class ImpatientResolver(StaleReservationResolver):
    """Mutant: a participant that cancels a reservation HELD past its timeout on its own,
    instead of asking the coordinator."""

    async def resolve(self, txn_id: str) -> bool:
        await self._store.transact(partial(self._cancel, txn_id=txn_id, now=self._clock()))
        return True


class HastyCoordinator(CheckoutCoordinator):
    """Mutant: a coordinator that answers 200 before its COMMIT is in the log (it logs it
    in the background)."""

    async def _decide(self, txn, refusal):
        if refusal is not None:
            return await super()._decide(txn, refusal)
        asyncio.ensure_future(super()._decide(txn, refusal))
        return dataclasses.replace(txn, decision=Decision.COMMIT)


def test_a_participant_deciding_on_its_own_is_caught() -> None:
    build = world.Build(resolver=ImpatientResolver)
    caught = first_caught(build)
    assert caught is not None, f"not caught in {BUDGET} seeds"
    assert "cancelled committed" in str(caught.violation), report(caught, build)


def test_answering_before_the_commit_is_logged_is_caught() -> None:
    build = world.Build(coordinator=HastyCoordinator)
    caught = first_caught(build)
    assert caught is not None, f"not caught in {BUDGET} seeds"
    assert "200 for" in str(caught.violation), report(caught, build)


def test_a_seed_replays_alike_in_another_process() -> None:
    """Nothing depends on the interpreter's string hashing or on object addresses."""
    traces = [
        subprocess.run(
            [sys.executable, "-m", "shoptools.sim", "--seed", "6", "--trace"],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    ]
    assert traces[0] == traces[1] and "deliver Reserve" in traces[0]
