#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The README's test command, and all that .ci/run does: installs what is missing, builds, and
# runs every test: the check of every #include against the layers of docs/architecture.md, the
# Catch2 suites (unit and integration, with real nginx, php-cgi, fcgiwrap), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer, each fuzzer briefly, and the container image smoke
# test.
#   FCGIMUX_FUZZ_SECONDS   seconds per fuzz target (default 20)
#   FCGIMUX_SKIP_CONTAINER=1  leave out the podman image test (it needs ~3 minutes and root)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }
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
scripts/build.sh build -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=ON -DFCGIMUX_SANITIZE=OFF

stage "tests"
run_ctest --test-dir build --output-on-failure -j2 --timeout 900

stage "build with ASan + UBSan"
scripts/build.sh build-asan -DFCGIMUX_SANITIZE=ON -DFCGIMUX_TESTS=ON -DFCGIMUX_BENCH=OFF

stage "tests with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest --test-dir build-asan --output-on-failure -j2 --timeout 900

stage "fuzzing"
scripts/fuzz.sh "${FCGIMUX_FUZZ_SECONDS:-20}"

if [[ "${FCGIMUX_SKIP_CONTAINER:-0}" != 1 ]]; then
  stage "container image"
  scripts/container-test.sh
fi

stage "all tests passed"
echo "ctest: $passed passed, 0 failed"
