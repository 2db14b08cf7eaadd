"""A warm spare of a service process, for the supervisor: `python -m shopmesh.standby stock`
imports everything the stock service needs (grpc, protobuf, the stores: most of a start's
second or two), then waits. A line on its stdin makes it that service process, with the
environment it was started with; closing stdin makes it exit.

The supervisor keeps one spare per supervised service process, so that a crashed process is
replaced in the time it takes to open the store and bind the port, not to start Python.
"""

import asyncio
import importlib
import sys


def main(argv: list[str]) -> int:
    service = argv[0]
    module = importlib.import_module(f"{service}_svc.__main__")
    if not sys.stdin.readline():
        return 0  # stdin closed: not needed
    asyncio.run(module.main())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
