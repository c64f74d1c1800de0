#!/usr/bin/env bash
# Mutation testing of the app (mutmut, hash-pinned in app/requirements-dev.txt): every mutant of
# app/onedigest_app must make a test fail. Gate: at least MIN_SCORE % killed, and every survivor
# listed in app/mutmut-survivors.txt with the reason it survives.
#
# Incremental: app/mutmut-results.json (committed) holds every mutant's result and what it was
# computed from; a run tests again only the mutants whose function, module, covering tests or
# environment changed since (scripts/mutation_app.py says exactly what counts), and says how many
# and why. A whole run takes 3 to 6 minutes here; with nothing changed, seconds.
#
#   bash scripts/mutation.sh            what scripts/test.sh runs: reads app/mutmut-results.json,
#                                       writes no file in the repository
#   bash scripts/mutation.sh --update   the same, then rewrites app/mutmut-results.json: after
#                                       changing app/ or its tests, commit it with that change
#   bash scripts/mutation.sh --force    every mutant again, then rewrites the file
#
# Needs .venv (scripts/test.sh makes it). MUTATION_JOBS=2 (mutmut's children), MIN_SCORE=90.
# Ends with "mutation: N passed, N failed" (one check each: score, survivors listed).
set -uo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/mutation_app.py "$@"
