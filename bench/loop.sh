#!/usr/bin/env bash
# Edit → serving: from an edit under app/ (committed, so /healthcheck's lastcommitsha names it) to the
# new container answering /healthcheck with the new commit, through `bash scripts/deploy-local.sh`
# against `docker-compose up --build -d` of a compose file written here with the same Dockerfile, base
# and build args, on one engine, interleaved rounds, median of RUNS after one warm-up deploy each.
#
#   bash bench/loop.sh                        (as root: starts its own dockerd, like bench/engine.sh)
#   RUNS=5 bash bench/loop.sh
#   PATCH=/path/to/change.diff bash bench/loop.sh   a third side: deploy-local.sh on a second copy with
#                                                   the patch applied (git apply), to measure a change
#
# Both sides build from one scratch copy of the checkout (git's files, their times kept so
# deploy-local.sh does not reinstall node_modules, which is a link to this checkout's), so each round's
# edit is a new commit there. For deploy-local.sh two times are printed: when the new container first
# answers with the new commit (a poller beside the script, every 0.1 s) and when the script ends (its
# post-deploy check included). Compose: Debian's docker-compose 1.29 (the v2 plugin is not packaged
# for bookworm), installed with apt-get when missing; it builds through the docker CLI with BuildKit,
# as the Docker provider does (see below for a CLI without buildx). Its time is when the new container
# first answers with the new commit. `--renew-anon-volumes` gives the new container a new /tmp, as a
# replaced container gets on the local target (and compose 1.29 cannot recreate a container whose
# BuildKit-built image declares a VOLUME without it: KeyError 'ContainerConfig').
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-3}
patch=${PATCH:-}
[ -z "$patch" ] || patch=$(cd "$(dirname "$patch")" && pwd)/$(basename "$patch")

# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
ensure_node
ensure_pulumi
ensure_docker_plugin
[ -d node_modules ] || { echo "loop.sh: node_modules is missing (npm ci first)" >&2; exit 1; }
if ! command -v docker-compose >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "loop.sh: docker-compose is missing and this is not root (apt-get install docker-compose)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

work=$(mktemp -d /tmp/onedigest-bench-loop.XXXXXX)
state=$work/docker
sides=(ours compose)
[ -z "$patch" ] || sides+=(patched)
cleanup() {
  set +e
  for s in ours patched; do
    [ -d "$work/$s" ] && (cd "$work/$s" && PULUMI_BACKEND_URL="file://$work/backend-$s" bash scripts/deploy-local.sh destroy >/dev/null 2>&1)
  done
  [ -f "$work/compose/docker-compose.yml" ] && docker-compose -f "$work/compose/docker-compose.yml" -p benchloop down >/dev/null 2>&1
  bash "$root/scripts/docker-env.sh" down "$state" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/docker-env.sh up "$state" >"$work/docker-env.log" 2>&1 || { cat "$work/docker-env.log"; exit 1; }
# shellcheck disable=SC1091
. "$state/env"
# Each copy's local stack in a backend of its own (both are the stack `local` of project onedigest).
export PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p "$work/backend-ours" "$work/backend-patched"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A copy of the checkout as git sees it (tracked and untracked-not-ignored files), times kept.
checkout() { # dir
  local dir=$1
  mkdir -p "$dir"
  (cd "$root" && git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue
    mkdir -p "$dir/$(dirname "$f")" && cp -p "$f" "$dir/$f"
  done)
  ln -s "$root/node_modules" "$dir/node_modules"
  git -C "$dir" init -q && git -C "$dir" add -A && git -C "$dir" -c user.name=bench -c user.email=bench@localhost commit -qm checkout
}
checkout "$work/ours"
if [ -n "$patch" ]; then
  checkout "$work/patched"
  git -C "$work/patched" apply "$patch"
  git -C "$work/patched" -c user.name=bench -c user.email=bench@localhost commit -qam "$(basename "$patch")"
fi

declare -A port
for s in "${sides[@]}"; do port[$s]=$(free_port); done
# The local stack on a port of its own, created beforehand in the same backend deploy-local.sh uses.
for s in ours patched; do
  [ -d "$work/$s" ] || continue
  (cd "$work/$s" && export PULUMI_BACKEND_URL="file://$work/backend-$s" && pulumi stack init local --non-interactive >/dev/null &&
    pulumi config set --path onedigest:local.port "${port[$s]}" --stack local >/dev/null &&
    # One engine: the patched side's container and image need names of their own.
    if [ "$s" = patched ]; then pulumi config set --path onedigest:app.name onedigest-patched --stack local >/dev/null; fi)
done

# docker-compose 1.29 builds through the `docker` CLI on PATH. A CLI of Docker 23+ builds with BuildKit
# only through the buildx plugin; where it lacks that plugin, Debian's docker.io CLI (20.10, BuildKit
# built in) is put first for compose, and failing both compose builds with the classic builder.
mkdir -p "$work/cli"
compose_builder=buildkit
if ! docker buildx version >/dev/null 2>&1 && [ "$(docker version --format '{{.Client.Version}}' | cut -d. -f1)" -ge 23 ]; then
  if [ -x /usr/bin/docker ] && [ "$(/usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" -lt 23 ]; then
    ln -s /usr/bin/docker "$work/cli/docker"
  else
    compose_builder=classic
  fi
fi

# Compose: the same Dockerfile, base and build args as image.ts's buildArgs, and the local target's
# runtime settings that bear on start-up (memory, read-only root, no capabilities).
version=$(node -p 'require("./package.json").version')
mkdir -p "$work/compose"
cat >"$work/compose/docker-compose.yml" <<YAML
version: "2.4"
services:
  app:
    build:
      context: $work/ours/app
      args:
        BASE_IMAGE: $ONEDIGEST_BASE_IMAGE
        APP_VERSION: "$version"
        APP_DESCRIPTION: onedigest Flask app
        LAST_COMMIT_SHA: \${LAST_COMMIT_SHA}
    image: benchloop-compose:latest
    environment:
      SECRET_KEY: bench
      PROXY_FIX_COUNT: "0"
    ports: ["127.0.0.1:${port[compose]}:8080"]
    mem_limit: 512m
    memswap_limit: 512m
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
YAML

cat >"$work/poll.py" <<'PY'
# poll.py PORT SHA T0: prints the seconds from T0 to the first /healthcheck naming SHA (0.1 s apart).
import json, sys, time, urllib.request
port, sha, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.time() + 600
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=2) as r:
            if json.load(r)["myapplication"][0]["lastcommitsha"] == sha:
                print(f"{time.time() - t0:.2f}")
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY

