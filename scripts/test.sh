#!/usr/bin/env bash
# The whole test suite: app lint + pytest + mutation testing (mutmut, gated), TypeScript type-check
# + mocha (mocked program) + mutation testing of the program (StrykerJS, incremental, gated), the
# delivery workflows' checkers (actionlint, zizmor, GitHub's workflow schema), static analysis
# (bandit, semgrep, hadolint, checkov: scripts/sast.sh), the pre-commit hooks, the image pipeline
# on a real Docker engine with loopback registries, and the program itself through the real Pulumi
# CLI and engine on that Docker engine. Installs what it needs.
#
#   bash scripts/test.sh            everything
#   SKIP_PIPELINE=1 bash scripts/test.sh   without the two Docker stages (pipeline, real-engine; never in CI)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}
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

count_checkers() { # stage [prefix of its summary line]
  local line; line=$(grep -E "^${2:-checkers}: [0-9]+ passed, [0-9]+ failed" "$logs/$1.log" | tail -n1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')))
  failed=$((failed + $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')))
}

# Node.js 22+, the Pulumi CLI and the Docker provider plugin, set up as deploy-local.sh sets them up.
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh

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
ensure_node || { echo "no Node.js 22+ (see above)"; exit 1; }
echo "node $(node --version) at $(command -v node), npm $(npm --version)"
stage install-node install_node || { echo "npm ci failed"; exit 1; }
stage install-python install_python || { echo "python venv failed"; exit 1; }
# cosign, syft and crane (image.signedBy's check, the signing of what the build stack pushes): from
# ../shared/tools/supply-chain (built from the Go module proxy) where the machine has it, else built
# with `go install` at the same versions into the cache (CI), once.
supply_chain=$root/../shared/tools/supply-chain
go_tools() {
  local bin=$cache/supply-chain/bin
  mkdir -p "$bin"
  [ -x "$bin/cosign" ] || GOBIN=$bin GOFLAGS=-mod=mod go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.1 || return 1
  [ -x "$bin/syft" ] || GOBIN=$bin GOFLAGS=-mod=mod go install github.com/anchore/syft/cmd/syft@v1.57.2 || return 1
  [ -x "$bin/crane" ] || GOBIN=$bin GOFLAGS=-mod=mod go install github.com/google/go-containerregistry/cmd/crane@v0.22.1 || return 1
  printf 'export PATH="%s:$PATH"\nexport SYFT_CHECK_FOR_APP_UPDATE=false\n' "$bin" >"$cache/supply-chain/env.sh"
}
if [ -f "$supply_chain/install.sh" ]; then
  stage supply-chain bash "$supply_chain/install.sh" "$cache/supply-chain" || { echo "installing cosign, syft and crane failed"; exit 1; }
else
  stage supply-chain go_tools || { echo "go install of cosign, syft and crane failed"; exit 1; }
fi
# shellcheck disable=SC1091
. "$cache/supply-chain/env.sh"
echo "cosign at $(command -v cosign)"

# The Docker engine and registries start in the background while the fast stages run; the two
# stages that need them wait for it.
docker_stages=1
if [ "${SKIP_PIPELINE:-0}" = 1 ] && [ "${CI:-}" != true ]; then
  docker_stages=0; echo "pipeline and real-engine stages skipped: SKIP_PIPELINE=1"
elif ! can_install_system; then
  docker_stages=0; echo "pipeline and real-engine stages skipped: they need root to start dockerd (run as root, or in CI)"
fi
# Two engines, Docker Engine 28.5.2 where ../shared/tools/docker has it: one on the classic image
# store, one on the containerd store (the default of fresh Docker Engine 29 and Docker Desktop
# installs). The second starts after the first, which installs the engine and the base they share.
docker_state=""; containerd_state=""
if [ "$docker_stages" = 1 ]; then
  docker_state=$(mktemp -d /tmp/onedigest-docker.XXXXXX)
  containerd_state=$(mktemp -d /tmp/onedigest-docker-containerd.XXXXXX)
  trap 'bash "$root/scripts/docker-env.sh" down "$docker_state"; bash "$root/scripts/docker-env.sh" down "$containerd_state"' EXIT
  (
    ( bash scripts/docker-env.sh up "$docker_state" classic; echo $? >"$logs/docker-env.rc" ) >"$logs/docker-env.log" 2>&1
    ( bash scripts/docker-env.sh up "$containerd_state" containerd; echo $? >"$logs/docker-env-containerd.rc" ) >"$logs/docker-env-containerd.log" 2>&1
  ) &
fi

# The Docker provider plugin (onedigest's own, scripts/docker-plugin.sh) builds in the background too:
# minutes on a new machine, a few seconds once cached. The suite uses a PULUMI_HOME of its own.
if [ "$docker_stages" = 1 ]; then
  ensure_pulumi || { echo "no Pulumi CLI (see above)"; exit 1; }
  echo "pulumi $(pulumi version) at $(command -v pulumi)"
  export PULUMI_HOME="$cache/pulumi-home"
  mkdir -p "$PULUMI_HOME"
  ( bash scripts/docker-plugin.sh "$PULUMI_HOME"; echo $? >"$logs/docker-plugin.rc" ) >"$logs/docker-plugin.log" 2>&1 &
fi
# The checkers' venvs (checks/requirements-*.txt: a minute or more each on a new machine, nothing
# once cached) install in the background too; the stages that use them wait for it, so no two
# installs of one venv ever run at once.
( ( for tool in sast checkov dast; do ensure_tool_venv "$tool" "checks/requirements-$tool.txt" >/dev/null || exit 1; done
  ) >"$logs/tool-venvs.log" 2>&1; echo $? >"$logs/tool-venvs.rc" ) &
tools_ready() {
  until [ -s "$logs/tool-venvs.rc" ]; do sleep 0.5; done
  cat "$logs/tool-venvs.log"
  [ "$(cat "$logs/tool-venvs.rc")" -eq 0 ] || { echo "the checkers' venvs could not be installed (see above)"; return 1; }
}
plugin_ready() {
  until [ -s "$logs/docker-plugin.rc" ]; do sleep 0.5; done
  cat "$logs/docker-plugin.log"
  [ "$(cat "$logs/docker-plugin.rc")" -eq 0 ] || { echo "the Docker provider plugin could not be built (see above)"; return 1; }
}

stage ruff bash -c 'cd app && ../.venv/bin/ruff check . && ../.venv/bin/ruff format --check .'
stage pytest bash -c 'cd app && ../.venv/bin/python -m pytest -q -p no:cacheprovider'; count_pytest pytest
stage mutation bash scripts/mutation.sh; count_checkers mutation mutation
stage typecheck npx --no-install tsc --noEmit
# Two test files at a time, one per core: 40–43 s instead of 57 s on the 2-core VM (2026-12-03).
stage mocha npx --no-install mocha --parallel --jobs 2; count_mocha mocha
# The policy pack (policy/): its own dependencies (npm ci, again only when its lock file changed), its
# type-check and the unit tests of each policy's decision. A failure before mocha's summary counts once.
policy_pack() {
  ( cd policy || exit 1
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund || { echo "npm ci in policy/ failed"; exit 1; }
    fi
    npx --no-install tsc --noEmit -p . && npx --no-install mocha )
}
stage policy policy_pack || grep -qE '^ +[0-9]+ failing' "$logs/policy.log" || failed=$((failed + 1)); count_mocha policy
stage mutation-program bash scripts/mutation-program.sh --check; count_checkers mutation-program mutation-program
stage workflows bash scripts/check-workflows.sh; count_checkers workflows
sast() { tools_ready && bash scripts/sast.sh; }
stage sast sast; count_checkers sast sast
# .pre-commit-config.yaml's local hooks on every file, with the pre-commit of checks/requirements-sast.txt.
pre_commit() {
  tools_ready >/dev/null || return 1
  local venv; venv=$(ensure_tool_venv sast checks/requirements-sast.txt) || return 1
  PRE_COMMIT_HOME="$cache/pre-commit" "$venv/bin/pre-commit" run --all-files --show-diff-on-failure
}
if stage pre-commit pre_commit; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

engine_ready() { # [name] waits for a background `docker-env.sh up` (stages run in subshells: no `wait`)
  local name=${1:-docker-env}
  until [ -s "$logs/$name.rc" ]; do sleep 0.5; done
  local rc; rc=$(cat "$logs/$name.rc")
  cat "$logs/$name.log"
  [ "$rc" -eq 0 ] || echo "the Docker engine or registries could not start (see above)"
  return "$rc"
}

pipeline() { # state
  # shellcheck disable=SC1091
  ( . "$1/env" && npx --no-install mocha --config test/pipeline/.mocharc.json )
}
real_engine() {
  plugin_ready || return 1
  tools_ready >/dev/null || return 1
  # shellcheck disable=SC1091
  ( . "$docker_state/env" && npx --no-install mocha --config test/engine/.mocharc.json )
}
# On the containerd store: what depends on the store — the README's deploy command, the Heroku path
# with promotion and a pinned rollback, and the Docker provider plugin — with real-engine's options;
# the DAST probe of the deployed container runs once, in real-engine.
real_engine_containerd() {
  plugin_ready || return 1
  # shellcheck disable=SC1091
  ( . "$containerd_state/env" && ONEDIGEST_DAST=0 npx --no-install mocha --no-config -r ts-node/register/transpile-only -r ./test/engine/timing.ts --node-option no-experimental-strip-types \
      --extension ts --timeout 600000 --exit --parallel --jobs 3 test/engine/deployLocal.test.ts test/engine/stacks.test.ts test/engine/plugin.test.ts )
}
if [ "$docker_stages" = 1 ]; then
  if stage docker-env engine_ready docker-env; then
    stage pipeline pipeline "$docker_state"; count_mocha pipeline
    stage real-engine real_engine; count_mocha real-engine
  else
    failed=$((failed + 1)); echo "pipeline and real-engine stages not run: the engine did not start"
  fi
  if stage docker-env-containerd engine_ready docker-env-containerd; then
    stage pipeline-containerd pipeline "$containerd_state"; count_mocha pipeline-containerd
    stage real-engine-containerd real_engine_containerd; count_mocha real-engine-containerd
  else
    failed=$((failed + 1)); echo "pipeline and real-engine stages on the containerd store not run: its engine did not start"
  fi
elif [ "${CI:-}" = true ]; then
  failed=$((failed + 1))
fi

printf '\n=== timings ===\n'; printf '%s\n' "${timings[@]}"
echo
echo "onedigest: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
