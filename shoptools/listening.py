"""Wait until a process we started accepts TCP connections (the local broker, the emulator)."""

import pathlib
import socket
import subprocess
import time


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
