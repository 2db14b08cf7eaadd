"""podman from the tests: every container, pod, volume and network made is named with the
run's id and removed at the end, also when a test fails."""

import json
import socket
import subprocess
import time

import httpx


class PodmanError(AssertionError):
    pass


class Podman:
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._undo: list[list[str]] = []

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise PodmanError(f"podman {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def on_cleanup(self, *args: str) -> None:
        self._undo.append(list(args))

    def cleanup(self) -> None:
        # Everything named with this run's id, at once and without waiting out stop timeouts
        # (kube down alone would stop each pod with podman's 10 s default).
        listings = {
            "pod": ["pod", "ps", "--format", "{{.Name}}"],
            "container": ["ps", "--all", "--format", "{{.Names}}"],
        }
        for kind, listing in listings.items():
            mine = [name for name in self(*listing, check=False).split() if self.run_id in name]
            if mine:
                self(kind, "rm", "--force", "--time", "1", *mine, check=False, timeout=120)
        for args in reversed(self._undo):
            self(*args, check=False, timeout=60)
        self._undo.clear()
        # kube play makes volumes of emptyDirs and ConfigMaps, named after them (with our id).
        for volume in self("volume", "ls", "--format", "{{.Name}}", check=False).split():
            if self.run_id in volume:
                self("volume", "rm", "--force", volume, check=False)

    def network(self, purpose: str) -> str:
        name = f"shopmesh-{purpose}-{self.run_id}"
        self("network", "create", name)
        self.on_cleanup("network", "rm", "--force", name)
        return name

    def run(self, name: str, image: str, *args: str, command: tuple[str, ...] = ()) -> str:
        self.on_cleanup("rm", "--force", "--time", "2", name)
        self("run", "--detach", "--name", name, *args, image, *command)
        return name

    def inspect(self, *names: str) -> list[dict]:
        return json.loads(self("inspect", *names))

    def logs(self, name: str, tail: int = 40) -> str:
        """The container's last `tail` lines of output (all with tail=0). Sliced here:
        podman 4.3's own --tail prints nothing for a container that has exited."""
        done = subprocess.run(["podman", "logs", name], capture_output=True, text=True, timeout=30)
        lines = (done.stdout + done.stderr).splitlines()
        return "\n".join(lines[-tail:] if tail else lines)

    def published(self, name: str, port: int) -> str:
        """host:port where a container's port is published."""
        return self("port", name, f"{port}/tcp").splitlines()[0]


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_serving(url: str, podman: Podman, containers: list[str], timeout_s: float = 90) -> None:
    """Until each service answers through the gateway (a 404 for an unknown id), or fail with
    the containers' state and logs."""
    probes = ["/stock/find/none", "/payment/find_user/none", "/orders/find/none"]
    deadline = time.monotonic() + timeout_s
    waiting = list(probes)
    with httpx.Client(base_url=url, timeout=5) as http:
        while waiting and time.monotonic() < deadline:
            try:
                if http.get(waiting[0]).status_code == 404:
                    waiting.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if any(c["State"]["Status"] == "exited" for c in podman.inspect(*containers)):
                break
            time.sleep(0.5)
    if waiting:
        report = "\n".join(
            f"--- {c['Name']}: {c['State']['Status']} (exit {c['State']['ExitCode']})\n"
            + podman.logs(c["Name"])
            for c in podman.inspect(*containers)
        )
        raise AssertionError(f"the shop did not serve {waiting[0]} at {url}:\n{report}")
