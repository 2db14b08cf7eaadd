"""Keeps a local stack running: any process of it that exits without being asked to (a service
replica, Envoy, the local broker) is started again, with backoff, and one line says so once it
serves again (a service process from a warm spare, shoptools.standby, started beforehand and
waiting). A process that keeps dying (SHOP_MAX_RESTARTS restarts within
SHOP_RESTART_WINDOW_S, default 5 in 60 s) is a crash loop: the supervisor gives up with the tail
of that process's log, and the caller stops everything.

The Spanner emulator is not restarted: it keeps its data in memory, so a new one would hold
none of the shop's; its exit ends the stack like a crash loop.
"""

import collections
import dataclasses
import signal
import threading
import time
from collections.abc import Callable

from shopmesh.settings import env_float, env_int

NOT_RESTARTED = {"spanner-emulator"}
LOG_TAIL_CHARS = 3000


class CrashLoop(Exception):
    """A process of the stack keeps exiting: the supervisor gave up on it."""

    def __init__(self, name: str, message: str, log_tail: str) -> None:
        super().__init__(message)
        self.name = name
        self.log_tail = log_tail


@dataclasses.dataclass
class Restart:
    """One unexpected exit and what became of it, for reports (`make chaos`)."""

    name: str
    exit_code: int
    exited_at: float
    spawned_at: float | None = None
    serving_at: float | None = None

    @property
    def downtime_s(self) -> float | None:
        return None if self.serving_at is None else self.serving_at - self.exited_at


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"


def backoff_s(recent_restarts: int) -> float:
    """No wait for a first restart; then 0.25 s, doubling, at most 4 s."""
    return 0.0 if recent_restarts == 0 else min(0.25 * 2 ** (recent_restarts - 1), 4.0)


class Supervisor:
    def __init__(
        self,
        stack,
        *,
        max_restarts: int | None = None,
        window_s: float | None = None,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
        clock: Callable[[], float] = time.monotonic,
        warm_spares: bool | None = None,
    ) -> None:
        self.stack = stack
        self.max_restarts = max_restarts or env_int("SHOP_MAX_RESTARTS", 5)
        self.window_s = window_s or env_float("SHOP_RESTART_WINDOW_S", 60.0)
        self.say = say
        self.clock = clock
        self.history: list[Restart] = []
        self._recent: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._due: dict[str, tuple[float, Restart]] = {}  # exited, to be spawned at
        self._starting: dict[str, Restart] = {}  # spawned, not serving yet
        # Warm spares (shoptools.standby) make a service's restart a matter of opening its
        # store and binding its port: SHOP_WARM_SPARES=0 turns them off.
        if warm_spares is None:
            warm_spares = env_int("SHOP_WARM_SPARES", 1) > 0
        self.warm_spares = warm_spares
        if self.warm_spares:
            for name in stack.config.service_processes:
                stack.spares.prepare(name)

    def check(self) -> None:
        """One pass: notice exits, start what is due, report what serves again. Raises
        CrashLoop when a process keeps dying."""
        now = self.clock()
        if self.warm_spares:
            self.stack.spares.tick()
        for name, process in list(self.stack.processes.items()):
            if name not in self._due and process.poll() is not None:
                self._exited(name, process.returncode, now)
        for name, (at, restart) in list(self._due.items()):
            if at <= now:
                del self._due[name]
                self.stack.spawn(name)
                restart.spawned_at = self.clock()
                self._starting[name] = restart
        for name, restart in list(self._starting.items()):
            if self.stack.ready(name):
                del self._starting[name]
                restart.serving_at = self.clock()
                self._report(restart)
                if self.warm_spares:  # only now: a spare's start would slow the restart
                    self.stack.spares.prepare(name)

    def _exited(self, name: str, code: int, now: float) -> None:
        restart = Restart(name, code, now)
        self.history.append(restart)
        before = self._starting.pop(name, None)
        if name in NOT_RESTARTED:
            self._give_up(name, f"{name} {describe_exit(code)}; it cannot be restarted")
        recent = self._recent[name]
        while recent and recent[0] < now - self.window_s:
            recent.popleft()
        if len(recent) >= self.max_restarts:
            self._give_up(
                name,
                f"{name} {describe_exit(code)} after {len(recent)} restarts within"
                f" {self.window_s:g} s: crash loop, giving up",
            )
        if before is not None:
            self.say(f"supervisor: {name} {describe_exit(code)} again before serving")
        self._due[name] = (now + backoff_s(len(recent)), restart)
        recent.append(now)

    def _report(self, restart: Restart) -> None:
        count = len(self._recent[restart.name])
        self.say(
            f"supervisor: restarted {restart.name} (it {describe_exit(restart.exit_code)}):"
            f" serving again {restart.downtime_s:.2f} s after the exit"
            f" ({count} of {self.max_restarts} restarts within {self.window_s:g} s)"
        )

    def _give_up(self, name: str, message: str) -> None:
        log = self.stack.log_path(name)
        tail = log.read_text(errors="replace")[-LOG_TAIL_CHARS:] if log.exists() else ""
        raise CrashLoop(name, message, tail)

    def run(self, stopping: Callable[[], bool], interval_s: float = 0.05) -> None:
        """Supervise until `stopping()` says so; CrashLoop propagates."""
        while not stopping():
            self.check()
            time.sleep(interval_s)


class SupervisorThread:
    """A supervisor in a background thread, for tools and tests that drive the stack from
    Python: `with SupervisorThread(stack) as supervisor: ...`. A crash loop stops the stack
    and is kept in `gave_up`."""

    def __init__(self, stack, **options) -> None:
        self.supervisor = Supervisor(stack, **options)
        self.gave_up: CrashLoop | None = None
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def _run(self) -> None:
        try:
            self.supervisor.run(self._stop.is_set)
        except CrashLoop as loop:
            self.gave_up = loop
            self.supervisor.say(f"supervisor: {loop}")
            self.supervisor.stack.stop()
        except Exception as error:  # a bug here must not pass for a quiet stack
            self.error = error
            raise

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self.supervisor

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError("the supervisor failed") from self.error
