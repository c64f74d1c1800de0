#!/usr/bin/env bash
# Static analysis of the app, the program and what ships them, each tool hash-pinned in checks/ and
# installed into a cached venv (scripts/toolchain.sh: ensure_tool_venv), run offline:
#   bandit    the app (app/onedigest_app, wsgi.py, gunicorn.conf.py) and the Python scripts
#   semgrep   onedigest's own rules (checks/semgrep/, each tested by the file beside it) on the app,
#             the scripts and the Pulumi program (TypeScript); --metrics=off, no registry rules
#   hadolint  app/Dockerfile
#   checkov   app/Dockerfile (dockerfile), .github/workflows (github_actions), and every file of the
#             repository, the program's included (secrets: its only checks that read TypeScript)
# Gate (scripts/sast_gate.py): zero findings, or each one listed with its reason in
# checks/accepted-findings.txt; a listed one no longer found fails too. Each tool also has to refuse
# a fixture made to fail it (test/fixtures/sast/). Ends with "sast: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
passed=0; failed=0
check() { # name command...
  local name=$1; shift
  if "$@"; then echo "ok    $name"; passed=$((passed + 1)); else echo "FAIL  $name"; failed=$((failed + 1)); fi
}
finish() { echo "sast: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

sast=$(ensure_tool_venv sast checks/requirements-sast.txt) || { failed=$((failed + 1)); finish; }
checkov=$(ensure_tool_venv checkov checks/requirements-checkov.txt) || { failed=$((failed + 1)); finish; }
gate() { "$sast/bin/python" scripts/sast_gate.py "$@" "$root"; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
export SEMGREP_SEND_METRICS=off SEMGREP_ENABLE_VERSION_CHECK=0 BC_SKIP_MAPPING=TRUE

python_files=(app/onedigest_app app/wsgi.py app/gunicorn.conf.py scripts)
program_files=(*.ts providers registry scripts policy/*.ts policy/rules)

bandit_scan() {
  "$sast/bin/bandit" -q -r "${python_files[@]}" -f json -o "$out/bandit.json" >/dev/null 2>&1
  gate bandit "$out/bandit.json"
}
check "bandit $("$sast/bin/bandit" --version 2>/dev/null | awk 'NR==1{print $2}')" bandit_scan
check "bandit refuses test/fixtures/sast/unsafe.py (B602)" bash -c "'$sast/bin/bandit' -q test/fixtures/sast/unsafe.py 2>/dev/null | grep -q B602"

check "semgrep's rules pass their tests (checks/semgrep/*.py, *.ts)" \
  "$sast/bin/semgrep" --test --metrics=off --disable-version-check --quiet checks/semgrep
semgrep_scan() {
  "$sast/bin/semgrep" scan --metrics=off --disable-version-check --quiet --config checks/semgrep \
    --json -o "$out/semgrep.json" "${python_files[@]}" "${program_files[@]}" >/dev/null 2>&1
  gate semgrep "$out/semgrep.json"
}
check "semgrep $("$sast/bin/semgrep" --version 2>/dev/null)" semgrep_scan

hadolint_scan() {
  "$sast/bin/hadolint" -f json app/Dockerfile >"$out/hadolint.json" 2>/dev/null
  gate hadolint "$out/hadolint.json"
}
check "hadolint $("$sast/bin/hadolint" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)" hadolint_scan
check "hadolint refuses test/fixtures/sast/docker/Dockerfile (DL3007)" bash -c "'$sast/bin/hadolint' test/fixtures/sast/docker/Dockerfile 2>/dev/null | grep -q DL3007"

checkov_scan() {
  "$checkov/bin/checkov" -d . --framework dockerfile github_actions secrets --skip-download --quiet \
    --skip-path 'node_modules' --skip-path '\.venv' --skip-path '\.git/' --skip-path 'test/fixtures' \
    --skip-path 'app/mutants' --skip-path '\.stryker' --skip-path 'stryker-incremental\.json' --skip-path '\.pulumi' \
    -o json >"$out/checkov.json" 2>"$out/checkov.err"
  [ -s "$out/checkov.json" ] || { cat "$out/checkov.err"; return 1; }
  gate checkov "$out/checkov.json"
}
check "checkov $("$checkov/bin/checkov" --version 2>/dev/null)" checkov_scan
# Refused for what it is (a usage error would exit non-zero too): the unpinned base, the root user.
checkov_refuses() {
  local report; report=$("$checkov/bin/checkov" -d test/fixtures/sast/docker --framework dockerfile --skip-download --quiet -o json 2>/dev/null)
  grep -q '"check_id": "CKV_DOCKER_7"' <<<"$report" && grep -q '"check_id": "CKV_DOCKER_8"' <<<"$report"
}
check "checkov refuses test/fixtures/sast/docker/Dockerfile" checkov_refuses
finish
