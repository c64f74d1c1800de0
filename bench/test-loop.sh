#!/usr/bin/env bash
# The test loop's cost, in one invocation: the app image's build on the overlay2 storage driver
# against vfs (the fallback) on two fresh engines, then one whole `scripts/test.sh` run with its
# per-stage times. Prints the ratio vfs / overlay2 and the stage table.
#
#   bash bench/test-loop.sh            (as root, like scripts/test.sh)
#   SKIP_VFS=1 bash bench/test-loop.sh  leave out the vfs baseline (it takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/onedigest-bench-loop.XXXXXX)
trap 'for d in "$work"/engine-*; do bash "$root/scripts/docker-env.sh" down "$d" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

build_on() { # driver → seconds for a cold build of app/ on a fresh engine with that driver
  local state="$work/engine-$1"
  DOCKER_STORAGE_DRIVER=$1 bash scripts/docker-env.sh up "$state" >"$work/$1.log" 2>&1 || { cat "$work/$1.log" >&2; return 1; }
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC1091
  (. "$state/env" && docker build -q --build-arg "BASE_IMAGE=$ONEDIGEST_BASE_IMAGE" -t bench-loop "$root/app" >/dev/null)
  t1=$(date +%s.%N)
  bash scripts/docker-env.sh down "$state" >/dev/null 2>&1
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1"
}

overlay=$(build_on overlay2)
echo "image build, overlay2: $overlay s"
if [ "${SKIP_VFS:-0}" != 1 ]; then
  vfs=$(build_on vfs)
  echo "image build, vfs:      $vfs s  (vfs / overlay2 = $(python3 -c "print(f'{$vfs / $overlay:.1f}')")x)"
fi

t0=$(date +%s)
bash scripts/test.sh >"$work/test.log" 2>&1 && rc=0 || rc=$?
echo
echo "scripts/test.sh: $(( $(date +%s) - t0 )) s in all (exit $rc)"
sed -n '/^=== timings ===$/,$p' "$work/test.log"
