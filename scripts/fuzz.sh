#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz and runs each for SECONDS
# (default 30), or for N executions with --runs N (the long recorded runs, docs/performance.md),
# J targets at a time with --jobs J. Prints execs/s and total execs per target; fails on any
# crash, leak or timeout.
#   scripts/fuzz.sh [SECONDS]
#   scripts/fuzz.sh --runs N [--jobs J]
# New inputs go to build-fuzz/corpus/<target>; fuzz/corpus/<target> (the seeds) stays untouched.
# A failing input is written to build-fuzz/artifacts/<target>-crash-*; replay it with
#   build-fuzz/fuzz/<target> build-fuzz/artifacts/<file>
set -euo pipefail

seconds=30 runs=0 jobs=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) seconds=$1; shift ;;
  esac
done
limit=(-max_total_time="$seconds")
[[ $runs -gt 0 ]] && limit=(-runs="$runs")
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
targets=(fuzz_decoder fuzz_split_decoder fuzz_roundtrip fuzz_name_value fuzz_answer fuzz_front_session fuzz_http_request)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ missing (scripts/deps.sh fuzz)" >&2; exit 1; }
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DFCGIMUX_FUZZ=ON >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log" >&2; exit 1; }
cmake --build "$build" --target "${targets[@]}" >"$build/build.log" 2>&1 || { tail -50 "$build/build.log" >&2; exit 1; }

mkdir -p "$build/artifacts"
status=0
# One target: its log holds libFuzzer's final stats.
run_target() {
  local t=$1 rc=0
  mkdir -p "$build/corpus/$t"
  "$build/fuzz/$t" "${limit[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "$root/fuzz/corpus/$t" >"$build/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build/$t.rc"
}
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

printf '%-20s %12s %14s %s\n' target execs/s total_execs result
for t in "${targets[@]}"; do
  log=$build/$t.log
  rc=$(cat "$build/$t.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [[ $rc -ne 0 ]] || grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
    result="FAILED (rc=$rc, see $log)"
    status=1
  fi
  printf '%-20s %12s %14s %s\n' "$t" "${rate:-?}" "${execs:-?}" "$result"
done
exit $status
