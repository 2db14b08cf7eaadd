"""Run the whole shop on one machine: three services and the Envoy gateway.

    python -m shoptools.devstack up            # foreground; Ctrl-C stops everything
    python -m shoptools.devstack up --detach   # background; prints where it runs
    python -m shoptools.devstack down          # stops a detached stack

Addresses and directories come from the same environment variables as the services
(GATEWAY_ADDR, GATEWAY_GRPC_ADDR, ENVOY_ADMIN_ADDR, ENVOY_STATS_ADDR, STOCK_SERVICE_ADDR,
PAYMENT_SERVICE_ADDR, ORDER_SERVICE_ADDR, SHOP_DATA_DIR, SHOP_RUN_DIR), and each service's
metrics address from STOCK_METRICS_ADDR, PAYMENT_METRICS_ADDR, ORDER_METRICS_ADDR (passed on as
its METRICS_ADDR).
The tests use `Stack` directly with free ephemeral ports and temporary directories.
"""

import argparse
import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from shopmesh.env import env_str
from shopmesh.telemetry.metrics import OFF as METRICS_OFF
from shopmesh.telemetry.metrics import parse_addr
from shoptools.listening import PORT_WAIT_S, require_free
from shoptools.local_broker import spawn_broker, start_broker
from shoptools.replicas import grpc_target, replica_counts, replica_name, shifted, split_name
from shoptools.spanner_emulator import start_emulator
from shoptools.stack_file import probe_ready, stack_file, write_stack_file
from shoptools.standby import Spares
from shoptools.supervisor import CrashLoop, Supervisor

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = ("stock", "payment", "order")
# Where each service serves Prometheus metrics by default (each __main__ says the same).
DEFAULT_METRICS_PORTS = {"stock": 9101, "payment": 9102, "order": 9103}
PID_FILE = "stack.pid"


