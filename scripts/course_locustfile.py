"""The course's stress test (wdm-project-benchmark, stress-test/locustfile.py) as it is, plus a
strict count of the answers: the course's file marks only 4xx as failures (a 5xx passes), so
this counts every status itself and prints them, and the exit code says whether any was not
2xx. Run from the benchmark's stress-test folder by scripts/course_stress_test.sh.
"""

import collections
import json
import os
import sys

from locust import events

sys.path.insert(0, os.getcwd())  # the course's locustfile and init_orders, unchanged
from locustfile import MicroservicesUser  # noqa: E402,F401 - the course's user, run as is

STATUSES: collections.Counter = collections.Counter()


@events.request.add_listener
def count(response=None, exception=None, **_: object) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    STATUSES[str(status if exception is None or status else 0)] += 1


@events.quitting.add_listener
def report(environment, **_: object) -> None:
    strict_failures = sum(n for status, n in STATUSES.items() if not status.startswith("2"))
    print("statuses: " + json.dumps(dict(sorted(STATUSES.items()))), flush=True)
    print(f"non-2xx answers (strict failures): {strict_failures}", flush=True)
    if strict_failures:
        environment.process_exit_code = 1
