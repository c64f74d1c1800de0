#!/usr/bin/env bash
# Dynamic analysis: wapiti (hash-pinned in checks/requirements-dast.txt, a cached venv of its own)
# against a running app, on loopback, bounded in time, with only the modules that need no outside
# network: the passive ones (security headers, cookie flags, CSP, redirects, disclosures) and the
# injections, traversal, open redirect, CRLF, CSRF, upload, methods, backup and directory probes.
# Its callback endpoints point at a closed loopback port, so nothing leaves the machine. Gate
# (scripts/sast_gate.py): no finding above informational but those checks/accepted-findings.txt
# lists with a reason. It also has to refuse a page without the app's headers (test/fixtures/dast/).
#
#   bash scripts/dast.sh http://127.0.0.1:8080/     test/engine/deployLocal.test.ts runs it against
#                                                   the local stack's container
# Ends with "dast: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${1:?usage: scripts/dast.sh URL}
# shellcheck source=scripts/toolchain.sh
. scripts/toolchain.sh
passed=0; failed=0
check() { # name command...
  local name=$1; shift
  if "$@"; then echo "ok    $name"; passed=$((passed + 1)); else echo "FAIL  $name"; failed=$((failed + 1)); fi
}
finish() { echo "dast: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
venv=$(ensure_tool_venv dast checks/requirements-dast.txt) || { failed=$((failed + 1)); finish; }
out=$(mktemp -d); fixture_pid=""
trap '[ -z "$fixture_pid" ] || kill "$fixture_pid" 2>/dev/null; rm -rf "$out"' EXIT
MODULES=passive,exec,file,sql,xss,permanentxss,redirect,crlf,csrf,methods,upload,ldap,shellshock,backup,htaccess,buster
MAX_SCAN_SECONDS=${DAST_MAX_SCAN_SECONDS:-90}

wapiti() { # name url modules [extra start URLs...]
  local name=$1 url=$2 modules=$3; shift 3
  local starts=(); for s in "$@"; do starts+=(-s "$s"); done
  timeout $((MAX_SCAN_SECONDS + 60)) "$venv/bin/wapiti" -u "$url" "${starts[@]}" --scope folder -m "$modules" \
    --max-scan-time "$MAX_SCAN_SECONDS" --max-attack-time 20 -d 2 --tasks 4 --timeout 5 \
    --external-endpoint http://127.0.0.1:9/ --endpoint http://127.0.0.1:9/ --dns-endpoint 127.0.0.1 \
    --flush-session --store-session "$out/$name-session" --store-config "$out/$name-config" \
    -f json -o "$out/$name.json" -v 0 >"$out/$name.log" 2>&1 || { cat "$out/$name.log"; return 1; }
}
scan() {
  # The JSON routes have no links to follow: a query parameter gives the attacks something to change.
  wapiti app "$target" "$MODULES" "${target%/}/?q=1" "${target%/}/healthcheck" &&
    "$venv/bin/python" scripts/sast_gate.py wapiti "$out/app.json" "$root"
}
check "wapiti $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("wapiti3"))') against $target" scan

refuses() {
  local port
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/python" -m http.server --bind 127.0.0.1 --directory test/fixtures/dast "$port" >/dev/null 2>&1 & fixture_pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  wapiti fixture "http://127.0.0.1:$port/" passive &&
    "$venv/bin/python" -c 'import json, sys; v = json.load(open(sys.argv[1]))["vulnerabilities"]; sys.exit(not (v["Clickjacking Protection"] and v["MIME Type Confusion"]))' "$out/fixture.json"
}
check "wapiti refuses test/fixtures/dast/index.html (no Clickjacking Protection, MIME Type Confusion)" refuses
finish
