#!/usr/bin/env bash
# Deploys the `local` stack: builds the app image once and runs it on this machine's Docker engine,
# with Pulumi state in a local file backend (no cloud account, no Pulumi Cloud login).
#
#   bash scripts/deploy-local.sh            pulumi up on the local stack, then checks /healthcheck
#   bash scripts/deploy-local.sh destroy    removes the container (and keeps the state directory)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=0
if ! command -v pulumi >/dev/null 2>&1; then
  echo "onedigest: the Pulumi CLI is not installed." >&2
  echo "  Install it: curl -fsSL https://get.pulumi.com | sh   (or see https://www.pulumi.com/docs/install/)" >&2
  missing=1
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "onedigest: Docker is not installed." >&2
  echo "  Install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/" >&2
  missing=1
elif ! docker info >/dev/null 2>&1; then
  echo "onedigest: Docker is installed but its engine is not reachable (docker info failed)." >&2
  echo "  Start it (e.g. sudo systemctl start docker, or open Docker Desktop) and check DOCKER_HOST." >&2
  missing=1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "onedigest: Node.js 20+ with npm is required: https://nodejs.org/" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# State stays on this machine; the local stack's only secret is a generated SECRET_KEY.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p .pulumi-state

pulumi stack select --create local --non-interactive >/dev/null
if [ "${1:-up}" = destroy ]; then
  exec pulumi destroy --stack local --yes --non-interactive
fi
if ! pulumi config get secretKey --stack local >/dev/null 2>&1; then
  # A fresh random key, stored encrypted in Pulumi.local.yaml; never printed.
  python3 -c 'import secrets; print(secrets.token_hex(32))' | pulumi config set --secret secretKey --stack local >/dev/null
fi

pulumi up --stack local --yes --non-interactive

url=$(pulumi stack output url --stack local)
echo
echo "onedigest: deployed $(pulumi stack output imageId --stack local) at $url"
curl -fsS "$url/healthcheck" && echo
