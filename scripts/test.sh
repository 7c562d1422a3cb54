#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The README's test command, and all that .ci/run does: installs what is missing, builds, and
# runs every test: the check of every #include against the layers of docs/architecture.md, the
# Catch2 suites (unit and integration, with real nginx, php-cgi, fcgiwrap), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer, each fuzzer briefly, and the container image smoke
# test.
#   FCGIMUX_FUZZ_SECONDS   seconds per fuzz target (default 20; one target per core at once)
#   FCGIMUX_SKIP_CONTAINER=1  leave out the podman image test (it needs ~3 minutes and root)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# Each stage's wall time and the CPU seconds of what it ran (bash's `times`: the children's user
# and system time), so that a slow run shows which stage grew (docs/testing.md, "What the builds cost").
stage_name="" stage_start=$start stage_cpu=0 cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
# Sets cpu: `times` runs in this shell (not in a $(...) subshell, which would count only its own).
cpu_seconds() {
  times >"$cpu_file"
  cpu=$(awk 'END { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.0f", t }' "$cpu_file")
}
stage() {
  local now cpu
  now=$(date +%s)
  cpu_seconds
  [[ -n $stage_name ]] && echo "--- $stage_name: $((now - stage_start)) s wall, $((cpu - stage_cpu)) CPU s"
  stage_name=$* stage_start=$now stage_cpu=$cpu
  echo; echo "=== $* ($((now - start)) s)"
}
passed=0
# Runs ctest and adds its count of passed tests; set -e stops at the first failing suite.
run_ctest() {
  local log
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log"
  passed=$((passed + $(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)))
  rm -f "$log"
}

stage "layers"
scripts/check-layers.sh

stage "dependencies"
scripts/deps.sh build test fuzz stats kubernetes

stage "build"
# Unity builds (cmake/unity.cmake): batches of 8 files per object, not one, for about half the CPU.
scripts/build.sh build -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=ON -DFCGIMUX_SANITIZE=OFF -DFCGIMUX_UNITY=ON

stage "tests, with the ASan + UBSan tree building beside them"
# The suite mostly waits on its programs, and it is made to pass beside two CPU hogs
# (scripts/stress-test.sh): the sanitizer tree's build, two compilers at a lower priority, is
# that load, and the time it takes is no longer added to the suite's.
asan_log=$(mktemp)
asan_build_pid=""
stop_asan_build() {
  if [[ -n $asan_build_pid ]]; then kill -- "-$asan_build_pid" 2>/dev/null || true; fi
  rm -f "$asan_log" "$cpu_file"
}
trap stop_asan_build EXIT
set -m  # the build in a process group of its own, so that a failed suite stops all of it
nice -n 10 scripts/build.sh build-asan -DFCGIMUX_SANITIZE=ON -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=OFF \
  -DFCGIMUX_UNITY=ON >"$asan_log" 2>&1 &
asan_build_pid=$!
set +m
run_ctest --test-dir build --output-on-failure -j2 --timeout 900

stage "build with ASan + UBSan (what is left of it)"
if ! wait "$asan_build_pid"; then
  asan_build_pid=""
  cat "$asan_log"
  echo "the ASan + UBSan build failed" >&2
  exit 1
fi
asan_build_pid=""
tail -3 "$asan_log"

stage "tests with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest --test-dir build-asan --output-on-failure -j2 --timeout 900

stage "fuzzing"
# Each target still runs its FCGIMUX_FUZZ_SECONDS, on a core of its own (libFuzzer is one thread).
scripts/fuzz.sh --jobs "$(nproc)" "${FCGIMUX_FUZZ_SECONDS:-20}"

if [[ "${FCGIMUX_SKIP_CONTAINER:-0}" != 1 ]]; then
  stage "container image"
  scripts/container-test.sh
fi

stage "all tests passed"
echo "ctest: $passed passed, 0 failed"
