#!/usr/bin/env bash
# Deploys the `local` stack: builds the app image once and runs it on this machine's Docker engine,
# with Pulumi state in a local file backend (no cloud account, no Pulumi Cloud login).
#
#   bash scripts/deploy-local.sh            pulumi up on the local stack, then the post-deploy check
#   bash scripts/deploy-local.sh preview    pulumi preview (extra arguments go to pulumi)
#   bash scripts/deploy-local.sh verify     the post-deploy check alone (scripts/verify.sh; its arguments)
#   bash scripts/deploy-local.sh destroy    removes the container (and keeps the state directory)
#
# Nothing tracked by git is written. State and, unless you bring your own, a random passphrase live
# in .pulumi-state/, the stack's config (its encryption salt) in Pulumi.local.yaml: both ignored by
# git. The app's SECRET_KEY is a random key this script sets once as the stack's secret
# `onedigest:secretKey`, encrypted with that passphrase: what protects it is this machine's file
# permissions.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command=${1:-up}
[ $# -gt 0 ] && shift
case "$command" in up | preview | verify | destroy) ;; *) echo "usage: deploy-local.sh [up|preview|verify|destroy] [args…]" >&2; exit 2 ;; esac

# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh

missing=0
ensure_node || missing=1
ensure_pulumi || missing=1
if ! command -v docker >/dev/null 2>&1; then
  echo "onedigest: Docker is not installed." >&2
  echo "  Install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/" >&2
  missing=1
elif ! docker info >/dev/null 2>&1; then
  echo "onedigest: Docker is installed but its engine is not reachable (docker info failed)." >&2
  echo "  Start it (e.g. sudo systemctl start docker, or open Docker Desktop) and check DOCKER_HOST." >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 1
ensure_docker_plugin

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

state=$root/.pulumi-state
mkdir -p "$state"
chmod 700 "$state"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state}
export PULUMI_SKIP_UPDATE_CHECK=true
# The local stack needs only the Docker plugin (ensured above); without this the CLI tries to fetch the
# aws and gcp plugins the project's packages name on every run, seconds each time where it cannot.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ ! -s "$state/passphrase" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$state/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$state/passphrase
fi

# The local stack is the project's defaults: its config file, Pulumi.local.yaml, is this machine's
# own (ignored by git), as Pulumi writes it — the encryption salt of the stack's secrets among
# them. So this script and a plain `pulumi … --stack local` share one file and leave the checkout
# clean either way.
if [ ! -s Pulumi.local.yaml ] && [ -s "$state/Pulumi.local.yaml" ]; then
  # Where an earlier version of this script kept the file.
  cp "$state/Pulumi.local.yaml" Pulumi.local.yaml
fi
if [ ! -f "$state/.pulumi/stacks/onedigest/local.json" ] || [ ! -s Pulumi.local.yaml ]; then
  pulumi stack select local --create --non-interactive >/dev/null
fi
flags=(--stack local --non-interactive)

# The app's SECRET_KEY, once: a random key set as the stack's secret `onedigest:secretKey` (encrypted
# with the passphrase above into Pulumi.local.yaml, ignored by git), so no `up` or `destroy` starts
# the program's generator of a key (a dynamic provider, a process of its own). A stack whose state
# already holds a generated key keeps that value: it moves into the config, and the container's
# SECRET_KEY, and with it every session, stays as it was. The key travels on pipes only, never argv.
if ! grep -qE '^ +onedigest:secretKey:' Pulumi.local.yaml 2>/dev/null; then
  { pulumi stack export --stack local --show-secrets 2>/dev/null || true; } | python3 -c '
import json, secrets, sys
try:
    resources = json.load(sys.stdin).get("deployment", {}).get("resources") or []
except ValueError:
    resources = []
for r in resources:
    if r.get("type") == "pulumi-nodejs:dynamic/onedigest:GeneratedSecret":
        v = (r.get("outputs") or {}).get("value")
        if isinstance(v, dict):  # a secret as `stack export --show-secrets` writes it
            v = json.loads(v.get("plaintext", "null"))
        if isinstance(v, str) and v:
            sys.stdout.write(v)
            sys.exit(0)
sys.stdout.write(secrets.token_hex(32))
' | pulumi config set --secret onedigest:secretKey "${flags[@]}"
fi

case "$command" in
  destroy) exec pulumi destroy "${flags[@]}" --yes "$@" ;;
  preview) exec pulumi preview "${flags[@]}" "$@" ;;
  verify) exec bash scripts/verify.sh local "$@" ;;
esac

# No separate preview first: the program checks its config before any resource either way, and the
# update shows each step as it runs (`deploy-local.sh preview` shows one without changing anything).
pulumi up "${flags[@]}" --yes --skip-preview "$@"

outputs=$(pulumi stack output --json --stack local)
echo
node -e 'const o = JSON.parse(process.argv[1]); console.log(`onedigest: deployed ${o.imageId} at ${o.url}`)' "$outputs"
# The container answers /healthcheck with this checkout's commit and the image ID just deployed.
printf '%s' "$outputs" | bash scripts/verify.sh local --outputs - --timeout 60
