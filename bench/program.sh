#!/usr/bin/env bash
# How long one evaluation of the program takes (all five targets, under mocks) when TypeScript is
# transpiled only (what `pulumi up` does here), type-checked on load, or precompiled to JS.
# Prints the median wall time of RUNS process runs per mode and the ratios, in one invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
[ -d node_modules ] || npm ci --no-audit --no-fund

# Median wall time in ms of `runs` runs of a command.
median_ms() {
  local times=() start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

compile_start=$(date +%s%N)
rm -rf bin && npx --no-install tsc -p tsconfig.build.json
compile_ms=$(( ($(date +%s%N) - compile_start) / 1000000 ))

transpile=$(median_ms node -r ts-node/register/transpile-only bench/evalProgram.ts)
typecheck=$(median_ms node -r ts-node/register bench/evalProgram.ts)
precompiled=$(median_ms node bin/bench/evalProgram.js)
rm -rf bin

echo "program evaluation, all five targets under mocks; median of $runs runs; $(nproc) cores; node $(node --version)"
printf '%-22s %7d ms\n' "transpile-only" "$transpile" "type-check on load" "$typecheck" "precompiled JS" "$precompiled" "(tsc build, once)" "$compile_ms"
awk -v t="$transpile" -v c="$typecheck" -v p="$precompiled" 'BEGIN {
  printf "type-check / transpile-only: %.2fx\n", c / t
  printf "transpile-only / precompiled: %.2fx\n", t / p
}'
