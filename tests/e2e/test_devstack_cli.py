"""`python -m shoptools.devstack up --detach` and `down`, the commands `make up-detached` and
`make down` run, on free loopback ports: a port something listens on stops the start at once,
naming what holds it and leaving nothing running; a port closed client connections still hold
in TIME-WAIT (as right after a load test) is waited out, and the shop then starts and answers."""

import os
import pathlib
import socket
import subprocess
import sys
import time

import httpx
import pytest
from port_support import port_in_time_wait

from shoptools.devstack import ROOT, SERVICES, free_ports

pytestmark = pytest.mark.e2e

# Settings of the caller's environment that would change what the stack runs.
_UNSET = ("SHOP_REPLICAS", "SHOP_TRACING", "SHOP_SPANNER_EMULATOR", "KAFKA_BOOTSTRAP_SERVERS")


def _env(base: pathlib.Path, payment_port: int) -> dict[str, str]:
    """Every address on a free port (the payment service's on `payment_port`), every file
    under `base`."""
    ports = iter(free_ports(10))
    addrs = {
        "GATEWAY_ADDR": next(ports),
        "GATEWAY_GRPC_ADDR": next(ports),
        "ENVOY_ADMIN_ADDR": next(ports),
        "ENVOY_STATS_ADDR": next(ports),
        **{f"{name.upper()}_METRICS_ADDR": next(ports) for name in SERVICES},
        "STOCK_SERVICE_ADDR": next(ports),
        "PAYMENT_SERVICE_ADDR": payment_port,
        "ORDER_SERVICE_ADDR": next(ports),
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _UNSET and not key.endswith("_REPLICAS")
    }
    env.update({key: f"127.0.0.1:{port}" for key, port in addrs.items()})
    env.update(
        KAFKA_LOCAL_PORT=str(next(ports)),
        SHOP_DATA_DIR=str(base / "data"),
        SHOP_RUN_DIR=str(base / "run"),
    )
    return env


def _devstack(env: dict[str, str], *args: str, timeout_s: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shoptools.devstack", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_port_something_listens_on_stops_the_start_naming_it(tmp_path: pathlib.Path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = _env(tmp_path, port)

        started = _devstack(env, "up", "--detach", timeout_s=60)

    assert started.returncode == 1
    assert (
        f"the payment service cannot listen on 127.0.0.1:{port}: Address already in use"
        f" (held by 1 LISTEN; pid {os.getpid()} (" in started.stderr
    )
    assert "the stack did not start" in started.stderr
    assert not (tmp_path / "run" / "ready").exists()
    assert not (tmp_path / "data").exists()  # refused before anything started
    assert not (tmp_path / "run" / "stack.pid").exists()  # nothing for `down` to signal


def test_a_port_in_time_wait_is_waited_out_then_the_shop_answers(tmp_path: pathlib.Path):
    port = port_in_time_wait()
    env = _env(tmp_path, port)
    waited_from = time.monotonic()
    try:
        started = _devstack(env, "up", "--detach", timeout_s=240)
        waited_s = time.monotonic() - waited_from

        assert started.returncode == 0, started.stderr
        assert "is held by 1 closed connection(s) in TIME-WAIT" in started.stdout
        assert f"127.0.0.1:{port} is free" in started.stdout
        assert waited_s > 1  # it did wait: the kernel held the port for up to a minute
        gateway = f"http://{env['GATEWAY_ADDR']}"
        user = httpx.post(f"{gateway}/payment/create_user", timeout=10).json()["user_id"]
        answer = httpx.get(f"{gateway}/payment/find_user/{user}", timeout=10)
        assert answer.json() == {"user_id": user, "credit": 0}
    finally:
        pid_file = tmp_path / "run" / "stack.pid"
        pid = int(pid_file.read_text()) if pid_file.exists() else None
        stopped = _devstack(env, "down", timeout_s=60)
        assert stopped.returncode == 0
        if pid is not None:
            assert not _alive(pid)
