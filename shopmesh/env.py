"""Reading one setting from the environment. Only composition roots (each service's
`__main__`, through `shopmesh.settings`, and the tools) call these."""

import os


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
