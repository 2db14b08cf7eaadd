"""Crash injection for the crash tests: `SHOP_FAULT_POINT=<name>` makes the process exit
abruptly (no drain, no cleanup, like kill -9) the first time it reaches that named point.

Points, by where they sit in a checkout:
  participant (stock, payment): reserve.after_commit, commit.before_apply, commit.after_apply
  coordinator (order): checkout.before_decision, checkout.after_decision
  outbox relay (any):  relay.after_publish (published, not yet deleted from the outbox)
"""

import logging
import os
import sys

log = logging.getLogger(__name__)

EXIT_CODE = 86
_armed = ""


def arm(point: str) -> None:
    global _armed
    _armed = point
    if point:
        log.warning("fault injection armed: exit at %s", point)


def crash_point(name: str) -> None:
    if name == _armed:
        print(f"fault injection: exiting at {name}", file=sys.stderr, flush=True)
        os._exit(EXIT_CODE)
