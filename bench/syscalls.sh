#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# fcgimux's system calls per request under nginx traffic, with and without nginx upstream keep-alive
# (issue 23): `perf stat -e 'syscalls:sys_enter_*'` on the running fcgimux while wrk runs, divided by
# the requests fcgimux completed in the same window (its /stats). Counts, unlike CPU time, do not
# depend on the machine's load. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/syscalls.sh [-d SECONDS] [-c CONNS] [-w WORKERS] [-s SETUPS] [-- FCGIMUX_FLAGS...]
  -d  seconds counted (default 5; wrk runs 2 s longer, the count starts 1 s in)
  -c  wrk connections (default 64), also nginx's keepalive in fcgimux-ka
  -w  fcgimux-demo workers (default 8)
  -s  comma-separated subset of: fcgimux,fcgimux-ka (default both)
Anything after -- is passed to fcgimux.
Environment: BUILD_DIR (default build-bench, else build), KEEP_TMP=1, BENCH_NICE.
EOF
}

duration=5 conns=64 workers=8 setups="fcgimux-ka,fcgimux"
while getopts "d:c:w:s:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;; s) setups=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
extra_flags=("$@")

need_tools wrk nginx perf python3 curl pgrep
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
demo="$build/src/demo/fcgimux-demo"
[[ -x $fcgimux && -x $demo ]] || die "build fcgimux and fcgimux-demo first (looked in $build)"
perf stat -e 'syscalls:sys_enter_getpid' -- true >/dev/null 2>&1 ||
  die "perf cannot read the syscalls tracepoints here (root, tracefs, perf_event_paranoid)"

IFS=, read -r -a setup_list <<<"$setups"
ulimit -n 65536 2>/dev/null || true
bench_init
arm_watchdog $((${#setup_list[@]} * (duration + 60) + 30))

completed() { curl -sf -m 5 "http://$1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["completed"])'; }

count_setup() {
  local setup=$1 ka=0
  [[ $setup == fcgimux-ka ]] && ka=$conns
  local dir="$BENCH_TMP/$setup"
  mkdir -p "$dir"
  local mark=${#TRACKED_PIDS[@]}
  local addr="127.0.0.1:$(free_port)" stats="127.0.0.1:$(free_port)"
  setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$addr" --stats "$stats" -n "$workers" "${extra_flags[@]}" \
    -- "$demo" >"$dir/backend.log" 2>&1 &
  local pid=$!
  track "$pid"
  wait_for_text "$dir/backend.log" "listening on" 10 || { cat "$dir/backend.log" >&2; die "fcgimux did not start"; }
  wait_connectable "$addr" 10 || die "fcgimux at $addr does not accept"
  local port
  port=$(free_port)
  nginx_conf "$dir" "$port" "$addr" "$ka"
  start_nginx "$dir" "$port"
  local url="http://127.0.0.1:$port/bench" i
  for i in $(seq 20); do curl -sf -m 5 -o /dev/null "$url" || die "warm-up request to $setup failed"; done

  run_wrk "$dir/wrk.txt" "$conns" $((duration + 2)) "$url" &
  local wrk_pid=$!
  track "$wrk_pid"
  sleep 1  # past wrk's connects: the count is of a steady run
  # Attaching ~300 tracepoints to every thread takes a while: perf starts with its counters off and
  # counts only between the two stats readings (their own few system calls are in the count).
  mkfifo "$dir/perf.ctl" "$dir/perf.ack"
  perf stat -D -1 --control "fifo:$dir/perf.ctl,$dir/perf.ack" -x, -o "$dir/perf.csv" -e 'syscalls:sys_enter_*' \
    -e syscalls:sys_exit_recvfrom --filter 'ret == -11' -e syscalls:sys_exit_accept --filter 'ret == -11' \
    -p "$pid" >/dev/null 2>&1 &
  local perf_pid=$!
  track "$perf_pid"
  exec 7>"$dir/perf.ctl" 8<"$dir/perf.ack"
  local before after
  echo enable >&7 && head -c 5 <&8 >/dev/null
  before=$(completed "$stats")
  sleep "$duration"
  after=$(completed "$stats")
  echo disable >&7 && head -c 5 <&8 >/dev/null
  kill -INT "$perf_pid" && wait "$perf_pid" || true
  exec 7>&- 8<&-
  wait "$wrk_pid" || true
  local failed
  failed=$(curl -sf -m 5 "http://$stats/stats" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["requests"]["failed"] + j["responses"]["5xx"])')
  stop_tracked "$mark"
  python3 - "$dir/perf.csv" "$setup" "$((after - before))" "$failed" <<'EOF'
import sys
path, setup, requests, failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
counts, eagain = {}, {}
for line in open(path):
    f = line.strip().split(",")
    if len(f) < 3 or not f[2].startswith("syscalls:sys_e"):
        continue
    try:
        n = int(f[0])
    except ValueError:
        continue
    if f[2].startswith("syscalls:sys_exit_"):
        eagain[f[2][len("syscalls:sys_exit_"):]] = n  # the filtered events: ret == -EAGAIN
    elif n:
        counts[f[2][len("syscalls:sys_enter_"):]] = n
total = sum(counts.values())
print(f"{setup}: {requests} requests completed in the window, {failed} failed or 5xx in the whole run")
if requests <= 0:
    sys.exit(1)
print(f"  {'syscall':<16} {'count':>10} {'per request':>11} {'EAGAIN per request':>18}")
for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
    if n / requests >= 0.005:
        again = f"{eagain[name] / requests:.2f}" if name in eagain else ""
        print(f"  {name:<16} {n:>10} {n / requests:>11.2f} {again:>18}")
print(f"  {'all':<16} {total:>10} {total / requests:>11.2f}")
EOF
}

for s in "${setup_list[@]}"; do count_setup "$s"; done
machine_line
