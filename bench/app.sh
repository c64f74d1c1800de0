#!/usr/bin/env bash
# Throughput and p99 on loopback with wrk, in one run:
#   (a) our app under our gunicorn config (one worker)
#   (b) the same route under the Flask dev server
#   (c) a bare Flask hello route under the same gunicorn config
# Prints (a)/(b) (goal >= 2.5) and (a)/(c) (goal: middleware costs <= 20 %, i.e. >= 0.80), and
# the time from process start to the first 200 on /healthcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-10}
connections=${CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q --require-hashes -r app/requirements-dev.txt; }
py=$root/.venv/bin/python
export SECRET_KEY=bench-secret APP_ENV=production WEB_CONCURRENCY=1 LOG_LEVEL=WARNING

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap stop EXIT

# Starts a server in the background; sets ready_ms to the ms from start to the first 200 on $2.
start() { # dir path command...
  local dir=$1 path=$2; shift 2
  local t0; t0=$(date +%s%N)
  (cd "$dir" && exec "$@" >/dev/null 2>&1) &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$PORT$path"; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited: $*" >&2; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# "req/s p99_ms" from wrk.
load() {
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/"
  wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$PORT/" |
    awk '/Requests\/sec/ {r=$2} /^ +99%/ {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; p=v} END {printf "%.0f %.2f\n", r, p}'
}

export PORT; PORT=$(free_port)
start "$root/app" /healthcheck "$py" -m gunicorn -c gunicorn.conf.py wsgi:app
startup_ms=$ready_ms
read -r a_rps a_p99 <<<"$(load)"; stop

PORT=$(free_port)
start "$root/app" / "$py" -m flask --app wsgi run --port "$PORT" --with-threads
read -r b_rps b_p99 <<<"$(load)"; stop

PORT=$(free_port)
start "$root/bench" / env PYTHONPATH="$root/app" "$py" -m gunicorn -c "$root/app/gunicorn.conf.py" bare_app:app
read -r c_rps c_p99 <<<"$(load)"; stop

echo "GET / on loopback, wrk -t2 -c$connections -d${duration}s, one gunicorn worker; $(nproc) cores; $($py --version)"
printf '%-42s %8s req/s  p99 %7s ms\n' \
  "(a) onedigest app, our gunicorn config" "$a_rps" "$a_p99" \
  "(b) same route, Flask dev server" "$b_rps" "$b_p99" \
  "(c) bare Flask hello, our gunicorn config" "$c_rps" "$c_p99"
awk -v a="$a_rps" -v b="$b_rps" -v c="$c_rps" 'BEGIN {
  printf "(a)/(b) throughput: %.2fx (goal >= 2.5)\n", a / b
  printf "(a)/(c) throughput: %.2fx (goal >= 0.80: middleware costs %.0f %%)\n", a / c, (1 - a / c) * 100
}'
echo "start to first 200 on /healthcheck (gunicorn, preload): ${startup_ms} ms"
