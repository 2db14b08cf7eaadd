"""The supervisor's rules with a fake stack and clock: restart at once, then back off; report
once serving; give up on a crash loop with the log's tail."""

import pathlib

import pytest

from shoptools.supervisor import CrashLoop, Supervisor, backoff_s


class FakeProcess:
    def __init__(self) -> None:
        self.returncode = None

    def poll(self):
        return self.returncode


class FakeStack:
    def __init__(self, log_dir: pathlib.Path) -> None:
        self.processes = {"stock": FakeProcess(), "envoy": FakeProcess()}
        self.spawned: list[str] = []
        self.serving: set[str] = set()
        self.log_dir = log_dir

    def spawn(self, name: str) -> None:
        self.spawned.append(name)
        self.processes[name] = FakeProcess()

    def ready(self, name: str) -> bool:
        return name in self.serving

    def log_path(self, name: str) -> pathlib.Path:
        return self.log_dir / f"{name}.log"

    def crash(self, name: str, code: int = -9) -> None:
        self.processes[name].returncode = code
        self.serving.discard(name)


@pytest.fixture
def world(tmp_path):
    stack = FakeStack(tmp_path)
    now = [0.0]
    said: list[str] = []
    supervisor = Supervisor(
        stack,
        max_restarts=3,
        window_s=60,
        say=said.append,
        clock=lambda: now[0],
        warm_spares=False,
    )
    return stack, supervisor, now, said


def test_a_first_exit_is_restarted_at_once_and_reported_once_serving(world):
    stack, supervisor, now, said = world
    stack.crash("stock")
    supervisor.check()
    assert stack.spawned == ["stock"] and not said
    now[0] = 1.5
    stack.serving.add("stock")
    supervisor.check()
    assert len(said) == 1 and "restarted stock" in said[0] and "SIGKILL" in said[0]
    assert supervisor.history[0].downtime_s == 1.5


def test_repeated_exits_back_off(world):
    stack, supervisor, now, _ = world
    for expected_wait in (0.0, 0.25, 0.5):
        stack.crash("envoy")
        supervisor.check()  # notices the exit
        spawned = len(stack.spawned)
        now[0] += expected_wait
        supervisor.check()
        assert len(stack.spawned) == spawned + (0 if expected_wait == 0 else 1)
        stack.serving.add("envoy")
        supervisor.check()
    assert backoff_s(10) == 4.0


def test_a_crash_loop_gives_up_with_the_log_tail(world):
    stack, supervisor, now, _ = world
    stack.log_path("stock").write_text("boom: cannot open the store\n")
    with pytest.raises(CrashLoop) as loop:
        for _ in range(10):
            stack.crash("stock", code=1)
            now[0] += 5
            supervisor.check()
    assert loop.value.name == "stock"
    assert "crash loop" in str(loop.value) and "exited with 1" in str(loop.value)
    assert "cannot open the store" in loop.value.log_tail
    assert stack.spawned.count("stock") == 3


def test_exits_spread_beyond_the_window_are_no_crash_loop(world):
    stack, supervisor, now, _ = world
    for _ in range(10):
        stack.crash("stock")
        supervisor.check()
        now[0] += 61
        supervisor.check()
        stack.serving.add("stock")
        supervisor.check()
    assert stack.spawned.count("stock") == 10
