#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Latency and errors while SIGHUP replaces every worker (or SIGUSR2 replaces fcgimux itself, -m
# upgrade), against the steady state, in one run (issue 15): nginx with keep-alive -> fcgimux ->
# php-cgi (or the demo). See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/roll.sh [-d SECONDS] [-c CONNS] [-w WORKERS] [-i SECONDS] [-b php|demo] [-m roll|upgrade]
  -d  wrk duration of each phase, steady and rolling (default 15)
  -c  wrk connections (default 32)
  -w  workers in the pool (default 8)
  -i  seconds between two SIGHUPs during the rolling phase (default 3)
  -b  the workers: php (php-cgi running a small script, default) or demo (fcgimux-demo)
  -m  roll: SIGHUP replaces the workers (default); upgrade: SIGUSR2 replaces fcgimux itself (the
      same binary), its workers and its front connections
Environment: BUILD_DIR (default build-bench, else build), NGINX_WORKERS (default 1), KEEP_TMP=1,
  BENCH_NICE=-10 (run everything at that nice level; root only).
Goal: no error and no non-2xx answer while rolling; wrk p99 while rolling at most 2x the steady one.
EOF
}

duration=15 conns=32 workers=8 interval=3 backend=php mode=roll
while getopts "d:c:w:i:b:m:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;; i) interval=$OPTARG ;; b) backend=$OPTARG ;;
    m) mode=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
[[ $backend == php || $backend == demo ]] || die "-b must be php or demo"
[[ $mode == roll || $mode == upgrade ]] || die "-m must be roll or upgrade"
NGINX_WORKERS=${NGINX_WORKERS:-1}

need_tools wrk nginx python3 curl
[[ $backend == php ]] && need_tools php-cgi
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
demo="$build/src/demo/fcgimux-demo"
[[ -x $fcgimux && -x $demo ]] || die "build fcgimux and fcgimux-demo first (looked in $build)"
ulimit -n 65536 2>/dev/null || true
bench_init
arm_watchdog $((2 * duration + 120))

dir=$BENCH_TMP
addr="127.0.0.1:$(free_port)" stats="127.0.0.1:$(free_port)"
if [[ $backend == php ]]; then
  printf '<?php echo "hello from ", getmypid(), "\\n";\n' >"$dir/bench.php"
  cmd=(php-cgi) path=/bench.php
  # No recycling after 500 requests: every worker started is then the roll's doing.
  export PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS=0
else
  cmd=("$demo") path=/bench
fi
pidfile="$dir/fcgimux.pid"
setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$addr" --stats "$stats" --pidfile "$pidfile" -n "$workers" \
  -- "${cmd[@]}" >"$dir/fcgimux.log" 2>&1 &
mux_pid=$!
track $mux_pid
wait_for_text "$dir/fcgimux.log" "listening on" 10 || { cat "$dir/fcgimux.log" >&2; die "fcgimux did not start"; }
wait_connectable "$addr" 10 || die "fcgimux at $addr does not accept"
port=$(free_port)
nginx_conf "$dir" "$port" "$addr" "$conns" "$dir"
start_nginx "$dir" "$port"
url="http://127.0.0.1:$port$path"
for i in $(seq 50); do curl -sf -m 5 -o /dev/null "$url" || die "warm-up request failed"; done

stat_of() { curl -sf -m 5 "http://$stats/stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

log "steady: ${duration}s"
run_wrk "$dir/steady.txt" "$conns" "$duration" "$url"
failed0=$(stat_of 'd["requests"]["failed"]')

signal=HUP
[[ $mode == upgrade ]] && signal=USR2
log "$mode: ${duration}s, SIG$signal every ${interval}s"
wrk -t2 -c"$conns" -d"${duration}s" --timeout 5s -s "$BENCH_DIR/wrk_report.lua" "$url" >"$dir/rolling.txt" 2>&1 &
wrk_pid=$!
track $wrk_pid
hups=0 start=$SECONDS
sleep 1
pids=$(cat "$pidfile")
while ((SECONDS - start < duration - interval)); do
  kill -"$signal" "$(cat "$pidfile")"
  hups=$((hups + 1))
  sleep "$interval"
  # Every process that served is stopped at the end, the new ones an upgrade started included.
  [[ $mode == upgrade ]] && pids="$pids $(cat "$pidfile")" && track "$(cat "$pidfile")"
done
wait "$wrk_pid" || true
sleep 1
generation=$(stat_of 'd["pools"]["default"]["generation"]')
roll_state=$(stat_of 'd["pools"]["default"]["roll"]["state"]')
failed1=$(stat_of 'd["requests"]["failed"]')
spawned=$(stat_of 'd["workers_spawned"]')

row() {
  local name=$1 f=$2 errors
  errors=$(($(wrk_field connect "$f") + $(wrk_field read "$f") + $(wrk_field write "$f") + $(wrk_field timeout "$f")))
  printf "%-9s %9s %8s %8s %8s %7s %7s\n" "$name" "$(wrk_field rps "$f" | cut -d. -f1)" \
    "$(us_to_ms "$(wrk_field p50_us "$f")")" "$(us_to_ms "$(wrk_field p99_us "$f")")" \
    "$(us_to_ms "$(wrk_field max_us "$f")")" "$errors" "$(wrk_field status "$f")"
}
echo "roll.sh: nginx (keepalive $conns) -> fcgimux, $workers $backend workers, wrk -t2 -c$conns -d${duration}s per phase"
machine_line
printf "%-9s %9s %8s %8s %8s %7s %7s\n" phase req/s "p50 ms" "p99 ms" "max ms" errors non2xx
row steady "$dir/steady.txt"
row "$mode" "$dir/rolling.txt"
if [[ $mode == upgrade ]]; then
  # Each process counts its own: the last one's failures, and the pids that served in turn.
  failed0=0
  echo "upgrading: $hups SIGUSR2s, fcgimux pids in turn: $(echo "$pids" | tr ' ' '\n' | uniq | tr '\n' ' ')"
else
  echo "rolling: $hups SIGHUPs, generation now $generation (roll $roll_state), $spawned workers started in all," \
    "fcgimux requests failed during the roll: $((failed1 - failed0))"
fi
p99s=$(wrk_field p99_us "$dir/steady.txt") p99r=$(wrk_field p99_us "$dir/rolling.txt")
errors=$(($(wrk_field connect "$dir/rolling.txt") + $(wrk_field read "$dir/rolling.txt") +
  $(wrk_field write "$dir/rolling.txt") + $(wrk_field timeout "$dir/rolling.txt") +
  $(wrk_field status "$dir/rolling.txt") + failed1 - failed0))
ratio=$(awk -v a="$p99r" -v b="$p99s" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
verdict() { [[ $1 == 1 ]] && echo PASS || echo FAIL; }
echo "errors while ${mode}ing: $errors (goal 0: $(verdict $((errors == 0))))"
echo "p99 ${mode}ing / steady: ${ratio}x (goal <= 2x: $(verdict "$(awk -v r="$ratio" 'BEGIN{print (r <= 2.0) ? 1 : 0}')"))"
