#!/usr/bin/env bash
# Mutation testing of the app (mutmut, hash-pinned in app/requirements-dev.txt): every mutant of
# app/onedigest_app must make a test fail. Gate: at least MIN_SCORE % killed, and every survivor
# listed in app/mutmut-survivors.txt with the reason it survives.
#
#   bash scripts/mutation.sh        (after scripts/test.sh has made .venv; MUTATION_JOBS=2)
# Ends with "mutation: N passed, N failed" (one check each: score, survivors listed).
set -uo pipefail
cd "$(dirname "$0")/../app"
MIN_SCORE=${MIN_SCORE:-90}
rm -rf mutants
../.venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" >mutmut.log 2>&1
rc=$?
results=$(../.venv/bin/mutmut results --all true 2>/dev/null)
trap 'rm -rf mutants' EXIT  # kept until the end: `mutmut show` below reads it
if [ "$rc" -ne 0 ] || [ -z "$results" ]; then
  tr '\r' '\n' <mutmut.log | tail -n 30
  echo "mutation: 0 passed, 1 failed (mutmut did not run)"
  exit 1
fi
rm -f mutmut.log
total=$(grep -c ': ' <<<"$results")
killed=$(grep -c ': killed$' <<<"$results")
survivors=$(grep ': survived$' <<<"$results" | sed 's/: survived$//; s/^ *//')
other=$(grep -vE ': (killed|survived)$' <<<"$results" || true)
passed=0; failed=0
score=$(awk -v k="$killed" -v t="$total" 'BEGIN { printf "%.1f", 100 * k / t }')
if awk -v s="$score" -v m="$MIN_SCORE" 'BEGIN { exit !(s >= m) }' && [ -z "$other" ]; then
  echo "ok    score: $killed of $total mutants killed ($score %, gate $MIN_SCORE %)"; passed=$((passed + 1))
else
  echo "FAIL  score: $killed of $total mutants killed ($score %, gate $MIN_SCORE %)"; failed=$((failed + 1))
  [ -n "$other" ] && printf 'not killed and not survived (timeouts, suspicious, …):\n%s\n' "$other"
fi
unlisted=$(comm -23 <(sort <<<"$survivors" | sed '/^$/d') <(grep -v '^#' mutmut-survivors.txt | cut -f1 | sort))
if [ -z "$unlisted" ]; then
  echo "ok    every survivor is listed with its reason in app/mutmut-survivors.txt"; passed=$((passed + 1))
else
  echo "FAIL  survivors not in app/mutmut-survivors.txt (kill each with a test, or list it with why it survives):"
  while read -r name; do echo "      $name"; ../.venv/bin/mutmut show "$name" 2>/dev/null | grep -E '^[-+] ' | head -4 | sed 's/^/        /'; done <<<"$unlisted"
  failed=$((failed + 1))
fi
echo "mutation: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
