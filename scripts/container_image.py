"""The shop's container image: build it (`make image`) and test it (`make image-test`).

    python scripts/container_image.py build [--tag shopmesh:dev] [--base IMAGE|local]
    python scripts/container_image.py test [PYTEST ARGS]

The engine is podman where it is installed, else docker (SHOP_CONTAINER_ENGINE overrides).
`--base local` builds on a stand-in for python:3.11-slim-bookworm made from Debian's packages
(scripts/container_bases.py), for machines that reach no registry.

With podman, pip inside the build uses this machine's own pip configuration: its config files
and the files they name (CA bundle, constraints, local wheel directories) are mounted read-only
for the build only (`podman build -v`), never copied into the image or the repository.
"""

import argparse
import configparser
import os
import pathlib
import platform
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import container_bases  # noqa: E402

ROOT = container_bases.ROOT
DEFAULT_TAG = "shopmesh:dev"
# Settings of pip's config files whose values are paths on this machine.
PIP_PATH_KEYS = {"cert", "client-cert", "constraint", "find-links", "index-url", "extra-index-url"}


def engine() -> str | None:
    chosen = os.environ.get("SHOP_CONTAINER_ENGINE")
    if chosen:
        return chosen
    return next((name for name in ("podman", "docker") if shutil.which(name)), None)


def pip_config_files() -> list[pathlib.Path]:
    """pip's config files as pip itself looks for them (global, user, PIP_CONFIG_FILE)."""
    home = pathlib.Path.home()
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    candidates = [
        pathlib.Path("/etc/pip.conf"),
        *(pathlib.Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d),
        home / ".pip" / "pip.conf",
        home / ".config" / "pip" / "pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        candidates.append(pathlib.Path(os.environ["PIP_CONFIG_FILE"]))
    return [path for path in dict.fromkeys(candidates) if path.is_file()]


def paths_named_in(config_file: pathlib.Path) -> list[pathlib.Path]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config_file)
    found = []
    for section in parser.sections():
        for key, value in parser.items(section):
            if key not in PIP_PATH_KEYS:
                continue
            for word in value.split():
                path = pathlib.Path(word.removeprefix("file://"))
                # A local index's pages link to files beside `simple/`: mount the whole tree.
                if key.endswith("index-url") and path.name == "simple":
                    path = path.parent
                if path.is_absolute() and path.exists():
                    found.append(path)
    return found


def pip_mounts() -> list[str]:
    """`-v` options that give a build's pip this machine's pip configuration, read-only."""
    home = pathlib.Path.home()
    mounts: dict[pathlib.Path, pathlib.Path] = {}
    for config in pip_config_files():
        # The build runs as root: a user's own config is read from root's home there.
        inside = config
        if config.is_relative_to(home):
            inside = pathlib.Path("/root") / config.relative_to(home)
        mounts[config] = inside
        for path in paths_named_in(config):
            mounts[path] = path
    return [arg for host, inside in mounts.items() for arg in ("-v", f"{host}:{inside}:ro")]


def build(tag: str = DEFAULT_TAG, base: str | None = None, quiet: bool = False) -> str:
    """Build the image; returns its id."""
    tool = engine()
    if tool is None:
        raise SystemExit("image: neither podman nor docker is installed")
    args = [tool, "build", "-f", str(ROOT / "Dockerfile"), "-t", tag]
    if base == "local":
        base = container_bases.debian_base(tool)
    if base:
        args += ["--build-arg", f"BASE_IMAGE={base}"]
    if pathlib.Path(tool).name == "podman":
        # Docker's format keeps what OCI's drops (HEALTHCHECK), so the test sees it if added.
        args += ["--format", "docker", *pip_mounts()]
    container_bases.log(f"building {tag} on {base or 'the Dockerfile default base'}")
    if quiet:
        # The build's output only when it fails.
        done = subprocess.run([*args, str(ROOT)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(
                f"image: {tool} build failed:\n{done.stdout[-6000:]}{done.stderr[-6000:]}"
            )
    elif subprocess.run([*args, str(ROOT)]).returncode != 0:
        hint = "" if base else " (no registry here? `make image BASE_IMAGE=local`)"
        raise SystemExit(f"image: {tool} build failed{hint}")
    done = subprocess.run(
        [tool, "image", "inspect", "--format", "{{.Id}}", tag],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def why_not_runnable() -> str | None:
    """Why podman cannot run the image test here, or None when it can."""
    if platform.system() != "Linux":
        return f"podman containers need Linux, this is {platform.system()}"
    if not shutil.which("podman"):
        if os.geteuid() != 0:
            return "podman is not installed and installing it needs root"
        return "podman is not installed: run scripts/install_podman.sh (as root)"
    done = subprocess.run(["podman", "info"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"podman cannot run here: {done.stderr.strip().splitlines()[-1:]}"
    return None


def test(pytest_args: list[str]) -> int:
    reason = why_not_runnable()
    if reason:
        ci_root = os.environ.get("CI") == "true" and platform.system() == "Linux"
        if ci_root and os.geteuid() == 0:
            print(f"image-test FAILED: CI as root on Linux must run it, but {reason}")
            return 1
        print(f"image-test skipped: {reason}")
        return 0
    argv = [sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "image"), *pytest_args]
    return subprocess.run(argv, cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the shop's image")
    build_cmd.add_argument("--tag", default=DEFAULT_TAG)
    build_cmd.add_argument("--base", help="base image, or 'local' for the Debian stand-in")
    commands.add_parser("test", help="build, run and check the image (tests/image)")
    args, rest = parser.parse_known_args()
    if args.command == "build":
        if rest:
            parser.error(f"unknown arguments {rest}")
        print(build(args.tag, args.base))
        return 0
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