@dataclass
class StackConfig:
    rest_addr: str
    grpc_addr: str
    admin_addr: str
    # Envoy's stats listener: GET /stats/prometheus only ("off": none).
    stats_addr: str
    service_addrs: dict[str, str]
    data_dir: pathlib.Path
    run_dir: pathlib.Path
    env: dict[str, str] = field(default_factory=dict)
    # Each service's METRICS_ADDR ("off": none).
    metrics_addrs: dict[str, str] = field(default_factory=dict)
    # Start a Spanner emulator on this port and point the services at it.
    spanner_emulator_port: int | None = None
    # Start a local Kafka-protocol broker on this port (None: KAFKA_BOOTSTRAP_SERVERS is
    # an external Kafka, or unset).
    kafka_port: int | None = None
    # --- traces (shoptools/traces.py) ---
    # HOST:PORT of an OTLP/gRPC collector the services and Envoy send spans to ("": off).
    otlp_collector: str = ""
    # Start shoptools.traces there (run/traces.jsonl); else the collector is someone else's.
    trace_receiver: bool = False
    # --- end of traces ---
    # Every process of each service (shoptools.replicas): where each listens and serves its
    # metrics, the first being service_addrs' and metrics_addrs'. Unset: one process each.
    replica_addrs: dict[str, list[str]] = field(default_factory=dict)
    replica_metrics_addrs: dict[str, list[str]] = field(default_factory=dict)
    # A command-line prefix per process that runs it elsewhere, e.g. in a network namespace
    # of `make chaos` (shoptools/chaos/netns.py); its restarts and warm spares use it too.
    launchers: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, address in self.service_addrs.items():
            self.replica_addrs.setdefault(name, [address])
            self.replica_metrics_addrs.setdefault(name, [self.metrics_addrs.get(name, "off")])

    def process_names(self, service: str) -> list[str]:
        return [replica_name(service, i) for i in range(len(self.replica_addrs[service]))]

    @property
    def service_processes(self) -> list[str]:
        return [process for name in SERVICES for process in self.process_names(name)]

    @classmethod
    def from_env(cls) -> "StackConfig":
        config = cls(
            rest_addr=env_str("GATEWAY_ADDR", "127.0.0.1:8000"),
            grpc_addr=env_str("GATEWAY_GRPC_ADDR", "127.0.0.1:8081"),
            admin_addr=env_str("ENVOY_ADMIN_ADDR", "127.0.0.1:9901"),
            stats_addr=env_str("ENVOY_STATS_ADDR", "127.0.0.1:9902"),
            service_addrs={
                name: env_str(f"{name.upper()}_SERVICE_ADDR", f"127.0.0.1:{50051 + i}")
                for i, name in enumerate(SERVICES)
            },
            metrics_addrs={
                name: env_str(
                    f"{name.upper()}_METRICS_ADDR", f"127.0.0.1:{DEFAULT_METRICS_PORTS[name]}"
                )
                for name in SERVICES
            },
            data_dir=pathlib.Path(env_str("SHOP_DATA_DIR", "data")).resolve(),
            run_dir=pathlib.Path(env_str("SHOP_RUN_DIR", "run")).resolve(),
            spanner_emulator_port=(
                int(env_str("SPANNER_EMULATOR_PORT", "9010"))
                if env_str("SHOP_SPANNER_EMULATOR", "").lower() in {"1", "true"}
                else None
            ),
            kafka_port=(
                None
                if env_str("KAFKA_BOOTSTRAP_SERVERS", "")
                else int(env_str("KAFKA_LOCAL_PORT", "9092"))
            ),
            **tracing_from_env(),
        )
        for name, count in replica_counts(SERVICES).items():
            first, metrics = config.service_addrs[name], config.metrics_addrs[name]
            config.replica_addrs[name] = [shifted(first, i) for i in range(count)]
            config.replica_metrics_addrs[name] = [shifted(metrics, i) for i in range(count)]
        return config

    @classmethod
    def ephemeral(
        cls,
        base: pathlib.Path,
        env: dict[str, str] | None = None,
        replicas: dict[str, int] | None = None,
    ) -> "StackConfig":
        """Free loopback ports and directories under `base`: for tests. `replicas`: how many
        processes of a service (default one each)."""
        counts = {name: (replicas or {}).get(name, 1) for name in SERVICES}
        ports = free_ports(11 + 2 * sum(count - 1 for count in counts.values()))
        config = cls(
            rest_addr=f"127.0.0.1:{ports[0]}",
            grpc_addr=f"127.0.0.1:{ports[1]}",
            admin_addr=f"127.0.0.1:{ports[2]}",
            stats_addr=f"127.0.0.1:{ports[10]}",
            service_addrs={
                name: f"127.0.0.1:{port}" for name, port in zip(SERVICES, ports[3:6], strict=True)
            },
            metrics_addrs={
                name: f"127.0.0.1:{port}" for name, port in zip(SERVICES, ports[7:10], strict=True)
            },
            data_dir=base / "data",
            run_dir=base / "run",
            env=env or {},
            kafka_port=ports[6],
        )
        more = iter(ports[11:])
        for name, count in counts.items():
            extra = [
                (f"127.0.0.1:{next(more)}", f"127.0.0.1:{next(more)}") for _ in range(1, count)
            ]
            config.replica_addrs[name] += [listen for listen, _ in extra]
            config.replica_metrics_addrs[name] += [metrics for _, metrics in extra]
        return config

    @property
    def rest_url(self) -> str:
        return f"http://{self.rest_addr}"

    def metrics_url(self, name: str) -> str | None:
        """Where the service's Prometheus metrics are, or None when they are off."""
        addr = self.metrics_addrs.get(name, "off")
        return None if parse_addr(addr) is None else f"http://{addr}/metrics"

    @property
    def stats_on(self) -> bool:
        # The same words turn the stats listener off as turn METRICS_ADDR off.
        return self.stats_addr.strip().lower() not in METRICS_OFF

    @property
    def envoy_stats_url(self) -> str | None:
        """Where Envoy's own stats are scraped (its stats listener), or None when it is off."""
        return f"http://{self.stats_addr}/stats/prometheus" if self.stats_on else None


