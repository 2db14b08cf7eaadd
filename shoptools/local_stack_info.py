"""Where a local stack (`make up`) runs, for tools that should find it by themselves.

The local stack runner writes `<SHOP_RUN_DIR>/stack.json` (SHOP_RUN_DIR defaults to ./run)
with at least {"kafka_bootstrap_servers": "127.0.0.1:9092", "rest_url": "http://..."}.
A missing or unreadable file means no local stack: tools fall back to asking.
"""

import json
import os
import pathlib

STACK_INFO = "stack.json"


def default_run_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("SHOP_RUN_DIR") or "run")


def read_stack_info(run_dir: pathlib.Path | str | None = None) -> dict | None:
    """The running local stack's addresses, or None when there is no (readable) file."""
    path = pathlib.Path(run_dir if run_dir is not None else default_run_dir()) / STACK_INFO
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
