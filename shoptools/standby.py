"""A warm spare of a service process, for the supervisor: `python -m shoptools.standby stock`
imports everything the stock service needs (grpc, protobuf, the stores: most of a start's
second or two), says so on the file descriptor given as its second argument, then waits. A
line on its stdin makes it that service process, with the environment it was started with;
closing stdin makes it exit.

The supervisor keeps one spare per supervised service process, so that a crashed process is
replaced in the time it takes to open the store and bind the port, not to start Python. The
spares warm up one at a time: several importing at once would slow each other and the shop.
"""

import asyncio
import contextlib
import importlib
import os
import pathlib
import select
import subprocess
import sys

from shoptools.replicas import split_name

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    service = argv[0]
    module = importlib.import_module(f"{service}_svc.__main__")
    with contextlib.suppress(OSError):  # nobody listens once it is serving already
        os.write(int(argv[1]), b"w")
    os.close(int(argv[1]))
    if not sys.stdin.readline():
        return 0  # stdin closed: not needed
    asyncio.run(module.main())
    return 0


class Spares:
    """One warm spare per service process of a stack (`stock`, `stock-2`, ...), made on demand."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.waiting: dict[str, subprocess.Popen] = {}
        self._queue: list[str] = []  # to be started, one at a time
        self._warming: tuple[str, int] | None = None  # (name, read end of its "warm" pipe)

    def prepare(self, name: str) -> None:
        """Queue a spare for the process `name`, if it is a service process."""
        if split_name(name)[0] in self.stack.config.replica_addrs and name not in self._queue:
            self._queue.append(name)
        self.tick()

    def tick(self) -> None:
        """Start the next queued spare once the one warming up is warm (call it often)."""
        if self._warming is not None:
            name, ready = self._warming
            spare = self.waiting.get(name)
            if spare is not None and spare.poll() is None:
                if not select.select([ready], [], [], 0)[0]:
                    return  # still importing
            os.close(ready)
            self._warming = None
        while self._queue and self._warming is None:
            self._start(self._queue.pop(0))

    def _start(self, name: str) -> None:
        old = self.waiting.get(name)
        if old is not None and old.poll() is None:
            return  # its spare waits already
        ready, warm = os.pipe()
        log_path = self.stack.log_path(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.waiting[name] = subprocess.Popen(
                [
                    *self.stack.config.launchers.get(name, []),
                    *(sys.executable, "-m", "shoptools.standby", split_name(name)[0], str(warm)),
                ],
                pass_fds=[warm],
                env=self.stack.service_env(name),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        os.close(warm)
        self._warming = (name, ready)

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
        self._queue.clear()
        if self._warming is not None:
            os.close(self._warming[1])
            self._warming = None
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
