"""A network namespace of `make chaos` for one process of the stack, so that a partition can cut
it off from the others without touching anything else.

The namespace (`shopchaos-<pid>`) gets a veth pair `shc<pid>h` (host end) / `shc<pid>n` (its
end), a /30 of 10.213.0.0/16 that no address or route of the host overlaps, and its loopback.
The process runs in it (`ip netns exec`) and listens on its veth address; Envoy and the other
services reach it there. What it calls (the broker, its peers, a trace collector) listens on
the host's loopback: two relays (relay.py), one in the namespace and one on the host's veth
address, carry those connections across the veth, so that every byte of the process crosses
it. A partition is two DROP rules in the namespace's own iptables tables (in and out of its
veth; the link taken down where iptables is missing); healing deletes them.

Nothing outside the namespace changes but the host end of the pair and its address, both
removed with the namespace on every exit path (`close`). Namespaces of chaos runs that died
without cleaning up (their pid is gone) are removed by the next run.
"""

import contextlib
import ipaddress
import json
import os
import pathlib
import shutil
import subprocess
import sys

from shoptools.replicas import split_name

PREFIX = "shopchaos-"
POOL = ipaddress.ip_network("10.213.0.0/16")


class Unavailable(Exception):
    """Namespaces cannot be made here; the message says why."""


def unavailable_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "making a network namespace needs root (ip netns add)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise Unavailable(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done


def host_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the host has an address in or a route to."""
    found = []
    addrs = json.loads(ip("-j", "-4", "addr", "show").stdout or "[]")
    for link in addrs:
        for info in link.get("addr_info", []):
            found.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", False))
    routes = json.loads(ip("-j", "-4", "route", "show", "table", "all").stdout or "[]")
    for route in routes:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_network(route["dst"], False))
    return found


def free_subnet(start: int) -> ipaddress.IPv4Network:
    taken = host_networks()
    subnets = list(POOL.subnets(new_prefix=30))
    for i in range(len(subnets)):
        subnet = subnets[(start + i) % len(subnets)]
        if not any(subnet.overlaps(net) for net in taken):
            return subnet
    raise Unavailable(f"no free /30 in {POOL}")


def remove_stale() -> None:
    """Namespaces of earlier chaos runs whose process is gone (killed before cleaning up)."""
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        pid = name.removeprefix(PREFIX)
        if not name.startswith(PREFIX) or not pid.isdigit():
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), 0)
            continue  # still running: someone else's run
        ip("link", "del", f"shc{pid}h", check=False)
        ip("netns", "del", name, check=False)


class Namespace:
    """`with Namespace() as ns:` makes it (or raises Unavailable), removes it at the end."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.name = f"{PREFIX}{pid}"
        self.host_veth, self.inner_veth = f"shc{pid}h", f"shc{pid}n"
        self.outer_ip = self.inner_ip = ""  # the host end's address, the namespace's
        self.relays: list[subprocess.Popen] = []
        self.cut_by = "iptables" if shutil.which("iptables") else "link"
        self._made = False

    def __enter__(self) -> "Namespace":
        reason = unavailable_reason()
        if reason:
            raise Unavailable(reason)
        remove_stale()
        try:
            self._make()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _make(self) -> None:
        subnet = free_subnet(os.getpid())
        outer, inner = list(subnet.hosts())
        self.outer_ip, self.inner_ip = str(outer), str(inner)
        ip("netns", "add", self.name)
        self._made = True
        ip("link", "add", self.host_veth, "type", "veth", "peer", "name", self.inner_veth)
        ip("link", "set", self.inner_veth, "netns", self.name)
        ip("addr", "add", f"{outer}/30", "dev", self.host_veth)
        ip("link", "set", self.host_veth, "up")
        self.exec_ip("addr", "add", f"{inner}/30", "dev", self.inner_veth)
        self.exec_ip("link", "set", self.inner_veth, "up")
        self.exec_ip("link", "set", "lo", "up")

    def exec_ip(self, *args: str) -> None:
        ip("-n", self.name, *args)

    @property
    def launcher(self) -> list[str]:
        """Prefix of a command line that runs it in the namespace (ip execs it: same pid)."""
        return ["ip", "netns", "exec", self.name]

    def relay(self, ports: list[int], log: pathlib.Path) -> None:
        """Make 127.0.0.1:PORT inside the namespace reach 127.0.0.1:PORT on the host, through
        the veth, for each port."""
        argv = [sys.executable, "-m", "shoptools.chaos.relay"]
        inside = [f"127.0.0.1:{p}={self.outer_ip}:{p}" for p in ports]
        outside = [f"{self.outer_ip}:{p}=127.0.0.1:{p}" for p in ports]
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            for command in ([*argv, *outside], [*self.launcher, *argv, *inside]):
                self.relays.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))

    def _rules(self, action: str) -> None:
        for chain, way in (("INPUT", "-i"), ("OUTPUT", "-o")):
            command = ["iptables", "-w", action, chain, way, self.inner_veth, "-j", "DROP"]
            subprocess.run([*self.launcher, *command], check=True, capture_output=True)

    def cut(self) -> None:
        """The partition: nothing passes the veth, either way, until `heal`."""
        if self.cut_by == "iptables":
            self._rules("-I")
        else:
            self.exec_ip("link", "set", self.inner_veth, "down")

    def heal(self) -> None:
        if self.cut_by == "iptables":
            self._rules("-D")
        else:
            self.exec_ip("link", "set", self.inner_veth, "up")

    def close(self) -> None:
        for relay in self.relays:
            relay.terminate()
        for relay in self.relays:
            try:
                relay.wait(5)
            except subprocess.TimeoutExpired:
                relay.kill()
                relay.wait()
        self.relays.clear()
        ip("link", "del", self.host_veth, check=False)  # takes its peer with it
        if self._made:
            ip("netns", "del", self.name, check=False)
            self._made = False


def place(ns: Namespace, config, process: str) -> None:
    """Run `process` of the stack (not started yet) in `ns`: it listens (gRPC, metrics) on the
    namespace's veth address, everyone else finds it there, and what it calls on the host's
    loopback (the broker, the services, a trace collector) is relayed across the veth."""
    service, index = split_name(process)
    if service not in config.replica_addrs or index >= len(config.replica_addrs[service]):
        raise SystemExit(f"--partition {process}: the stack has no such service process")

    def moved(address: str) -> str:
        _, sep, port = address.rpartition(":")
        return f"{ns.inner_ip}:{port}" if sep and port.isdigit() else address  # "off" stays

    listen = config.replica_addrs[service][index] = moved(config.replica_addrs[service][index])
    metrics = config.replica_metrics_addrs[service]
    metrics[index] = moved(metrics[index])
    if index == 0:
        config.service_addrs[service], config.metrics_addrs[service] = listen, metrics[0]
    config.launchers[process] = ns.launcher
    called = [a for addrs in config.replica_addrs.values() for a in addrs]
    called += [f"127.0.0.1:{config.kafka_port}"] if config.kafka_port else []
    called += [config.otlp_collector] if config.otlp_collector else []
    ports = sorted({int(a.rpartition(":")[2]) for a in called if a.startswith("127.0.0.1:")})
    ns.relay(ports, config.run_dir / "relay.log")
