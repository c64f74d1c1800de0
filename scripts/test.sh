#!/usr/bin/env bash
# The whole test suite: app lint + pytest, TypeScript type-check + mocha (mocked program), and the
# image pipeline on a real Docker engine with loopback registries. Installs what it needs.
#
#   bash scripts/test.sh            everything
#   SKIP_PIPELINE=1 bash scripts/test.sh   without the Docker stage (never in CI)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$(mktemp -d)
passed=0; failed=0; status=0
declare -a timings=()

stage() { # name command...
  local name=$1; shift
  local start; start=$(date +%s)
  printf '\n=== %s ===\n' "$name"
  "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]}
  timings+=("$name: $(( $(date +%s) - start )) s (exit $rc)")
  [ "$rc" -eq 0 ] || status=1
  return "$rc"
}

count_pytest() {
  local line; line=$(grep -E '^[0-9]+ (passed|failed)|[0-9]+ passed|[0-9]+ failed' "$logs/$1.log" | tail -n1)
  passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
  failed=$((failed + $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
}
count_mocha() {
  passed=$((passed + $(grep -oE '^ +[0-9]+ passing' "$logs/$1.log" | grep -oE '[0-9]+' | tail -n1 || echo 0)))
  failed=$((failed + $(grep -oE '^ +[0-9]+ failing' "$logs/$1.log" | grep -oE '[0-9]+' | tail -n1 || echo 0)))
}

install_node() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}
install_python() {
  if [ ! -x .venv/bin/python ] || [ app/requirements-dev.txt -nt .venv/.installed ]; then
    python3 -m venv .venv && .venv/bin/pip install -q --require-hashes -r app/requirements-dev.txt && touch .venv/.installed
  fi
}

can_install_system() { [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = true ]; }
if can_install_system; then
  stage install-system bash scripts/docker-env.sh install || { echo "installing docker.io / docker-registry / debootstrap failed"; exit 1; }
else
  echo "not root: system packages (docker.io, docker-registry, debootstrap) are not installed; tests that need them skip"
fi
stage install-node install_node || { echo "npm ci failed"; exit 1; }
stage install-python install_python || { echo "python venv failed"; exit 1; }

stage ruff bash -c 'cd app && ../.venv/bin/ruff check . && ../.venv/bin/ruff format --check .'
stage pytest bash -c 'cd app && ../.venv/bin/python -m pytest -q -p no:cacheprovider'; count_pytest pytest
stage typecheck npx --no-install tsc --noEmit
stage mocha npx --no-install mocha; count_mocha mocha

pipeline() {
  local state; state=$(mktemp -d /tmp/onedigest-docker.XXXXXX)
  trap 'bash "$root/scripts/docker-env.sh" down "$state"' RETURN
  if ! bash scripts/docker-env.sh up "$state"; then
    echo "the Docker engine or registries could not start (see above)"
    return 1
  fi
  # shellcheck disable=SC1091
  ( . "$state/env" && npx --no-install mocha --config test/pipeline/.mocharc.json )
}
if [ "${SKIP_PIPELINE:-0}" = 1 ] && [ "${CI:-}" != true ]; then
  echo "pipeline stage skipped: SKIP_PIPELINE=1"
elif ! can_install_system; then
  echo "pipeline stage skipped: needs root to start dockerd (run as root, or in CI)"
else
  stage pipeline pipeline; count_mocha pipeline
fi

printf '\n=== timings ===\n'; printf '%s\n' "${timings[@]}"
echo
echo "onedigest: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
