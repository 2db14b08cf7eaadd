"""The local stack heals itself: whatever process of it dies comes back and serves, with no data
lost, and a process that keeps dying ends the stack with a message that says which and why."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from shoptools.devstack import ROOT, Stack, StackConfig
from shoptools.stack_file import read_stack_file
from shoptools.supervisor import Supervisor, SupervisorThread

from .checkout_helpers import FAST_RECOVERY, Shop, client, ok, wait_for_invariants

pytestmark = pytest.mark.e2e

# Only to end a test that would otherwise hang; no assertion is made on how long anything took.
GIVE_UP_S = 60


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def supervised(tmp_path: pathlib.Path) -> Iterator[tuple[Stack, Supervisor]]:
    stack = Stack(StackConfig.ephemeral(tmp_path, FAST_RECOVERY))
    try:
        stack.start()
        with SupervisorThread(stack) as supervisor:
            yield stack, supervisor
    finally:
        stack.stop()


def kill_and_wait_serving(stack: Stack, supervisor: Supervisor, name: str) -> None:
    before = len(supervisor.history)
    os.kill(stack.processes[name].pid, signal.SIGKILL)

    def back() -> bool:
        restarts = [r for r in supervisor.history[before:] if r.name == name]
        return bool(restarts) and restarts[-1].serving_at is not None

    wait_until(back, f"{name} to serve again")


def test_every_kind_of_process_is_restarted_and_serves_with_no_data_lost(supervised):
    stack, supervisor = supervised
    with client(stack) as http:
        shop = Shop(http)
        item = shop.item(price=3, stock=10)
        user = shop.user(credit=100)
        paid = shop.order(user, [(item, 2)])
        ok(shop.checkout(paid))
        for victim in ["stock", "payment", "order", "envoy", "kafka"]:
            kill_and_wait_serving(stack, supervisor, victim)
            # What was there before is still there, and the shop takes new checkouts.
            assert shop.paid(paid), victim
            order = shop.order(user, [(item, 1)])
            ok(shop.checkout(order))
        assert shop.stock(item) == 10 - 2 - 5
        assert shop.credit(user) == 100 - 6 - 15
    wait_for_invariants(stack, {item: 10}, {user: 100})
    assert [r.name for r in supervisor.history] == ["stock", "payment", "order", "envoy", "kafka"]
    published = read_stack_file(stack.config.run_dir)
    assert published["processes"]["stock"] == stack.processes["stock"].pid


def stack_env(config: StackConfig, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m shoptools.devstack up` use `config`'s ports."""
    return {
        **os.environ,
        "GATEWAY_ADDR": config.rest_addr,
        "GATEWAY_GRPC_ADDR": config.grpc_addr,
        "ENVOY_ADMIN_ADDR": config.admin_addr,
        "ENVOY_STATS_ADDR": config.stats_addr,
        **{f"{n.upper()}_SERVICE_ADDR": a for n, a in config.service_addrs.items()},
        **{f"{n.upper()}_METRICS_ADDR": a for n, a in config.metrics_addrs.items()},
        "KAFKA_LOCAL_PORT": str(config.kafka_port),
        "SHOP_DATA_DIR": str(config.data_dir),
        "SHOP_RUN_DIR": str(config.run_dir),
        **extra,
    }


def test_a_crash_loop_stops_the_whole_stack_with_the_message(tmp_path: pathlib.Path):
    config = StackConfig.ephemeral(tmp_path)
    env = stack_env(config, SHOP_MAX_RESTARTS="2")
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "shoptools.devstack", "up"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: (config.run_dir / "ready").exists(), "the stack to start")
        first = json.loads((config.run_dir / "stack.json").read_text())["processes"]
        killed = set()
        # Two restarts are allowed; the third exit is a crash loop.
        for _ in range(3):
            published = read_stack_file(config.run_dir)
            wait_until(
                lambda: (
                    (read_stack_file(config.run_dir) or {}).get("processes", {}).get("stock", 0)
                    not in killed
                ),
                "stock to be restarted",
            )
            pid = read_stack_file(config.run_dir)["processes"]["stock"]
            killed.add(pid)
            os.kill(pid, signal.SIGKILL)
        output, _ = up.communicate(timeout=GIVE_UP_S)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode == 1, output
    assert "crash loop" in output, output
    assert "stopping everything because stock keeps exiting" in output, output
    # The tail of stock's log is shown: its last lines are the service's own.
    assert '"service": "stock"' in output, output
    assert published is not None and not (config.run_dir / "stack.json").exists()
    for name, pid in first.items():
        if name != "stock":
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
