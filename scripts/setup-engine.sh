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
  containernetworking-plugins catatonit iptables mmdebstrap curl
  docker-compose)  # the compose tool of the live stack test, against podman's Docker API (dfix/compose/stack.py says why)
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
# The release's suites; Debian's own python3 comes with them (bookworm 3.11, trixie 3.13).
sources() { echo "deb $MIRROR $1 main"; echo "deb $MIRROR $1-updates main"; echo "deb $SECMIRROR $1-security main"; }
# Builds reach PyPI through an intercepting proxy: images must trust its CA or pip finds nothing.
CA_HOOK='mkdir -p "$1"/usr/local/share/ca-certificates; cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true'
SLIM=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*')

label() { podman image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }
# Images an older run made by another recipe, replaced in this run; removed at the end once no tag names them.
REPLACED=()
# $1 the image a new one replaces under its name (nothing when there is none)
replacing() {
  local id; id=$(podman image inspect --format '{{.Id}}' "$1" 2>/dev/null) || return 0
  REPLACED+=("$id"); say "$1 was made by another recipe: making it anew"
}

# $1 image name, $2 Debian release, $3 tar name, rest: mmdebstrap options. The tar is written under a
# temporary name so an interrupted run is redone, and deleted once imported: the image store is the state.
# The image carries the hash of its recipe (release, options, import changes): an image made by another
# recipe, such as an older version of this script, is made anew rather than trusted because it exists.
recipe_of() { printf '%s\n' "$@" "${IMPORT_CHANGES[@]}" | sha256sum | cut -c1-16; }
# The same arguments as make_image: writes the tar make_image imports, unless the image or the tar exists.
bootstrap() {
  local image=$1 release=$2 tar=$3 recipe t=$SECONDS suites; shift 3
  recipe=$(recipe_of "$release" "$@")
  tar=${tar%.tar}-$recipe.tar
  if [ "$(label "$image" dfix.stand-in.recipe)" = "$recipe" ] || [ -s "$ROOT/$tar" ]; then return 0; fi
  mapfile -t suites < <(sources "$release")
  mmdebstrap --quiet --format=tar --variant=minbase "${SLIM[@]}" "$@" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/*; : > "$1"/etc/resolv.conf' \
    "$release" "$ROOT/$tar.part" "${suites[@]}"
  mv "$ROOT/$tar.part" "$ROOT/$tar"
  say "$tar made in $((SECONDS - t)) s"
}
make_image() {
  local image=$1 release=$2 tar=$3 recipe t=$SECONDS; shift 3
  recipe=$(recipe_of "$release" "$@")
  tar=${tar%.tar}-$recipe.tar
  if [ "$(label "$image" dfix.stand-in.recipe)" = "$recipe" ]; then say "$image exists"; return; fi
  replacing "$image"
  bootstrap "$image" "$release" "${tar%-$recipe.tar}.tar" "$@"
  podman import --quiet "${IMPORT_CHANGES[@]}" --change "LABEL dfix.stand-in.recipe=$recipe" "$ROOT/$tar" "$image" >/dev/null
  rm -f "$ROOT/$tar"
  say "$image imported ($((SECONDS - t)) s)"
}

# $1 the image, rest: tags of its repository that must name it. A tag that names another image (an
# engine set up by an older run of this script) is moved: compared by image ID, not by existence.
point_tags() {
  local image=$1 repo=${1%:*} id tag; shift
  id=$(podman image inspect --format '{{.Id}}' "$image")
  for tag in "$@"; do
    if [ "$(podman image inspect --format '{{.Id}}' "$repo:$tag" 2>/dev/null)" != "$id" ]; then
      podman tag "$image" "$repo:$tag"
      say "$repo:$tag -> $image"
    fi
  done
}

# python stand-ins: Debian's own python3 with venv and headers (python3-dev, because the official images
# carry headers for C extensions), one image per Debian release. The Python version is Debian's
# (bookworm 3.11, trixie 3.13) whatever the tag says; the Debian release is the one the tag names.
# pip is not Debian's python3-pip: that one, and the Python libraries it depends on (python3-packaging,
# python3-wheel, ...), have no RECORD, so pip cannot uninstall them, and a Dockerfile that runs
# `pip install --upgrade pip` or pins packaging==24.1 fails here while it builds on the official image.
# As there, pip (with setuptools and wheel on Python 3.11; 3.12+ have only pip) is pip-managed under
# /usr/local, installed offline from the wheels Debian ships for venvs (python3-venv needs them anyway).
PYTHON_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]'
  --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt'
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' --change 'ENV UV_NATIVE_TLS=1')
# (env -i: no PIP_* setting of this machine's leaks into the image's install)
PIP_FROM_WHEEL='python3 "$(ls /usr/share/python-wheels/pip-*.whl)/pip" install --no-index --find-links /usr/share/python-wheels'
PIP_QUIETLY='--quiet --no-cache-dir --disable-pip-version-check --root-user-action=ignore'
# $@: the distributions pip manages in the official image of the release's Python version
python_base() {
  PYTHON_BASE=(--include=python3,python3-venv,python3-dev,ca-certificates,netbase,tzdata
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
    --customize-hook="chroot \"\$1\" env -i PATH=/usr/local/bin:/usr/bin:/bin sh -c '$PIP_FROM_WHEEL $PIP_QUIETLY $*'"
    --customize-hook='ln -sf /usr/bin/python3 "$1"/usr/local/bin/python'
    --customize-hook="$CA_HOOK"
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null')
}
python_base pip setuptools wheel
BOOKWORM_ARGS=("${PYTHON_BASE[@]}" --include=python3-wheel-whl)
python_base pip
TRIXIE_ARGS=("${PYTHON_BASE[@]}")
# Like the official debian image: no python, no ca-certificates; the proxy CA is left where
# update-ca-certificates finds it once a Dockerfile installs ca-certificates.
DEBIAN_CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]')
DEBIAN_ARGS=(--customize-hook="$CA_HOOK")

# The Compose stack's services (tests/test_compose_stack.py), from Debian trixie's own packages: PostgreSQL 17
# and Redis 8, whatever the tag says. One bootstrap carries both servers (a minbase bootstrap is most of the
# time: two cost CI ~80 s more); the redis image is the same bytes with redis's own configuration on top.
# The postgres entrypoint (scripts/standin/postgres-entrypoint.sh) does what the official one does for a
# stack: POSTGRES_USER/PASSWORD/DB on first start, then every address on 5432. Debian's package makes a
# cluster of its own at install: removed, the entrypoint makes one in PGDATA.
POSTGRES_ENTRYPOINT=$REPO/scripts/standin/postgres-entrypoint.sh
SERVICES_CHANGES=(--change 'ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8' --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'STOPSIGNAL SIGINT'
  --change 'EXPOSE 5432' --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["postgres"]')
SERVICES_ARGS=(--include=postgresql-17,postgresql-client-17,redis-server
  --customize-hook='chroot "$1" pg_dropcluster 17 main 2>/dev/null || rm -rf "$1"/var/lib/postgresql/17 "$1"/etc/postgresql/17'
  --customize-hook="copy-in $POSTGRES_ENTRYPOINT /usr/local/bin"
  --customize-hook='mv "$1"/usr/local/bin/postgres-entrypoint.sh "$1"/usr/local/bin/docker-entrypoint.sh'
  --customize-hook='mkdir -p "$1"/data && chroot "$1" chown redis:redis /data'
  --customize-hook=": entrypoint $(sha256sum < "$POSTGRES_ENTRYPOINT" | cut -c1-16)")

# The bootstraps download and unpack packages, mostly waiting on the mirror and the disk: run at once, the
# four take about as long as the longest (one after another they were most of CI's setup time).
pids=()
IMPORT_CHANGES=("${PYTHON_CHANGES[@]}")
bootstrap docker.io/library/python:3.12-slim-bookworm bookworm python-bookworm.tar "${BOOKWORM_ARGS[@]}" & pids+=($!)
bootstrap docker.io/library/python:3.13-slim-trixie trixie python-trixie.tar "${TRIXIE_ARGS[@]}" & pids+=($!)
IMPORT_CHANGES=("${DEBIAN_CHANGES[@]}")
bootstrap docker.io/library/debian:bookworm-slim bookworm debian-base.tar "${DEBIAN_ARGS[@]}" & pids+=($!)
IMPORT_CHANGES=("${SERVICES_CHANGES[@]}")
bootstrap docker.io/library/postgres:17-trixie trixie services.tar "${SERVICES_ARGS[@]}" & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid" || { say "error: a base image bootstrap failed (mmdebstrap above)"; exit 1; }; done

IMPORT_CHANGES=("${PYTHON_CHANGES[@]}")
make_image docker.io/library/python:3.12-slim-bookworm bookworm python-bookworm.tar "${BOOKWORM_ARGS[@]}"
make_image docker.io/library/python:3.13-slim-trixie trixie python-trixie.tar "${TRIXIE_ARGS[@]}"
# As on Docker Hub: the -bookworm tags are bookworm; the floating tags (no release in the name) are trixie,
# the official images' default release since Aug 2025, and so are the -trixie tags DF401 pins them to. A
# pin names the same image as its floating tag, so a rewrite that only pins its base builds on the same
# bytes, and DF403's per-release runtime libraries are installed on the release their names are for.
point_tags docker.io/library/python:3.12-slim-bookworm 3.11-slim-bookworm
point_tags docker.io/library/python:3.13-slim-trixie 3.13-slim 3.12-slim 3.11-slim 3-slim slim \
  3.12-slim-trixie 3.11-slim-trixie 3-slim-trixie 3.15-slim-trixie

# The full tags (python:3.12, python:3.12-bookworm) are, like the official ones (buildpack-deps), the slim
# image plus compilers, git and the common -dev headers: a rewrite that keeps a full base keeps its gcc,
# and the tests must see that rather than a full tag that is secretly slim.
FULL_PACKAGES="build-essential pkg-config git curl wget libpq-dev libssl-dev libffi-dev libxml2-dev libxslt1-dev
  libjpeg-dev zlib1g-dev libsqlite3-dev libbz2-dev liblzma-dev libreadline-dev libncurses-dev
  default-libmysqlclient-dev libyaml-dev"
# $1 the slim image, $2 the full image made from it: made anew when missing, or when made from another slim
# image or package list (the recipe label), so a slim image made anew is followed by its full image
make_full_image() {
  local slim=$1 full=$2 t=$SECONDS recipe
  recipe=$(printf '%s\n' "$(podman image inspect --format '{{.Id}}' "$slim")" $FULL_PACKAGES | sha256sum | cut -c1-16)
  if [ "$(label "$full" dfix.stand-in)" = full ] && [ "$(label "$full" dfix.stand-in.recipe)" = "$recipe" ]; then
    say "$full exists"; return
  fi
  replacing "$full"
  printf 'FROM %s\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends %s >/dev/null && rm -rf /var/lib/apt/lists/*\nLABEL dfix.stand-in=full dfix.stand-in.recipe=%s\n' \
    "$slim" "$(echo $FULL_PACKAGES)" "$recipe" | podman build --quiet --pull=never --network host -t "$full" -f - "$ROOT" >/dev/null
  say "$full built ($((SECONDS - t)) s)"
}
make_full_image docker.io/library/python:3.12-slim-bookworm docker.io/library/python:3.12-bookworm
make_full_image docker.io/library/python:3.13-slim-trixie docker.io/library/python:3.13-trixie
point_tags docker.io/library/python:3.12-bookworm 3.11-bookworm
point_tags docker.io/library/python:3.13-trixie 3.13 3.12 3.11 3 latest 3.12-trixie 3.11-trixie 3-trixie 3.15-trixie

IMPORT_CHANGES=("${DEBIAN_CHANGES[@]}")
make_image docker.io/library/debian:bookworm-slim bookworm debian-base.tar "${DEBIAN_ARGS[@]}"
point_tags docker.io/library/debian:bookworm-slim bookworm 12 12-slim

IMPORT_CHANGES=("${SERVICES_CHANGES[@]}")
make_image docker.io/library/postgres:17-trixie trixie services.tar "${SERVICES_ARGS[@]}"
point_tags docker.io/library/postgres:17-trixie 17 17-alpine 19-trixie 19-alpine3.24 latest
# redis: as the official image, the server runs as user redis in /data with no config file (every address,
# port 6379), protected mode off so the other services reach it. Made anew when the postgres image is.
make_redis_image() {
  local base=docker.io/library/postgres:17-trixie image=docker.io/library/redis:8-trixie t=$SECONDS recipe
  recipe=$(podman image inspect --format '{{.Id}}' "$base" | sha256sum | cut -c1-16)
  if [ "$(label "$image" dfix.stand-in.recipe)" = "$recipe" ]; then say "$image exists"; return; fi
  replacing "$image"
  printf '%s\n' "FROM $base" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=' 'STOPSIGNAL SIGTERM' 'WORKDIR /data' 'EXPOSE 6379' \
    'ENTRYPOINT ["setpriv", "--reuid=redis", "--regid=redis", "--init-groups"]' \
    'CMD ["redis-server", "--protected-mode", "no"]' "LABEL dfix.stand-in.recipe=$recipe" |
    podman build --quiet --pull=never --format docker -t "$image" -f - "$ROOT" >/dev/null
  say "$image built ($((SECONDS - t)) s)"
}
make_redis_image
point_tags docker.io/library/redis:8-trixie 8 8-alpine 7 7-alpine alpine latest

# Real runs prove runtime, storage and ulimits agree with this machine before any test relies on it, and
# that each kind of tag names the release it should.
for tag in 3.12 3.11-bookworm; do
  podman run --rm --pull=never --network host "docker.io/library/python:$tag" gcc --version >/dev/null \
    || { say "error: python:$tag has no gcc, unlike the official full image"; exit 1; }
done
if podman run --rm --pull=never --network host docker.io/library/python:3.12-slim sh -c 'command -v gcc' >/dev/null; then
  say "error: python:3.12-slim has gcc, unlike the official slim image"; exit 1
fi
for check in 3.12-slim=trixie 3.12-slim-trixie=trixie 3.11-bookworm=bookworm 3.12=trixie; do
  got=$(podman run --rm --pull=never --network host "docker.io/library/python:${check%=*}" python -c \
    'import ssl, urllib.request, platform; print(platform.freedesktop_os_release()["VERSION_CODENAME"])')
  [ "$got" = "${check#*=}" ] || { say "error: python:${check%=*} is $got, not ${check#*=}"; exit 1; }
done
# pip as on Docker Hub: pip-managed under /usr/local, and no distribution pip cannot uninstall, so a Dockerfile's
# `pip install --upgrade pip` or a pin of what Debian would have packaged replaces it. Uninstalling every
# distribution there is (in a throwaway container) is the operation an upgrade or a pin starts with.
for check in 3.12-slim=pip 3.12=pip 3.12-slim-bookworm=pip,setuptools,wheel 3.11-bookworm=pip,setuptools,wheel; do
  got=$(podman run --rm --pull=never --network host -e PIP_ROOT_USER_ACTION=ignore \
    -e PIP_DISABLE_PIP_VERSION_CHECK=1 "docker.io/library/python:${check%=*}" sh -c \
    'set -e; pip=$(command -v pip); dists=$(pip list --format=freeze | sed "s/==.*//" | sort | paste -sd, -)
     pip --version >&2; pip uninstall -y $(echo "$dists" | tr , " ") >&2; echo "$pip $dists"' 2>"$ROOT/pip-check.log") \
    || { say "error: python:${check%=*}: pip cannot uninstall what the image has:"; cat "$ROOT/pip-check.log" >&2; exit 1; }
  [ "$got" = "/usr/local/bin/pip ${check#*=}" ] || { say "error: python:${check%=*} has $got, not /usr/local/bin/pip ${check#*=}"; exit 1; }
done
rm -f "$ROOT/pip-check.log"
# The images this run replaced, once no tag names them; an image still in use (a build made from it) stays.
for id in "${REPLACED[@]}"; do
  if [ -z "$(podman image inspect --format '{{join .RepoTags ","}}' "$id" 2>/dev/null)" ]; then
    podman rmi "$id" >/dev/null 2>&1 && say "removed the replaced image ${id:0:12}" || true
  fi
done
say "ready in $((SECONDS - START)) s; engine state in $ROOT"
cat "$ROOT/env.sh"
