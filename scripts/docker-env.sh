#!/usr/bin/env bash
# A throwaway Docker engine and three loopback registries for the image-pipeline and real-engine tests.
#
#   scripts/docker-env.sh up   STATE_DIR [STORE]   start dockerd + registries, build the base; writes STATE_DIR/env
#   scripts/docker-env.sh down STATE_DIR           stop everything started by `up` (engine, bridge, registries)
#   scripts/docker-env.sh install                  only install the Debian packages (docker.io, docker-registry, debootstrap, apache2-utils, prometheus)
#
# STORE is the engine's image store: `classic` (the default; also DOCKER_IMAGE_STORE) or `containerd`
# (the default of fresh Docker Engine 29 and Docker Desktop installs), set through daemon.json's
# features.containerd-snapshotter. The engine is Docker Engine 28.5.2 from ../shared/tools/docker
# (installed into ONEDIGEST_CACHE) when that folder is there, which is the engine users run; else,
# or with DOCKER_ENGINE=path, the dockerd on PATH (Debian's docker.io is 20.10: classic store only).
#
# The registries stand in for ECR, Artifact Registry and registry.heroku.com. Nothing can be pulled
# on the test machines, so the Dockerfile's base (python:3.12-slim-bookworm) is replaced by a
# stand-in built with debootstrap and passed through the BASE_IMAGE build argument; the Dockerfile
# itself is not changed. The stand-in is cached in ONEDIGEST_CACHE (default ~/.cache/onedigest).
#
# The engine runs on a private bridge of its own (BuildKit's RUN steps and published ports need one)
# with no NAT, so build containers have no route out: the stand-in base carries the app's
# hash-pinned wheels in /opt/wheels and a pip.conf that installs only from there. The Dockerfile's
# `pip install --require-hashes` still checks every hash.
set -euo pipefail

cmd=${1:?usage: docker-env.sh up STATE_DIR [classic|containerd], down STATE_DIR, or install}
state=${2:-}
[ "$cmd" = install ] || [ -n "$state" ] || { echo "usage: docker-env.sh up STATE_DIR [classic|containerd], or down STATE_DIR" >&2; exit 2; }
store=${3:-${DOCKER_IMAGE_STORE:-classic}}
case "$store" in classic | containerd) ;; *) echo "docker-env.sh: the image store is classic or containerd, not $store" >&2; exit 2 ;; esac
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}
base_tag=onedigest-base:bookworm-standin
root_dir=$(cd "$(dirname "$0")/.." && pwd)
engine_tools=$root_dir/../shared/tools/docker
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf '[docker-env] %s\n' "$*" >&2; }
die() { printf '[docker-env] ERROR: %s\n' "$*" >&2; exit 1; }

