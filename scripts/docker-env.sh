#!/usr/bin/env bash
# A throwaway Docker engine and three loopback registries for the image-pipeline tests.
#
#   scripts/docker-env.sh up   STATE_DIR   start dockerd + registries, build the base; writes STATE_DIR/env
#   scripts/docker-env.sh down STATE_DIR   stop everything started by `up`
#   scripts/docker-env.sh install          only install the Debian packages (docker.io, docker-registry, debootstrap)
#
# The registries stand in for ECR, Artifact Registry and registry.heroku.com. Nothing can be pulled
# on the test machines, so the Dockerfile's base (python:3.12-slim-bookworm) is replaced by a
# stand-in built with debootstrap and passed through the BASE_IMAGE build argument; the Dockerfile
# itself is not changed. The stand-in is cached in ONEDIGEST_CACHE (default ~/.cache/onedigest).
set -euo pipefail

cmd=${1:?usage: docker-env.sh up|down STATE_DIR, or install}
state=${2:-}
[ "$cmd" = install ] || [ -n "$state" ] || { echo "usage: docker-env.sh up|down STATE_DIR" >&2; exit 2; }
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}
base_tag=onedigest-base:bookworm-standin
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
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]} and not root: install them (apt-get install ${missing[*]})"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_dockerd() { # storage-driver
  local driver=$1
  mkdir -p "$state/data" "$state/exec"
  # No iptables/bridge: containers use the host network, so nothing outside loopback is touched.
  dockerd --data-root "$state/data" --exec-root "$state/exec" -H "unix://$state/docker.sock" \
    --pidfile "$state/dockerd.pid" --storage-driver="$driver" --iptables=false --ip6tables=false \
    --bridge=none --insecure-registry 127.0.0.0/8 >"$state/dockerd.log" 2>&1 &
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

# vfs by default: it works on any kernel and filesystem. DOCKER_STORAGE_DRIVER lists drivers to try
# in order, e.g. "overlay2 vfs": overlay2 builds the app image in ~10 s where vfs takes 2-3 min,
# and each one is checked by running a container before it is used.
start_engine() {
  local driver
  for driver in ${DOCKER_STORAGE_DRIVER:-vfs}; do
    if start_dockerd "$driver" && import_base && docker run --rm --network host "$base_tag" true >/dev/null 2>&1; then
      log "engine up with the $driver storage driver"
      echo "$driver" >"$state/storage-driver"
      return 0
    fi
    log "the $driver storage driver does not work here; trying the next"
    stop_dockerd
  done
  die "dockerd could not start and run a container with any storage driver (${DOCKER_STORAGE_DRIVER:-vfs}); see $state/dockerd.log"
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
YML
  docker-registry serve "$state/registry-$name.yml" >"$state/registry-$name.log" 2>&1 &
  echo $! >"$state/registry-$name.pid"
  wait_until 20 "registry $name" curl -fsS "http://127.0.0.1:$port/v2/" ||
    die "registry $name did not answer on 127.0.0.1:$port (see $state/registry-$name.log)"
  echo "127.0.0.1:$port"
}

pip_conf() { # the host's pip settings, so pip inside the build reaches the same index
  echo "[global]"
  echo "cert = /etc/ssl/certs/ca-certificates.crt"
  local key
  for key in index-url extra-index-url trusted-host timeout default-timeout; do
    local value; value=$(pip3 config get "global.$key" 2>/dev/null || true)
    local envname="PIP_$(echo "$key" | tr 'a-z-' 'A-Z_')"
    [ -n "${!envname:-}" ] && value=${!envname}
    [ -n "$value" ] && [ "$key" != "cert" ] && echo "$key = $value"
  done
}

build_base() {
  local recipe="bookworm minbase python3 python3-venv python3-pip ca-certificates v1"
  local key; key=$( (echo "$recipe"; pip_conf; sha256sum /etc/ssl/certs/ca-certificates.crt) | sha256sum | cut -c1-16)
  local tarball="$cache/base-$key.tar"
  mkdir -p "$cache"
  if [ ! -s "$tarball" ]; then
    local root="$state/rootfs"
    log "building the stand-in base with debootstrap (cached afterwards in $tarball)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1 ||
      { tail -n 20 "$state/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    pip_conf >"$root/etc/pip.conf"
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  else
    log "using the cached stand-in base $tarball"
  fi
  echo "$tarball" >"$state/base-tarball"
}

import_base() {
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' "$(cat "$state/base-tarball")" "$base_tag" >/dev/null
}

up() {
  [ "$(uname -s)" = Linux ] || die "needs Linux to run dockerd"
  mkdir -p "$state"
  install_packages; stage install
  build_base; stage base
  start_engine; stage dockerd
  local ecr gar heroku
  ecr=$(start_registry ecr); gar=$(start_registry gar); heroku=$(start_registry heroku)
  stage registries
  cat >"$state/env" <<ENV
export DOCKER_HOST=unix://$state/docker.sock
export DOCKER_BUILDKIT=0
export ONEDIGEST_BASE_IMAGE=$base_tag
export ONEDIGEST_REGISTRY_ECR=$ecr
export ONEDIGEST_REGISTRY_GAR=$gar
export ONEDIGEST_REGISTRY_HEROKU=$heroku
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
  # vfs layers can hold mounts from the engine's exec root; unmount before removing.
  grep -o " $state[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$state"
}

case "$cmd" in
  install) install_packages ;;
  up) up ;;
  down) down ;;
  *) die "unknown command $cmd (use up or down)" ;;
esac
