#!/usr/bin/env bash
# Post-deploy check of a stack: every deployment it exports answers GET /healthcheck with 200 and
# reports the stack's image ID, and this checkout's commit and version (scripts/verify.ts).
#
#   bash scripts/verify.sh STACK [--outputs -] [--commit SHA | --any-commit] [--version V | --any-version] [--timeout SECONDS]
#                                [--load [--load-requests N] [--load-concurrency N] [--load-seconds S]]
#
# --load then sends every target that passed a short, bounded burst of GET /healthcheck (default 200
# requests, 10 at a time, at most 20 s) and prints req/s, the 5xx share and p99 next to the stack's
# alert thresholds (docs/monitoring.md).
# --outputs - reads the stack's `pulumi stack output --json` from stdin instead of asking Pulumi.
# Uses the Pulumi backend you are logged in to (or PULUMI_BACKEND_URL). A rollback runs an older
# commit: check it with --any-commit --any-version (the image ID is always checked).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] && [ "${1#-}" = "$1" ] || { echo "usage: verify.sh STACK [--commit SHA | --any-commit] [--version V | --any-version] [--timeout SECONDS] [--load [--load-requests N] [--load-concurrency N] [--load-seconds S]]" >&2; exit 2; }
stack=$1
shift
if [ "${1:-}" = --outputs ] && [ "${2:-}" = - ]; then
  shift 2
  outputs=$(cat)
else
  outputs=$(pulumi stack output --json --stack "$stack")
fi
# Loaded through require (the program's own hook, scripts/register.js), not as an entry file: newer
# Node versions would strip the types themselves and bypass it.
printf '%s' "$outputs" | node --require ./scripts/register.js \
  --eval 'require("./scripts/verify").main(process.argv.slice(1)).catch((e) => { console.error(e); process.exit(1); })' -- "$@"