stage_start=$(date +%s)
stage() {
  local now; now=$(date +%s)
  log "stage '$1' took $((now - stage_start)) s"
  stage_start=$now
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_until() { # seconds description command...
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker >/dev/null || missing+=(docker.io)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v prometheus >/dev/null || missing+=(prometheus)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]} and not root: install them (apt-get install ${missing[*]})"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A bridge of this engine's own, named and addressed from the state directory so two engines on one
# machine do not collide. No iptables, no forwarding, no masquerade: containers on it reach only
# each other and the host's loopback-published ports reach them through docker-proxy.
start_bridge() {
  local h; h=$(printf '%s' "$state" | sha256sum | cut -c1-6)
  local name="odbr$h" third=$(( 16#${h:0:2} % 200 + 20 )) n
  for n in $(seq 0 199); do
    local net="172.31.$(( (third + n) % 200 + 20 ))"
    ip -4 addr show 2>/dev/null | grep -q " $net\." && continue
    ip link add "$name" type bridge 2>/dev/null || ip link show "$name" >/dev/null 2>&1 || die "cannot create bridge $name (needs root and iproute2)"
    ip addr add "$net.1/24" dev "$name" || die "cannot address bridge $name"
    ip link set "$name" up
    echo "$name" >"$state/bridge"
    return 0
  done
  die "no free 172.31.x.0/24 subnet for the engine's bridge"
}

stop_bridge() {
  [ -f "$state/bridge" ] || return 0
  ip link del "$(cat "$state/bridge")" 2>/dev/null || true
  rm -f "$state/bridge"
}

# Docker Engine 28.5.2's dockerd first on PATH, where ../shared/tools/docker has it (it runs on the
# containerd and runc that docker.io brings); else the dockerd already on PATH.
choose_engine() {
  if [ "${DOCKER_ENGINE:-}" != path ] && [ -f "$engine_tools/install.sh" ]; then
    bash "$engine_tools/install.sh" "$cache/docker-engine" >&2 || die "installing Docker Engine from $engine_tools failed"
    # shellcheck disable=SC1091
    . "$cache/docker-engine/env.sh"
  fi
  command -v dockerd >/dev/null || die "no dockerd on PATH"
  local version; version=$(dockerd --version | sed -E 's/^Docker version ([0-9]+)\..*/\1/')
  if [ "$store" = containerd ] && [ "$version" -lt 24 ]; then
    die "$(dockerd --version) has no containerd image store (Docker Engine 24+ does): use ../shared/tools/docker, or the classic store"
  fi
  log "engine: $(command -v dockerd) ($(dockerd --version)), $store image store"
}

# The image store is a daemon feature; an engine older than 24 knows no such feature, and is classic.
write_daemon_json() {
  local version; version=$(dockerd --version | sed -E 's/^Docker version ([0-9]+)\..*/\1/')
  if [ "$version" -ge 24 ]; then
    printf '{"features": {"containerd-snapshotter": %s}}\n' "$([ "$store" = containerd ] && echo true || echo false)" >"$state/daemon.json"
  else
    echo '{}' >"$state/daemon.json"
  fi
}

start_dockerd() { # storage-driver
  local driver=$1
  # The containerd store names containerd's snapshotters instead of graph drivers.
  if [ "$store" = containerd ]; then
    case "$driver" in overlay2) driver=overlayfs ;; vfs) driver=native ;; esac
  fi
  mkdir -p "$state/data" "$state/exec"
  write_daemon_json
  dockerd --config-file "$state/daemon.json" --data-root "$state/data" --exec-root "$state/exec" -H "unix://$state/docker.sock" \
    --pidfile "$state/dockerd.pid" --storage-driver="$driver" --iptables=false --ip6tables=false \
    --bridge="$(cat "$state/bridge")" --ip-forward=false --ip-masq=false \
    --insecure-registry 127.0.0.0/8 >"$state/dockerd.log" 2>&1 &
  local pid=$!
  export DOCKER_HOST="unix://$state/docker.sock"
  local deadline=$(( $(date +%s) + 60 ))
  until docker version >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 5 "$state/dockerd.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

stop_dockerd() {
  [ -f "$state/dockerd.pid" ] || return 0
  local pid; pid=$(cat "$state/dockerd.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  grep -o " $state/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$state/data" "$state/exec" "$state/dockerd.pid"
}

# overlay2 first: it builds the app image in ~10 s where vfs takes 2-7 min. vfs works on any kernel
# and filesystem, so it is the fallback (on the containerd store, containerd's overlayfs and native
# snapshotters stand for them). Each driver is checked by running a container on the bridge before
# it is used, on the store asked for. DOCKER_STORAGE_DRIVER overrides the order (e.g. "vfs").
start_engine() {
  local driver
  start_bridge
  for driver in ${DOCKER_STORAGE_DRIVER:-overlay2 vfs}; do
    if start_dockerd "$driver" && [ "$(engine_store)" = "$store" ] && import_base && docker run --rm "$base_tag" true >/dev/null 2>&1; then
      log "engine up with the $driver storage driver ($(docker info --format '{{.Driver}}')), $store image store"
      echo "$driver" >"$state/storage-driver"
      return 0
    fi
    log "the $driver storage driver does not work here; trying the next"
    stop_dockerd
  done
  die "dockerd could not start and run a container with any storage driver (${DOCKER_STORAGE_DRIVER:-overlay2 vfs}); see $state/dockerd.log"
}

# What the engine says its store is: the containerd store reports driver-type io.containerd.snapshotter.v1.
engine_store() {
  if docker info --format '{{json .DriverStatus}}' | grep -q '"driver-type","io.containerd.snapshotter'; then echo containerd; else echo classic; fi
}

# Registries speak HTTPS, as every real one does (the docker provider reads digests over HTTPS only),
# with a certificate made for this run. Clients trust it through SSL_CERT_FILE (Go: the provider,
# the CLI) and NODE_EXTRA_CA_CERTS (Node: the tests, the dynamic providers); the engine itself
# treats 127.0.0.0/8 as an insecure registry and does not check it.
make_tls() {
  mkdir -p "$state/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=onedigest test registry" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$state/tls/key.pem" -out "$state/tls/cert.pem" >"$state/tls/openssl.log" 2>&1 ||
    { cat "$state/tls/openssl.log" >&2; die "could not make the registries' certificate"; }
  cat /etc/ssl/certs/ca-certificates.crt "$state/tls/cert.pem" >"$state/tls/bundle.pem"
}

start_registry() { # name
  local name=$1 port; port=$(free_port)
  mkdir -p "$state/registry-$name"
  cat >"$state/registry-$name.yml" <<YML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $state/registry-$name }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$port
  tls: { certificate: $state/tls/cert.pem, key: $state/tls/key.pem }
YML
  docker-registry serve "$state/registry-$name.yml" >"$state/registry-$name.log" 2>&1 &
  echo $! >"$state/registry-$name.pid"
  wait_until 20 "registry $name" curl -fsS --cacert "$state/tls/cert.pem" "https://127.0.0.1:$port/v2/" ||
    die "registry $name did not answer on 127.0.0.1:$port (see $state/registry-$name.log)"
  echo "127.0.0.1:$port"
}

# What Debian's -slim images (debian:bookworm-slim, under python:3.12-slim-bookworm) leave out:
# documentation but each package's copyright file, manual and info pages, lintian overrides and
# message translations; a quarter of the stand-in's bytes, which every push to a new registry
# compresses again.
slim() { # root
  local root=$1
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root/usr/share/man/"* "$root/usr/share/groff/"* "$root/usr/share/info/"* \
    "$root/usr/share/lintian/overrides/"* "$root/usr/share/linda/"* "$root/usr/share/locale/"*
}

build_base() {
  local recipe="bookworm minbase python3 python3-venv python3-pip ca-certificates slim v3"
  local key; key=$(echo "$recipe" | sha256sum | cut -c1-16)
  local tarball="$cache/base-$key.tar"
  mkdir -p "$cache"
  if [ ! -s "$tarball" ]; then
    local root="$state/rootfs"
    log "building the stand-in base with debootstrap (cached afterwards in $tarball)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1 ||
      { tail -n 20 "$state/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    slim "$root"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  else
    log "using the cached stand-in base $tarball"
  fi
  echo "$tarball" >"$state/base-tarball"
}

# The app's pinned wheels for the base's Python (bookworm: CPython 3.11, x86_64), downloaded on the
# host (which reaches the package index) and cached by the requirements' hash.
fetch_wheels() {
  local req="$root_dir/app/requirements.txt"
  local key; key=$(sha256sum "$req" | cut -c1-16)
  local dir="$cache/wheels-$key"
  if [ ! -f "$dir/.complete" ]; then
    log "downloading the app's pinned wheels into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    PIP_FIND_LINKS= pip3 download --quiet --require-hashes --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
      -d "$dir" -r "$req" >"$state/wheels.log" 2>&1 ||
      { tail -n 20 "$state/wheels.log" >&2; die "downloading the app's wheels failed (log above)"; }
    touch "$dir/.complete"
  fi
  echo "$dir" >"$state/wheels"
}

# The stand-in base as the engine sees it: the debootstrap root, plus the wheels and an offline
# pip.conf (a build with COPY steps only, so it needs no network).
import_base() {
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' "$(cat "$state/base-tarball")" "$base_tag-raw" >/dev/null || return 1
  local ctx="$state/base-context"
  rm -rf "$ctx" && mkdir -p "$ctx" && cp -r "$(cat "$state/wheels")" "$ctx/wheels" && rm -f "$ctx/wheels/.complete"
  printf '[global]\nno-index = true\nfind-links = /opt/wheels\n' >"$ctx/pip.conf"
  printf 'FROM %s\nCOPY wheels /opt/wheels\nCOPY pip.conf /etc/pip.conf\n' "$base_tag-raw" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$base_tag" "$ctx" >/dev/null
}

# The local target's Prometheus (providers/localMonitoring.ts pins prom/prometheus by digest) cannot
# be pulled here either: a stand-in with Debian's prometheus binary (dynamically linked to libc
# only) on the stand-in base, laid out as the official image is (ENTRYPOINT /bin/prometheus, data in
# /prometheus owned by nobody, USER nobody). Passed to the program as ONEDIGEST_PROMETHEUS_IMAGE.
prometheus_tag=onedigest-prometheus:standin
build_prometheus() {
  local ctx="$state/prometheus-context"
  rm -rf "$ctx" && mkdir -p "$ctx/data"
  cp "$(command -v prometheus)" "$ctx/prometheus"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base_tag
COPY prometheus /bin/prometheus
COPY --chown=65534:65534 data /prometheus
USER 65534:65534
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$prometheus_tag" "$ctx" >/dev/null
}

up() {
  [ "$(uname -s)" = Linux ] || die "needs Linux to run dockerd"
  mkdir -p "$state"
  install_packages; choose_engine; stage install
  build_base; fetch_wheels; stage base
  start_engine; stage dockerd
  build_prometheus || die "building the Prometheus stand-in failed"; stage prometheus
  local ecr gar heroku
  make_tls
  ecr=$(start_registry ecr); gar=$(start_registry gar); heroku=$(start_registry heroku)
  stage registries
  cat >"$state/env" <<ENV
export DOCKER_HOST=unix://$state/docker.sock
export DOCKER_BUILDKIT=0
export ONEDIGEST_BASE_IMAGE=$base_tag
export ONEDIGEST_PROMETHEUS_IMAGE=$prometheus_tag
export ONEDIGEST_REGISTRY_ECR=$ecr
export ONEDIGEST_REGISTRY_GAR=$gar
export ONEDIGEST_REGISTRY_HEROKU=$heroku
export SSL_CERT_FILE=$state/tls/bundle.pem
export NODE_EXTRA_CA_CERTS=$state/tls/cert.pem
export ONEDIGEST_IMAGE_STORE=$store
ENV
  log "ready: $(tr '\n' ' ' <"$state/env")"
}

down() {
  local pidfile
  for pidfile in "$state"/registry-*.pid "$state/dockerd.pid"; do
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # Layers can hold mounts from the engine's exec root; unmount before removing.
  grep -o " $state[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  stop_bridge
  rm -rf "$state"
}

case "$cmd" in
  install) install_packages ;;
  up) up ;;
  down) down ;;
  *) die "unknown command $cmd (use up or down)" ;;
esac
