"""Find and start the Cloud Spanner emulator for local runs and tests.

The emulator ships with the Google Cloud CLI (Debian package
google-cloud-cli-spanner-emulator). It is looked for in SPANNER_EMULATOR_BIN, then in the
Cloud SDK of the `gcloud` on PATH, then in the Debian package's path.
"""

import os
import pathlib
import shutil
import subprocess

from shoptools.listening import wait_listening

DEBIAN_PATH = pathlib.Path("/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main")
INSTALL_HINT = (
    "the Cloud Spanner emulator is not installed: `apt-get install"
    " google-cloud-cli-spanner-emulator` (Google Cloud CLI apt repository), or set"
    " SPANNER_EMULATOR_BIN to its emulator_main"
)


def find_emulator() -> pathlib.Path | None:
    candidates = []
    if os.environ.get("SPANNER_EMULATOR_BIN"):
        candidates.append(pathlib.Path(os.environ["SPANNER_EMULATOR_BIN"]))
    gcloud = shutil.which("gcloud")
    if gcloud:
        sdk = pathlib.Path(gcloud).resolve().parent.parent
        candidates.append(sdk / "bin" / "cloud_spanner_emulator" / "emulator_main")
    candidates.append(DEBIAN_PATH)
    return next((path for path in candidates if path.is_file()), None)


def start_emulator(
    port: int, log_path: pathlib.Path, extra_args: tuple[str, ...] = ()
) -> subprocess.Popen:
    """Start the emulator on 127.0.0.1:port and wait until it accepts connections.
    `--enable_fault_injection` in extra_args makes it abort commits at random."""
    binary = find_emulator()
    if binary is None:
        raise SystemExit(INSTALL_HINT)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(binary), "--host_port", f"127.0.0.1:{port}", *extra_args],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return wait_listening(process, port, "spanner emulator", log_path)
