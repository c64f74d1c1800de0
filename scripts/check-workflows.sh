#!/usr/bin/env bash
# The workflows under .github/ checked by three independent tools, each installed pinned:
#   actionlint (Go module github.com/rhysd/actionlint)   syntax, expressions, job graph, action inputs
#   zizmor (PyPI, hash-pinned in app/requirements-ci.txt)  security: injection, permissions, pinning, credentials
#   check-jsonschema --builtin-schema vendor.github-workflows   GitHub's published workflow schema
#                    (and vendor.dependabot for .github/dependabot.yml)
# Ends with "checkers: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
passed=0; failed=0

check() { # name command...
  local name=$1; shift
  if "$@"; then echo "ok    $name"; passed=$((passed + 1)); else echo "FAIL  $name"; failed=$((failed + 1)); fi
}

actionlint_bin=$(ensure_actionlint) || exit 1
if [ ! -x .venv-ci/bin/zizmor ] || [ app/requirements-ci.txt -nt .venv-ci/.installed ]; then
  { python3 -m venv .venv-ci && .venv-ci/bin/pip install -q --require-hashes -r app/requirements-ci.txt && touch .venv-ci/.installed; } ||
    { echo "installing zizmor and check-jsonschema failed"; exit 1; }
fi

workflows=(.github/workflows/*.yml)
check "actionlint $ACTIONLINT_VERSION" "$actionlint_bin" -no-color "${workflows[@]}"
# Offline: the online audits ask GitHub about the pinned commits, which these machines cannot reach.
check "zizmor $(.venv-ci/bin/zizmor --version | awk '{print $2}')" .venv-ci/bin/zizmor --offline --no-progress --min-severity low .github/
check "check-jsonschema (vendor.github-workflows)" .venv-ci/bin/check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
check "check-jsonschema (vendor.dependabot)" .venv-ci/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
# And they do refuse what they exist to catch: a fixture with a title injected into a script, an
# unpinned action and pull_request_target checking out the pull request's code.
fixture=test/fixtures/workflows/unsafe.yml
check "zizmor refuses $fixture" bash -c "! .venv-ci/bin/zizmor --offline --no-progress $fixture >/dev/null 2>&1"
check "actionlint refuses $fixture" bash -c "! '$actionlint_bin' -no-color $fixture >/dev/null 2>&1"
echo "checkers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
