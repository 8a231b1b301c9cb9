#!/usr/bin/env bash
# Installs a container engine (podman/buildah from Debian's packages) and makes the stand-in base images
# that `dfix verify` and the build tests use, following shared/notes/container-builds.md.
#
# Root on Debian 12. No registry is reachable, so the base images are built from Debian packages and
# tagged with the names Dockerfiles use. Idempotent: a second run finds everything and only re-checks.
# State lives in $DFIX_ENGINE_ROOT (default: <repo>/.engine, git-ignored); the variables the engine
# needs are written to $DFIX_ENGINE_ROOT/env.sh (source it) and printed as export lines.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${DFIX_ENGINE_ROOT:-$REPO/.engine}
mkdir -p "$ROOT/conf"
ROOT=$(cd "$ROOT" && pwd)
START=$SECONDS
say() { printf 'setup-engine: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "error: run as root (apt-get install, overlay storage and mmdebstrap need it)"; exit 2
fi

PACKAGES=(podman buildah runc conmon netavark aardvark-dns slirp4netns fuse-overlayfs uidmap
  containernetworking-plugins catatonit iptables mmdebstrap curl)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  say "packages installed in $((SECONDS - START)) s"
fi

# crun refuses hybrid cgroups and there is no systemd; ulimits must stay under the host's hard limits.
cat > "$ROOT/conf/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
cat > "$ROOT/conf/storage.conf" <<CONF
[storage]
driver = "overlay"
runroot = "$ROOT/run"
graphroot = "$ROOT/storage"
[storage.options.overlay]
mountopt = "nodev"
CONF
# Short names must resolve to the local stand-ins only: a search list would try to pull on a miss.
printf 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n' > "$ROOT/conf/registries.conf"
cat > "$ROOT/env.sh" <<ENV
export DFIX_ENGINE_ROOT=$ROOT
export CONTAINERS_CONF=$ROOT/conf/containers.conf
export CONTAINERS_STORAGE_CONF=$ROOT/conf/storage.conf
export CONTAINERS_REGISTRIES_CONF=$ROOT/conf/registries.conf
ENV
# shellcheck source=/dev/null
. "$ROOT/env.sh"

# The mirrors apt already uses here (the only ones reachable); Debian's defaults on a plain machine.
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | sed -n 1p)
SECMIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | sed -n 2p)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${SECMIRROR:-http://deb.debian.org/debian-security}
SOURCES=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECMIRROR bookworm-security main")
# Builds reach PyPI through an intercepting proxy: images must trust its CA or pip finds nothing.
CA_HOOK='mkdir -p "$1"/usr/local/share/ca-certificates; cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true'
SLIM=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*')

# $1 image name, $2 tar name, rest: mmdebstrap options. The tar is written under a temporary name so an
# interrupted run is redone, and deleted once imported: the image store is the state.
make_image() {
  local image=$1 tar=$2; shift 2
  if podman image exists "$image"; then say "$image exists"; return; fi
  local t=$SECONDS
  if [ ! -s "$ROOT/$tar" ]; then
    mmdebstrap --quiet --format=tar --variant=minbase "${SLIM[@]}" "$@" \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/*; : > "$1"/etc/resolv.conf' \
      bookworm "$ROOT/$tar.part" "${SOURCES[@]}"
    mv "$ROOT/$tar.part" "$ROOT/$tar"
  fi
  say "$tar made in $((SECONDS - t)) s"
  IMPORT_CHANGES+=("$ROOT/$tar" "$image")
  podman import --quiet "${IMPORT_CHANGES[@]}" >/dev/null
  rm -f "$ROOT/$tar"
  say "$image imported ($((SECONDS - t)) s)"
}

# Debian's python3 is 3.11 whatever the tag says; python3-dev because the official images carry headers.
IMPORT_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]'
  --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt'
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' --change 'ENV UV_NATIVE_TLS=1')
make_image docker.io/library/python:3.12-slim-bookworm python-base.tar \
  --include=python3,python3-pip,python3-venv,python3-dev,ca-certificates,netbase,tzdata \
  --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
  --customize-hook='ln -sf /usr/bin/python3 "$1"/usr/local/bin/python; ln -sf /usr/bin/pip3 "$1"/usr/local/bin/pip' \
  --customize-hook="$CA_HOOK" \
  --customize-hook='chroot "$1" update-ca-certificates >/dev/null'
# The -trixie names are what DF401 pins the floating tags to. A pin names the same image as its floating
# tag, so here both name the one stand-in: a rewrite that only pins its base builds on the same bytes.
# Every name below is this one bookworm image: a -trixie tag here is NOT trixie, so package names that
# differ between the releases (DF403's runtime libraries) are only checked for real on -bookworm bases.
for tag in 3.12-slim 3.11-slim 3.11-slim-bookworm 3.12 3.11 3 latest 3.12-bookworm 3.11-bookworm \
    3.12-slim-trixie 3.11-slim-trixie 3.12-trixie 3.11-trixie 3-trixie 3.15-trixie 3.15-slim-trixie; do
  podman image exists "docker.io/library/python:$tag" || podman tag python:3.12-slim-bookworm "docker.io/library/python:$tag"
done

# Like the official debian image: no python, no ca-certificates; the proxy CA is left where
# update-ca-certificates finds it once a Dockerfile installs ca-certificates.
IMPORT_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]')
make_image docker.io/library/debian:bookworm-slim debian-base.tar --customize-hook="$CA_HOOK"
for tag in bookworm 12 12-slim; do
  podman image exists "docker.io/library/debian:$tag" || podman tag debian:bookworm-slim "docker.io/library/debian:$tag"
done

# One real run proves runtime, storage and ulimits agree with this machine before any test relies on it.
podman run --rm --pull=never --network host docker.io/library/python:3.12-slim \
  python -c 'import ssl, urllib.request' >/dev/null
say "ready in $((SECONDS - START)) s; engine state in $ROOT"
cat "$ROOT/env.sh"
