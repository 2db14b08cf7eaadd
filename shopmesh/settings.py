"""Reading settings from the environment: the helpers every service's settings use."""

import os
import pathlib


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


def data_dir() -> pathlib.Path:
    """Where the embedded stores keep their files (SHOP_DATA_DIR, default ./data)."""
    return pathlib.Path(env_str("SHOP_DATA_DIR", "data")).resolve()


class ServiceSettings:
    """What every service reads: where to listen, where its data lives, how to stop."""

    def __init__(self, service: str, default_port: int, default_metrics_port: int) -> None:
        self.service = service
        self.listen_addr = env_str("LISTEN_ADDR", f"127.0.0.1:{default_port}")
        self.store = env_str("SHOP_STORE", "sqlite")
        if self.store not in {"sqlite", "spanner"}:
            raise SystemExit(f"SHOP_STORE must be 'sqlite' or 'spanner', got {self.store!r}")
        self.db_path = data_dir() / f"{service}.sqlite3"
        # FULL: a commit (a checkout's decision among them) is on disk before it is answered,
        # so a power loss cannot take back a 200. NORMAL: only a process crash is survived.
        self.sqlite_synchronous = env_str("SQLITE_SYNCHRONOUS", "FULL").upper()
        if self.sqlite_synchronous not in {"NORMAL", "FULL", "EXTRA"}:
            raise SystemExit("SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")
        self.grace_s = env_float("SHUTDOWN_GRACE_S", 5.0)
        self.log_level = env_str("LOG_LEVEL", "INFO")
        # json (one object per line, for log collectors) or text (for people).
        self.log_format = env_str("LOG_FORMAT", "json").lower()
        # HOST:PORT of this process's /metrics; "off" serves none.
        self.metrics_addr = env_str("METRICS_ADDR", f"127.0.0.1:{default_metrics_port}")
        self.rpc_timeout_s = env_float("RPC_TIMEOUT_S", 2.0)
        # Participants: how long a reservation may stay HELD before asking the coordinator.
        self.reservation_timeout_s = env_float("RESERVATION_TIMEOUT_S", 15.0)
        self.order_service_addr = env_str("ORDER_SERVICE_ADDR", "127.0.0.1:50053")
        # Tests only: exit abruptly at a named point (see shopmesh.faults).
        self.fault_point = env_str("SHOP_FAULT_POINT", "")
