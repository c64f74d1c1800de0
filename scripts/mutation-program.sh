#!/usr/bin/env bash
# Mutation testing of the program (StrykerJS with the mocha runner, stryker.config.json): every
# mutant of providers/, image.ts, config.ts and validate.ts should make a program test fail.
# Too slow for every test run (each program test evaluates the whole program under mocks), so it
# runs from here; bench/README.md records what it printed, with the date.
#
#   bash scripts/mutation-program.sh                    every file in stryker.config.json
#   bash scripts/mutation-program.sh config.ts validate.ts   only these files
#
# Needs node_modules (npm ci) and Node.js 22+ (scripts/test.sh puts one on PATH). Results are kept
# in .stryker/ (incremental: a re-run tests only mutants whose code or tests changed); the HTML and
# JSON reports are .stryker/report.html and .stryker/report.json. The gate at the end
# (scripts/mutation-program-gate.js) prints "K of N mutants killed (S %)", covered and uncovered
# mutants alike, fails below 80 % or on a mutant not killed that stryker-survivors.txt does not list
# with its reason, and ends with "mutation-program: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
[ "$#" -eq 0 ] || args=(--mutate "$(IFS=,; echo "$*")")
ONEDIGEST_PROGRAM_PER_TEST=1 npx --no-install stryker run "${args[@]}"
node scripts/mutation-program-gate.js .stryker/report.json 80
