"""A warm spare of a service process, for the supervisor: `python -m shopmesh.standby stock`
imports everything the stock service needs (grpc, protobuf, the stores: most of a start's
second or two), then waits. A line on its stdin makes it that service process, with the
environment it was started with; closing stdin makes it exit.

The supervisor keeps one spare per supervised service process, so that a crashed process is
replaced in the time it takes to open the store and bind the port, not to start Python.
"""

import asyncio
import contextlib
import importlib
import pathlib
import subprocess
import sys

from shopmesh.replicas import split_name

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    service = argv[0]
    module = importlib.import_module(f"{service}_svc.__main__")
    if not sys.stdin.readline():
        return 0  # stdin closed: not needed
    asyncio.run(module.main())
    return 0


class Spares:
    """One warm spare per service process of a stack (`stock`, `stock-2`, ...), made on demand."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.waiting: dict[str, subprocess.Popen] = {}

    def prepare(self, name: str) -> None:
        """Start a spare for the process `name`, if it is a service process."""
        old = self.waiting.get(name)
        service = split_name(name)[0]
        if service not in self.stack.config.replica_addrs or (old and old.poll() is None):
            return  # not a service process (Envoy, the broker), or its spare waits already
        log_path = self.stack.log_path(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.waiting[name] = subprocess.Popen(
                [sys.executable, "-m", "shopmesh.standby", service],
                env=self.stack.service_env(name),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def activate(self, name: str) -> bool:
        """Make the spare of `name` serve as that process; False if there is none alive."""
        spare = self.waiting.pop(name, None)
        if spare is None or spare.poll() is not None:
            return False
        try:
            spare.stdin.write(b"serve\n")
            spare.stdin.flush()
        except OSError:
            return False
        self.stack.processes[name] = spare
        self.stack.publish()
        return True

    def stop(self) -> None:
        for spare in self.waiting.values():
            with contextlib.suppress(OSError):
                spare.stdin.close()  # a spare exits when its stdin closes
        for spare in self.waiting.values():
            try:
                spare.wait(5)
            except subprocess.TimeoutExpired:
                spare.kill()
                spare.wait()
        self.waiting.clear()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
