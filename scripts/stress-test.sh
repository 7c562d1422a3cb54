#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The suite on a busy machine: the normal build's suite five times in a row, then the ASan+UBSan
# suite once, while two CPU hogs (stress-ng --cpu 2) run beside them. A test that waits for a
# fixed time instead of an event, or whose bound a loaded 2-core machine misses, fails here.
# Stops at the first failing run, says which run and which tests failed, and exits 1. Takes
# hours with the whole suite; not part of scripts/test.sh.
#   scripts/stress-test.sh [-R REGEX] [-n RUNS] [--no-asan]
#   STRESS_TESTS_REGEX   as -R: only the tests ctest -R selects (default: all)
#   STRESS_RUNS          as -n: runs of the normal build (default 5)
#   STRESS_HOGS          CPU hogs beside the tests (default 2)
#   STRESS_SKIP_BUILD=1  use build/ and build-asan/ as they are
set -euo pipefail
cd "$(dirname "$0")/.."

regex=${STRESS_TESTS_REGEX:-}
runs=${STRESS_RUNS:-5}
hogs=${STRESS_HOGS:-2}
asan=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    -R) regex=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    --no-asan) asan=0; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stress-test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "stress-test.sh: -n needs a number, not '$runs'" >&2; exit 2; }
[[ "$hogs" =~ ^[0-9]+$ ]] || { echo "stress-test.sh: STRESS_HOGS needs a number, not '$hogs'" >&2; exit 2; }

scripts/deps.sh build test stress
if [[ "${STRESS_SKIP_BUILD:-0}" != 1 ]]; then
  # The trees of scripts/test.sh, built the same way (before the hogs start).
  scripts/build.sh build -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=ON -DFCGIMUX_SANITIZE=OFF -DFCGIMUX_UNITY=ON
  if [[ $asan == 1 ]]; then
    scripts/build.sh build-asan -DFCGIMUX_SANITIZE=ON -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=OFF -DFCGIMUX_UNITY=ON
  fi
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/fcgimux-stress.XXXXXX")
hog_pid=""
stop_hogs() {
  if [[ -n "$hog_pid" ]]; then
    kill "$hog_pid" 2>/dev/null || true  # stress-ng stops its workers on SIGTERM
    wait "$hog_pid" 2>/dev/null || true
    hog_pid=""
  fi
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

if [[ "$hogs" -gt 0 ]]; then
  stress-ng --cpu "$hogs" --quiet &
  hog_pid=$!
fi
start=$(date +%s)
echo "stress-test: $runs normal run(s)$([[ $asan == 1 ]] && echo " + 1 ASan+UBSan run"), $hogs CPU hog(s)," \
  "tests: ${regex:-all}; logs in $logs"

# run NAME BUILD_DIR [env...]: one ctest run; on failure, the run and the failed tests, exit 1.
run() {
  local name=$1 dir=$2
  shift 2
  local log="$logs/$name.log" t0
  t0=$(date +%s)
  local args=(--test-dir "$dir" --output-on-failure -j2 --timeout 900)
  [[ -n "$regex" ]] && args+=(-R "$regex")
  if env "$@" ctest "${args[@]}" >"$log" 2>&1; then
    echo "stress-test: $name passed in $(( $(date +%s) - t0 )) s" \
      "($(grep -o '[0-9]* tests failed out of [0-9]*' "$log" | tail -1 || true))"
    return 0
  fi
  echo "stress-test: $name FAILED after $(( $(date +%s) - t0 )) s; failed tests:"
  sed -n '/The following tests FAILED:/,$p' "$log" | tail -n +2 | grep -v '^Errors while running' || tail -20 "$log"
  echo "stress-test: the whole output is in $log"
  exit 1
}

for i in $(seq 1 "$runs"); do run "run-$i-of-$runs" build; done
if [[ $asan == 1 ]]; then
  run "asan" build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
echo "stress-test: every run passed in $(( $(date +%s) - start )) s"
