#!/usr/bin/env bash
# Mutation testing of the program (StrykerJS with the mocha runner, stryker.config.json): every
# mutant of the files its "mutate" lists should make a program test fail. Today that is image.ts, buildFacts.ts,
# config.ts, providers/awsEcsExpress.ts and providers/awsBeanstalk.ts; validate.ts and the rest of
# providers/ are left out until a run of them fits (docs/testing.md#mutation-testing). A
# stage of scripts/test.sh. A whole run takes hours here, so it is incremental: Stryker reads
# and rewrites stryker-incremental.json (committed) and tests again only the mutants whose code or
# covering tests changed; commit the rewritten file with the change that caused it.
#
#   bash scripts/mutation-program.sh                         every file in stryker.config.json
#   bash scripts/mutation-program.sh config.ts validate.ts   only these files
#   bash scripts/mutation-program.sh --force [FILE…]         every mutant again: after changing a
#                                                            test helper (test/mocks.ts, …), which
#                                                            the incremental mode does not track
#   bash scripts/mutation-program.sh --check                 what scripts/test.sh runs: the same,
#                                                            but stryker-incremental.json is only read;
#                                                            and when none of Stryker's inputs changed
#                                                            since it was written (stryker-inputs.txt),
#                                                            only the gate runs, on the committed results
#   ONEDIGEST_MUTATE_STATIC=1 bash scripts/mutation-program.sh --force
#                                                            also the static mutants (below), by hand
#
# Static mutants (a module-level initializer: a constant, a table, a regex compiled at load) are left
# out (ignoreStatic in stryker.config.json): Stryker cannot tell which tests cover one, so each runs the
# whole suite in a fresh process; they are about 7 % of the mutants and took most of a full run's time
# (171 of 2597 in the last run with them, 140 killed). The tests of those tables and constants run in
# the ordinary stages all the same.
#
# Needs node_modules (npm ci) and Node.js 22+ (scripts/test.sh puts one on PATH). The HTML and JSON
# reports are .stryker/report.html and .stryker/report.json. The gate at the end
# (scripts/mutation-program-gate.js) prints "K of N mutants killed (S %)", fails below 80 % or on a
# mutant not killed that stryker-survivors.txt does not list with its reason, and ends with
# "mutation-program: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
check=""
case "${1:-}" in
  --force) args+=(--force); shift ;;
  --check) # as the test suite runs it: from the committed results, leaving that file as it is
    check=1
    mkdir -p .stryker && cp stryker-incremental.json .stryker/incremental-check.json
    args+=(--incrementalFile .stryker/incremental-check.json); shift ;;
esac
[ "$#" -eq 0 ] || args+=(--mutate "$(IFS=,; echo "$*")")
# The tests that run the app's gunicorn.conf.py use the project's venv, which the sandbox leaves out.
export ONEDIGEST_PYTHON="${ONEDIGEST_PYTHON:-$PWD/.venv/bin/python}"
[ -z "${ONEDIGEST_MUTATE_STATIC:-}" ] || args+=(--ignoreStatic false)
# Nothing Stryker reads changed since the committed results were computed (stryker-inputs.txt,
# scripts/mutation-program-inputs.js): a run would reuse every result, so gate on them as they are.
if [ -n "$check" ] && [ -z "${ONEDIGEST_MUTATE_STATIC:-}" ] && node scripts/mutation-program-inputs.js --check; then
  exec node scripts/mutation-program-gate.js stryker-incremental.json 80
fi
ONEDIGEST_PROGRAM_PER_TEST=1 npx --no-install stryker run "${args[@]}"
# A whole run (every file of stryker.config.json, static mutants left out as configured) records
# what its results were computed from, for --check; commit stryker-inputs.txt with the results.
if [ -z "$check" ] && [ "$#" -eq 0 ] && [ -z "${ONEDIGEST_MUTATE_STATIC:-}" ]; then
  node scripts/mutation-program-inputs.js --write
fi
node scripts/mutation-program-gate.js .stryker/report.json 80
