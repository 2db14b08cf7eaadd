#!/usr/bin/env bash
# Installs what `make image-test` needs on a Debian machine of this kind (run as root by CI,
# before `make test`): podman, buildah and debootstrap from Debian's packages, and podman's
# system containers.conf. Idempotent: apt-get runs only when a tool is missing, and the
# config is written only when the machine has none (an existing one is left as it is).
set -euo pipefail

PACKAGES=(podman buildah debootstrap fuse-overlayfs slirp4netns uidmap runc)
CONF=/etc/containers/containers.conf

if [ "$(uname -s)" != Linux ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install_podman: not root on a Debian-like Linux; install podman yourself (skipped)"
  exit 0
fi

missing=()
for tool in podman buildah debootstrap runc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_podman: installing ${PACKAGES[*]} (missing: ${missing[*]})"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${PACKAGES[@]}"
fi

if [ -e "$CONF" ]; then
  echo "install_podman: $CONF exists, left unchanged"
else
  mkdir -p "$(dirname "$CONF")"
  # podman sets a container's nproc above root's hard limit too: stay within it.
  nproc=$(ulimit -Hu)
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  # Why each line (verified with podman 4.3 on these VMs):
  # - root lacks CAP_SYS_RESOURCE and the hard nofile limit is 20000, so podman's defaults
  #   (nofile 1048576, nproc above the hard limit) cannot be set;
  # - crun refuses the machine's hybrid cgroup layout, runc accepts it;
  # - no systemd session to manage cgroups or take the journal's events.
  cat >"$CONF" <<EOF
# Written by shopmesh scripts/install_podman.sh (only because no containers.conf existed).
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  echo "install_podman: wrote $CONF (nofile 16384, nproc $nproc, runc, cgroupfs, file events)"
fi
podman --version