# One edit under app/, committed in the side's copy; prints the new commit.
edit() { # dir label
  echo "# bench/loop.sh edit: $2" >>"$1/app/onedigest_app/__init__.py"
  git -C "$1" -c user.name=bench -c user.email=bench@localhost commit -qam "edit $2"
  git -C "$1" rev-parse HEAD
}

deploy_local() { # side label -> "serving script" seconds
  local dir=$work/$1 sha t0 t1 poller
  sha=$(edit "$dir" "$2")
  t0=$(date +%s.%N)
  python3 "$work/poll.py" "${port[$1]}" "$sha" "$t0" >"$work/serving" &
  poller=$!
  (cd "$dir" && PULUMI_BACKEND_URL="file://$work/backend-$1" bash scripts/deploy-local.sh >"$work/last.log" 2>&1) || { tail -n 40 "$work/last.log" >&2; kill "$poller"; exit 1; }
  t1=$(date +%s.%N)
  wait "$poller" || { echo "loop.sh: $1 never answered with $sha" >&2; exit 1; }
  echo "$(cat "$work/serving") $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1")"
}

compose_up() { # label -> seconds
  local sha t0
  sha=$(edit "$work/ours" "$1")
  t0=$(date +%s.%N)
  local buildkit=1
  [ "$compose_builder" = buildkit ] || buildkit=0
  PATH="$work/cli:$PATH" LAST_COMMIT_SHA=$sha COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=$buildkit \
    docker-compose -f "$work/compose/docker-compose.yml" -p benchloop up --build -d --renew-anon-volumes >"$work/last.log" 2>&1 || { tail -n 40 "$work/last.log" >&2; exit 1; }
  python3 "$work/poll.py" "${port[compose]}" "$sha" "$t0" || { echo "loop.sh: compose never answered with $sha" >&2; exit 1; }
}

# Warm-up: a first deploy on each side (and the builder's cache of the shared layers).
for s in "${sides[@]}"; do
  if [ "$s" = compose ]; then compose_up warm-up >/dev/null; else deploy_local "$s" warm-up >/dev/null; fi
done
echo "warm-up done ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2

declare -A times
for round in $(seq "$runs"); do
  for s in "${sides[@]}"; do
    if [ "$s" = compose ]; then
      times[compose]+="$(compose_up "round $round") "
    else
      r=$(deploy_local "$s" "round $round")
      times[$s-serving]+="${r% *} "
      times[$s-script]+="${r#* } "
    fi
  done
  echo "round $round done ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=$(median "${times[compose]}")
printf '\n%-36s %9s %10s  %s\n' "edit → new commit on /healthcheck" "median s" "/ compose" rounds
printf '%-36s %9s %9.2fx  %s\n' "docker-compose up --build -d" "$base" 1 "${times[compose]}"
for s in ours patched; do
  [ -n "${times[$s-script]:-}" ] || continue
  label="deploy-local.sh"; [ "$s" = ours ] || label="deploy-local.sh + $(basename "$patch")"
  for k in serving script; do
    m=$(median "${times[$s-$k]}")
    printf '%-36s %9s %9.2fx  %s\n' "$label ($k)" "$m" "$(python3 -c "print($m / $base)")" "${times[$s-$k]}"
  done
done
echo "(median of $runs rounds; $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /') building with $compose_builder through docker CLI $(PATH="$work/cli:$PATH" docker version --format '{{.Client.Version}}'), pulumi $(pulumi version), node $(node --version), $(docker version --format 'engine {{.Server.Version}}'), $(cat "$state/storage-driver"), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
