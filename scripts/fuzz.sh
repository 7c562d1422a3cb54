#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz and runs each for SECONDS
# (default 30). Prints execs/s and total execs per target; fails on any crash, leak or timeout.
#   scripts/fuzz.sh [SECONDS]
# New inputs go to build-fuzz/corpus/<target>; fuzz/corpus/<target> (the seeds) stays untouched.
# A failing input is written to build-fuzz/artifacts/<target>-crash-*; replay it with
#   build-fuzz/fuzz/<target> build-fuzz/artifacts/<file>
set -euo pipefail

seconds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
targets=(fuzz_decoder fuzz_split_decoder fuzz_roundtrip fuzz_name_value fuzz_answer fuzz_front_session)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ missing (scripts/deps.sh fuzz)" >&2; exit 1; }
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DFCGIMUX_FUZZ=ON >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log" >&2; exit 1; }
cmake --build "$build" --target "${targets[@]}" >"$build/build.log" 2>&1 || { tail -50 "$build/build.log" >&2; exit 1; }

mkdir -p "$build/artifacts"
status=0
printf '%-20s %12s %14s %s\n' target execs/s total_execs result
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  log=$build/$t.log
  rc=0
  "$build/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
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