def tracing_from_env() -> dict:
    """SHOP_TRACING=1: a local receiver on OTLP_RECEIVER_ADDR (default 127.0.0.1:4317)."""
    if env_str("SHOP_TRACING", "").lower() not in {"1", "true"}:
        return {}
    return {
        "otlp_collector": env_str("OTLP_RECEIVER_ADDR", "127.0.0.1:4317"),
        "trace_receiver": True,
    }


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Stack:
    """The shop's processes. Start, kill and restart them one by one or all at once."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}
        self.published = False
        # When the local broker (re)started (time.time()): it keeps its stream in memory, so
        # each start begins an empty one (stack.json tells the auditor).
        self.broker_starts: list[float] = []
        # Warm spares of the service processes (shoptools.standby), once the supervisor asks.
        self.spares = Spares(self)
        self.envoy_config = config.run_dir / "envoy.yaml"
        if config.kafka_port:
            config.env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{config.kafka_port}"
        if config.spanner_emulator_port:
            config.env.update(
                SHOP_STORE="spanner",
                SPANNER_EMULATOR_HOST=f"127.0.0.1:{config.spanner_emulator_port}",
                SPANNER_CREATE_SCHEMA="true",
            )
        if config.otlp_collector:  # traces: the SDK's settings, spans sent within 0.5 s
            config.env.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{config.otlp_collector}")
            config.env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "500")

    def log_path(self, name: str) -> pathlib.Path:
        return self.config.run_dir / f"{name}.log"

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.config.env}

    def listen_addr(self, process: str) -> str:
        service, index = split_name(process)
        return self.config.replica_addrs[service][index]

    def service_env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of one service process (`stock`, or a replica such as `stock-2`):
        its own listen and metrics addresses, and every replica of its peers."""
        service, index = split_name(name)
        env = {**self._env(), **(extra or {})}
        replicas = self.config.replica_addrs
        env.update(
            LISTEN_ADDR=replicas[service][index],
            SHOP_DATA_DIR=str(self.config.data_dir),
            STOCK_SERVICE_ADDR=grpc_target(replicas["stock"]),
            PAYMENT_SERVICE_ADDR=grpc_target(replicas["payment"]),
            ORDER_SERVICE_ADDR=grpc_target(replicas["order"]),
        )
        if service in self.config.metrics_addrs:
            env["METRICS_ADDR"] = self.config.replica_metrics_addrs[service][index]
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
        self.publish()

    def start_service(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        argv = [*self.config.launchers.get(name, []), sys.executable]
        argv += ["-m", f"{split_name(name)[0]}_svc"]
        self._spawn(name, argv, self.service_env(name, extra_env))

    def wait_serving(self, name: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        with grpc.insecure_channel(self.listen_addr(name)) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                self._check_alive(name)
                with contextlib.suppress(grpc.RpcError):
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not SERVING after {timeout_s}s")
                time.sleep(0.05)

    def write_envoy_config(self) -> None:
        upstreams = [f"--upstream={n}={','.join(a)}" for n, a in self.config.replica_addrs.items()]
        # GATEWAY_<NAME> becomes generate.py's --<name>; unset ones keep its defaults
        # (envoy/generate.py --help, docs/security.md).
        env = self._env()
        gateway_settings = [
            f"--{name.lower().replace('_', '-')}={env[f'GATEWAY_{name}']}"
            for name in (
                "TIMEOUT_S",
                "MAX_REQUEST_BYTES",
                "MAX_REQUEST_HEADERS_KB",
                "REQUEST_HEADERS_TIMEOUT_S",
                "REQUEST_TIMEOUT_S",
                "STREAM_IDLE_TIMEOUT_S",
                "IDLE_TIMEOUT_S",
                "MAX_CONNECTIONS",
                "MAX_IN_FLIGHT",
                "RATE_LIMIT_RPS",
                "RATE_LIMIT_BURST",
            )
            if env.get(f"GATEWAY_{name}")
        ]
        collector = self.config.otlp_collector
        tracing_args = [f"--otlp-collector={collector}"] if collector else []
        if collector and "ratio" in env.get("OTEL_TRACES_SAMPLER", ""):
            # The gateway decides for a request: the services' ratio, as Envoy's percentage.
            percent = 100 * float(env.get("OTEL_TRACES_SAMPLER_ARG", "1"))
            tracing_args.append(f"--trace-sampling={percent:g}")
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "envoy" / "generate.py"),
                f"--out={self.envoy_config}",
                f"--rest-addr={self.config.rest_addr}",
                f"--grpc-addr={self.config.grpc_addr}",
                f"--admin-addr={self.config.admin_addr}",
                f"--stats-addr={self.config.stats_addr if self.config.stats_on else 'off'}",
                *gateway_settings,
                *tracing_args,
                *upstreams,
            ],
            check=True,
        )

    def start_envoy(self) -> None:
        self.write_envoy_config()
        self._spawn_envoy()

    def _spawn_envoy(self) -> None:
        envoy = pathlib.Path(sys.executable).with_name("envoy")
        argv = [
            str(envoy) if envoy.exists() else "envoy",
            "-c",
            str(self.envoy_config),
            "--disable-hot-restart",
            "--log-level",
            env_str("ENVOY_LOG_LEVEL", "warn"),
            "--concurrency",
            env_str("ENVOY_CONCURRENCY", "2"),
        ]
        self._spawn("envoy", argv, {**os.environ})

    def wait_envoy_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive("envoy")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://{self.config.admin_addr}/ready", timeout=1):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"envoy not ready after {timeout_s}s")
            time.sleep(0.05)

    def start_broker(self) -> None:
        self.processes["kafka"] = start_broker(self.config.kafka_port, self.log_path("kafka"))
        self.broker_starts.append(time.time())
        self.publish()

    def start_trace_receiver(self) -> None:
        out = self.config.run_dir / "traces.jsonl"
        argv = [sys.executable, "-m", "shoptools.traces", "serve", "--out", str(out)]
        self._spawn("traces", [*argv, "--addr", self.config.otlp_collector], {**os.environ})

    def start(self) -> None:
        if self.config.trace_receiver:
            self.start_trace_receiver()
        if self.config.kafka_port:
            self.start_broker()
        if self.config.spanner_emulator_port:
            self.processes["spanner-emulator"] = start_emulator(
                self.config.spanner_emulator_port, self.log_path("spanner-emulator")
            )
        for name in self.config.service_processes:
            self.start_service(name)
        for name in self.config.service_processes:
            self.wait_serving(name)
        self.start_envoy()
        self.wait_envoy_ready()
        self.published = True
        self.publish()

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            tail = self.log_path(name).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int:
        process = self.processes.pop(name, None)
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def kill(self, name: str) -> None:
        """kill -9: no drain, no cleanup, as in a crash."""
        self.stop_process(name, signal.SIGKILL)

    def restart_service(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.stop_process(name)
        self.start_service(name, extra_env)
        self.wait_serving(name)

    def stop(self) -> None:
        self.published = False
        stack_file(self.config).unlink(missing_ok=True)
        services = [p for name in reversed(SERVICES) for p in self.config.process_names(name)]
        for name in ["envoy", *services, "spanner-emulator", "kafka", "traces"]:
            self.stop_process(name)
        for name in list(self.processes):  # anything started by hand under another name
            self.stop_process(name)
        self.spares.stop()

    def publish(self) -> None:
        """Write run/stack.json (where everything listens, which pid runs what) once the
        stack is up, again after every (re)start: tools such as the auditor and chaos read it."""
        if self.published:
            write_stack_file(self)

    def spawn(self, name: str) -> None:
        """Start one process of the stack again, as at the start, without waiting for it."""
        if name == "envoy":
            self._spawn_envoy()
        elif name == "kafka":
            self.processes["kafka"] = spawn_broker(self.config.kafka_port, self.log_path("kafka"))
            self.broker_starts.append(time.time())
            self.publish()
        elif split_name(name)[0] in SERVICES:
            if not self.spares.activate(name):
                self.start_service(name)
        else:
            raise ValueError(f"{name} cannot be restarted")

    def ready(self, name: str) -> bool:
        """One quick look: is the process serving (SERVING, Envoy ready, broker accepting)?"""
        return probe_ready(self, name)

    def exited(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]


def store_description(config: StackConfig) -> str:
    env = {**os.environ, **config.env}
    if env.get("SHOP_STORE") != "spanner":
        return f"SQLite files in {config.data_dir}"
    where = env.get("SPANNER_EMULATOR_HOST") or "Cloud Spanner"
    prefix = env.get("SPANNER_DATABASE_PREFIX", "shop-")
    instance = f"{env.get('SPANNER_PROJECT', 'shop-local')}/{env.get('SPANNER_INSTANCE', 'shop')}"
    return f"Spanner {instance}/{prefix}{{stock,payment,order}} at {where}"


def kafka_description(config: StackConfig) -> str:
    servers = {**os.environ, **config.env}.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if config.kafka_port:
        return f"{servers}  (local Tansu broker, in memory; audit topic shop.audit)"
    return servers or "off (KAFKA_BOOTSTRAP_SERVERS unset: events wait in the outboxes)"


def traces_description(config: StackConfig) -> str:
    show = "python -m shoptools.traces show --last-checkout"
    return f"{config.run_dir}/traces.jsonl  (OTLP/gRPC on {config.otlp_collector}; {show})"


def banner(config: StackConfig, stack: Stack) -> str:
    addrs = config.replica_addrs
    stats_url = config.envoy_stats_url

    def metrics(name: str) -> str:
        if config.metrics_url(name) is None:
            return "off"
        return ", ".join(f"http://{a}/metrics" for a in config.replica_metrics_addrs[name])

    rows = [
        ("REST gateway", config.rest_url),
        ("gRPC gateway", f"{config.grpc_addr}  (grpcurl -protoset gen/shop/shop.protoset)"),
        *((name, f"{', '.join(addrs[name])}  (gRPC, reflection on)") for name in SERVICES),
        ("envoy admin", f"http://{config.admin_addr}"),
        *((f"{name} metrics", metrics(name)) for name in SERVICES),
        ("envoy stats", f"{stats_url}  (Prometheus format)" if stats_url else "off"),
        ("kafka", kafka_description(config)),
        ("store", store_description(config)),
        *([("traces", traces_description(config))] if config.trace_receiver else []),
        (
            "logs",
            f"{config.run_dir}/{{stock,payment,order,envoy}}.log  (JSON lines;"
            f" follow a request: grep <request_id> {config.run_dir}/*.log)",
        ),
        ("stack file", f"{config.run_dir}/stack.json  (addresses and pids, for tools)"),
        ("supervisor", "restarts any process that exits; gives up on a crash loop"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    return "shopmesh is up\n" + "\n".join(lines)


def run_foreground(config: StackConfig) -> int:
    for address, what in [
        (config.rest_addr, "the REST gateway"),
        (config.grpc_addr, "the gRPC gateway"),
        (config.admin_addr, "the Envoy admin"),
        *([(config.stats_addr, "the Envoy stats listener")] if config.stats_on else []),
        *([(config.otlp_collector, "the trace receiver")] if config.trace_receiver else []),
        *(
            (addr, f"the {name} service")
            for name, addrs in config.replica_addrs.items()
            for addr in addrs
        ),
        *(
            (addr, f"the {name} metrics")
            for name, addrs in config.replica_metrics_addrs.items()
            for addr in addrs
            if parse_addr(addr) is not None
        ),
    ]:
        require_free(address, what)
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = Stack(config)
    try:
        stack.start()
        print(banner(config, stack), flush=True)
        print("Ctrl-C stops everything.", flush=True)
        (config.run_dir / "ready").touch()
        try:
            Supervisor(stack).run(lambda: stopping)
        except CrashLoop as loop:
            print(f"{loop}; the end of {stack.log_path(loop.name)}:", flush=True)
            print(loop.log_tail.rstrip(), flush=True)
            print(f"stopping everything because {loop.name} keeps exiting", flush=True)
            return 1
        return 0
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        (config.run_dir / "ready").unlink(missing_ok=True)
        print("stopped", flush=True)


def run_detached(config: StackConfig) -> int:
    config.run_dir.mkdir(parents=True, exist_ok=True)
    (config.run_dir / "ready").unlink(missing_ok=True)
    log = config.run_dir / "stack.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shoptools.devstack", "up"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=pathlib.Path.cwd(),
        )
    (config.run_dir / PID_FILE).write_text(str(process.pid))
    # Starting takes seconds; a port still held by closed connections adds up to a minute.
    deadline = time.monotonic() + 60 + PORT_WAIT_S
    while not (config.run_dir / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:  # too slow: stop what it started, not leave it behind
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            # Gone either way: a pid left behind would make `down` signal whoever reuses it.
            (config.run_dir / PID_FILE).unlink(missing_ok=True)
            print(log.read_text(errors="replace"), file=sys.stderr)
            print("the stack did not start", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(log.read_text().replace("Ctrl-C stops everything.", "'make down' stops everything."))
    return 0


def stop_detached(config: StackConfig) -> int:
    pid_file = config.run_dir / PID_FILE
    if not pid_file.exists():
        print("no detached stack is running")
        return 0
    pid = int(pid_file.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    print("stopped")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m shoptools.devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the stack")
    up.add_argument("--detach", action="store_true", help="run in the background")
    sub.add_parser("down", help="stop a detached stack")
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    if args.command == "down":
        return stop_detached(config)
    if args.detach:
        return run_detached(config)
    return run_foreground(config)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
