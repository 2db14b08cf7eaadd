"""`python -m shoptools.sim --seeds N`: run seeds 0..N-1 (or `--start` on) and stop at the first
that breaks an invariant, printing its seed, the violation and the steps that led to it.
`python -m shoptools.sim --seed N --trace` replays one seed exactly, with every step."""

import argparse
import collections
import sys
import time

from shoptools.sim import world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shoptools.sim", description=__doc__)
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds to run")
    parser.add_argument("--start", type=int, default=0, help="the first seed")
    parser.add_argument("--seed", type=int, help="replay this one seed")
    parser.add_argument("--trace", action="store_true", help="print every step of --seed")
    args = parser.parse_args(argv)
    if args.seed is not None:
        return replay(args.seed, args.trace)
    return explore(range(args.start, args.start + args.seeds))


def replay(seed: int, full: bool) -> int:
    outcome = world.run(seed)
    for line in outcome.trace if full else outcome.minimal_trace():
        print(line)
    print(f"seed {seed}: {dict(outcome.answers)} answers, faults {dict(outcome.faults)}")
    if outcome.violation is not None:
        print(f"VIOLATION: {outcome.violation}")
        return 1
    print("every invariant held")
    return 0


def explore(seeds: range) -> int:
    started = time.monotonic()
    answers: collections.Counter = collections.Counter()
    faults: collections.Counter = collections.Counter()
    checkouts = 0
    for seed in seeds:
        # Without the trace: a failing seed is run again with it (the run is exact).
        outcome = world.run(seed, trace=False)
        answers.update(outcome.answers)
        faults.update(outcome.faults)
        checkouts += outcome.checkouts
        if outcome.violation is not None:
            print(f"seed {seed} broke an invariant: {outcome.violation}")
            for line in world.run(seed).minimal_trace():
                print(f"  {line}")
            print(f"replay: make sim SEED={seed} TRACE=1")
            return 1
    elapsed = time.monotonic() - started
    print(
        f"{len(seeds)} seeds ({seeds.start}..{seeds.stop - 1}) in {elapsed:.1f} s:"
        f" {checkouts} checkouts, answers {dict(answers)}, faults {dict(faults)};"
        " every invariant held"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
