"""Ports of the local stack: wait until a process we started accepts TCP connections (the
local broker, the emulator), and, before starting, until each port can be listened on."""

import errno
import pathlib
import socket
import subprocess
import sys
import time
from collections import Counter

import psutil

# How long Linux keeps a closed connection's port in TIME-WAIT (TCP_TIMEWAIT_LEN, fixed).
TIME_WAIT_S = 60.0
# How long `require_free` waits for such a port at most.
PORT_WAIT_S = TIME_WAIT_S + 5
_TIME_WAIT = psutil.CONN_TIME_WAIT
_EVERY_ADDRESS = {"", "0.0.0.0", "::"}


def wait_listening(
    process: subprocess.Popen, port: int, what: str, log_path: pathlib.Path, timeout_s: float = 30
) -> subprocess.Popen:
    """Return `process` once 127.0.0.1:port accepts a connection. If it exits first, or
    nothing listens within timeout_s (then it is killed), raise, naming `what` and its log."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                message = f"{what} did not start in {timeout_s:g}s; see {log_path}"
                raise TimeoutError(message) from None
            time.sleep(0.02)


def require_free(address: str, what: str, wait_s: float = PORT_WAIT_S, poll_s: float = 0.5) -> None:
    """Return once `address` (host:port) can be listened on; else exit, naming what holds it.

    A port held only by closed connections in TIME-WAIT is waited for (up to wait_s), since
    the kernel frees it within a minute: the services' default ports (50051-50053) lie in
    Linux's ephemeral range, so a load test's client connections may have used one as their
    local port, and their TIME-WAIT sockets refuse a listener's bind even with SO_REUSEADDR."""
    host, _, port_text = address.rpartition(":")
    port = int(port_text)
    deadline = time.monotonic() + wait_s
    waiting = False
    while True:
        error = bind_error(host, port)
        if error is None:
            if waiting:
                print(f"{address} is free", file=sys.stderr, flush=True)
            return
        holders = _holders(host, port) if error.errno == errno.EADDRINUSE else None
        closing = bool(holders) and all(c.status == _TIME_WAIT for c in holders)
        if not closing or time.monotonic() >= deadline:
            reason = f"{what} cannot listen on {address}: {error.strerror}"
            raise SystemExit(reason + _held_by(holders, wait_s if closing else 0))
        if not waiting:
            print(
                f"{address} ({what}) is held by {len(holders)} closed connection(s) in"
                f" TIME-WAIT that used it as their local port; the kernel frees it within"
                f" {TIME_WAIT_S:g} s: waiting",
                file=sys.stderr,
                flush=True,
            )
            waiting = True
        time.sleep(poll_s)


def bind_error(host: str, port: int) -> OSError | None:
    """Binding as the services' listeners do (SO_REUSEADDR): None if it would succeed."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error
    return None


def _holders(host: str, port: int) -> list | None:
    """The TCP sockets bound to `port` on `host` or on every address (None: this user may not
    list them)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    on_port = [c for c in connections if c.laddr and c.laddr.port == port]
    if host in _EVERY_ADDRESS:  # a listener on every address clashes with each of them
        return on_port
    return [c for c in on_port if c.laddr.ip in {host, f"::ffff:{host}", *_EVERY_ADDRESS}]


def _held_by(holders: list | None, waited_s: float) -> str:
    """What holds the port, for the refusal: each state and how many, and the processes
    where this user may see them."""
    if not holders:
        return ""
    states = ", ".join(f"{n} {state}" for state, n in Counter(c.status for c in holders).items())
    pids = sorted({c.pid for c in holders if c.pid})
    owners = f"; pid {', '.join(_named(pid) for pid in pids)}" if pids else ""
    waited = f", still after {waited_s:g} s" if waited_s else ""
    return f" (held by {states}{owners}{waited})"


def _named(pid: int) -> str:
    try:
        return f"{pid} ({psutil.Process(pid).name()})"
    except psutil.Error:
        return str(pid)
