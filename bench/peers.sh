#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# fcgimux against php-fpm (issue 23 part 4): nginx -> php-fpm against nginx -> fcgimux -> php-cgi,
# the same PHP scripts, in three phases: steady throughput (pm = static), a burst on an idle pool
# (pm = ondemand and dynamic against fcgimux's scaler) and overload (far more clients than capacity).
# See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/peers.sh [-d SECONDS] [-r REPEATS] [-c CONNS] [-w N] [-b CLIENTS] [-o CLIENTS] [-Q LIMIT] [-i IDLE] [-p PHASES]
  -d  wrk duration of every run (default 10)
  -r  repeat every phase's setups this many times (default 3), each repeat in a rotated order;
      the summary takes the median
  -c  wrk connections of the throughput phase (default 64; 2 threads)
  -w  N: php-fpm children and fcgimux php-cgi workers (default 8); the burst's and overload's maximum
  -b  clients of the burst (default 200)
  -o  clients of the overload phase (default 2000)
  -Q  fcgimux --queue-limit in the overload phase (default 64)
  -i  seconds the pool sits idle before a burst (default 4)
  -p  comma-separated subset of: throughput,burst,overload (default: all three)
Pages: hello.php (echo) and work.php (about 1 ms of CPU: as many md5 calls as took 1 ms in a
  calibration by php-cgi at the start).
nginx keepalive: N for php-fpm (one per child: a kept connection holds a child), CONNS for fcgimux.
Environment: BUILD_DIR (default build-bench, else build), NGINX_WORKERS (default 1), KEEP_TMP=1,
  BENCH_NICE=-10 (run everything at that nice level; root only).
EOF
}

duration=10 repeats=3 conns=64 workers=8 burst_clients=200 over_clients=2000 queue_limit=64 idle=4
phases="throughput,burst,overload"
while getopts "d:r:c:w:b:o:Q:i:p:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; r) repeats=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;;
    b) burst_clients=$OPTARG ;; o) over_clients=$OPTARG ;; Q) queue_limit=$OPTARG ;; i) idle=$OPTARG ;;
    p) phases=$OPTARG ;; h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done

php_fpm=$(command -v php-fpm8.2 || command -v php-fpm || true)
need_tools wrk nginx php-cgi python3 curl pgrep
[[ -n $php_fpm ]] || die "php-fpm not found (scripts/deps.sh bench installs it)"
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
[[ -x $fcgimux ]] || die "build fcgimux first (looked in $build)"
if pgrep -f "^php-fpm: master" >/dev/null; then
  log "warning: a php-fpm is already running (pids $(pgrep -d, -f '^php-fpm: master')); it competes for the CPU"
fi

IFS=, read -r -a phase_list <<<"$phases"
has_phase() { [[ ,$phases, == *,$1,* ]]; }
ulimit -n 65536 2>/dev/null || true
bench_init
# Every run: start-up (<20 s) + idle + run + probe tail and stop (<30 s).
arm_watchdog $((repeats * 13 * (duration + idle + 50) + 60))

www="$BENCH_TMP/www"
mkdir -p "$www"
printf '<?php echo "hello\\n";\n' >"$www/hello.php"
# Busy, not asleep, and the same work in every request of every setup: a loop until 1 ms of wall
# time had passed would do less work in a worker that is preempted more, and reward the setup that
# schedules worse. The count is calibrated once per run: the fastest of 5 timed runs of php-cgi.
cat >"$BENCH_TMP/calibrate.php" <<'EOF'
<?php $best = INF;
for ($r = 0; $r < 5; $r++) { $x = "x"; $t = hrtime(true); for ($i = 0; $i < 20000; $i++) $x = md5($x); $best = min($best, hrtime(true) - $t); }
echo (int) (20000 * 1e6 / $best), "\n";
EOF
iterations=$(php-cgi -n -q "$BENCH_TMP/calibrate.php")
[[ $iterations =~ ^[0-9]+$ && $iterations -gt 0 ]] || die "could not calibrate work.php ($iterations)"
printf '<?php $x = "x"; for ($i = 0; $i < %d; $i++) $x = md5($x);\necho "work $x\\n";\n' "$iterations" >"$www/work.php"

# start_fpm DIR PM MIN: php-fpm in DIR with one pool of at most $workers children on 127.0.0.1,
# its own pid file, error log and configuration (never the system's); sets BACKEND_ADDR, FPM_MASTER.
start_fpm() {
  local dir=$1 pm=$2 min=$3 user_lines="" root_flag=()
  [[ $(id -u) -eq 0 ]] && { user_lines=$'user = root\ngroup = root'; root_flag=(-R); }
  BACKEND_ADDR="127.0.0.1:$(free_port)"
  cat >"$dir/php-fpm.conf" <<EOF
[global]
pid = $dir/php-fpm.pid
error_log = $dir/php-fpm.log
daemonize = no

[bench]
$user_lines
listen = $BACKEND_ADDR
pm = $pm
pm.max_children = $workers
pm.start_servers = $min
pm.min_spare_servers = $min
pm.max_spare_servers = $workers
; ondemand: an idle child leaves after this long, so the pool is empty again before the burst
pm.process_idle_timeout = 2s
EOF
  # setsid: a session of its own, as a service has (see lib.sh, start_nginx); -y: this file only.
  setsid "$php_fpm" -F -y "$dir/php-fpm.conf" "${root_flag[@]}" >"$dir/backend.log" 2>&1 &
  FPM_MASTER=$!
  track "$FPM_MASTER"
}

# start_mux DIR MIN [FLAGS...]: fcgimux -n MIN -N $workers -- php-cgi on 127.0.0.1; sets
# BACKEND_ADDR and STATS_ADDR. PHP_FCGI_MAX_REQUESTS=0: php-fpm's children are never retired either.
start_mux() {
  local dir=$1 min=$2
  shift 2
  BACKEND_ADDR="127.0.0.1:$(free_port)"
  STATS_ADDR="127.0.0.1:$(free_port)"
  PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS=0 setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$BACKEND_ADDR" \
    --stats "$STATS_ADDR" -n "$min" -N "$workers" "$@" -- php-cgi >"$dir/backend.log" 2>&1 &
  track $!
  wait_for_text "$dir/backend.log" "listening on" 20 || { cat "$dir/backend.log" >&2; die "fcgimux did not start"; }
}

# mux_stats DIR: fcgimux's counters after a run, as one comma-separated field.
mux_stats() {
  curl -s -m 5 "http://$STATS_ADDR/stats" >"$1/stats.json" 2>/dev/null || true
  python3 - "$1/stats.json" <<'PY' || echo "stats=unavailable"
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    r = j["requests"]
    print("spawned=%s,rejected=%s,timed_out=%s,failed=%s,5xx=%s,queue_peak=%s" % (
        j["workers_spawned"], r["rejected"], r["timed_out"], r["failed"], j["responses"]["5xx"], j["queue"]["peak"]))
except Exception:
    print("stats=unavailable")
PY
}

# backend_up SETUP DIR PORT KEEPALIVE [STATUS_PORT]: waits for the backend, starts nginx before it
# and checks both pages once.
backend_up() {
  local setup=$1 dir=$2 port=$3 ka=$4 status_port=${5:-} page
  wait_connectable "$BACKEND_ADDR" 20 || { cat "$dir/backend.log" "$dir"/php-fpm.log >&2 2>/dev/null; die "$setup does not accept"; }
  nginx_conf "$dir" "$port" "$BACKEND_ADDR" "$ka" "$www" "$status_port"
  start_nginx "$dir" "$port"
  for page in hello work; do
    curl -sf -m 10 "http://127.0.0.1:$port/$page.php" >"$dir/check.txt" 2>&1 && grep -q "$page" "$dir/check.txt" ||
      log "check request of $page.php to $setup failed: $(head -c 300 "$dir/check.txt")"
  done
}

results="$BENCH_TMP/results.txt"
: >"$results"

# Throughput: SETUP is PAGE/BACKEND, BACKEND one of fpm, fpm-ka, mux, mux-ka.
run_throughput() {
  local rep=$1 page=${2%%/*} setup=${2#*/}
  local dir="$BENCH_TMP/t$rep-$page-$setup" mark=${#TRACKED_PIDS[@]} ka=0 extra="-" port
  mkdir -p "$dir"
  port=$(free_port)
  case $setup in
    fpm*) start_fpm "$dir" static "$workers"; [[ $setup == *-ka ]] && ka=$workers ;;
    mux*) start_mux "$dir" "$workers"; [[ $setup == *-ka ]] && ka=$conns ;;
  esac
  backend_up "$setup" "$dir" "$port" "$ka"
  local url="http://127.0.0.1:$port/$page.php" i
  for i in $(seq 20); do curl -sf -m 5 -o /dev/null "$url" || break; done
  log "throughput, repeat $rep: $page.php, $setup for ${duration}s"
  start_probe "$dir/probe.txt" "$duration" "http://127.0.0.1:$port/hello.php"
  run_wrk "$dir/wrk.txt" "$conns" "$duration" "$url"
  wait "$PROBE_PID" || true
  [[ $setup == mux* ]] && extra=$(mux_stats "$dir")
  stop_tracked "$mark"
  load_columns "$setup" "$dir/wrk.txt" "$dir/probe.txt"
  echo "T $rep $page $setup $LOAD_COLUMNS $extra" >>"$results"
  sleep 1
}

# Burst: an idle pool (php-fpm ondemand: no child; dynamic and fcgimux: one), then burst_clients at
# once on work.php; pool_watch.py times the pool's growth to N from the burst's first connection.
run_burst() {
  local rep=$1 setup=$2
  local dir="$BENCH_TMP/b$rep-$setup" mark=${#TRACKED_PIDS[@]} watch=() extra="-" port status_port
  mkdir -p "$dir"
  port=$(free_port) status_port=$(free_port)
  case $setup in
    mux) start_mux "$dir" 1; watch=(--stats "$STATS_ADDR") ;;
    fpm-*) start_fpm "$dir" "${setup#fpm-}" 1; watch=(--children "$FPM_MASTER") ;;
  esac
  backend_up "$setup" "$dir" "$port" 0 "$status_port"
  sleep "$idle"  # the idle time is the point here: ondemand's children leave, the pool is at its minimum
  local url="http://127.0.0.1:$port/work.php"
  log "burst, repeat $rep: $setup, $burst_clients clients for ${duration}s"
  python3 "$BENCH_DIR/pool_watch.py" "${watch[@]}" --nginx-status "127.0.0.1:$status_port" --target "$workers" \
    --interval 0.01 --limit $((duration + 30)) -- bash -c '
      python3 "$1/probe.py" --url "$2" --duration "$3" --interval 0.1 --timeout 20 >"$4/probe.txt" 2>&1 &
      wrk -t2 -c"$5" -d"$3"s --timeout 5s -s "$1/wrk_report.lua" "$2" >"$4/wrk.txt" 2>&1
      wait' _ "$BENCH_DIR" "$url" "$duration" "$dir" "$burst_clients" >"$dir/pool.txt" 2>"$dir/timeline.txt" || true
  [[ $setup == mux ]] && extra=$(mux_stats "$dir")
  stop_tracked "$mark"
  load_columns "$setup" "$dir/wrk.txt" "$dir/probe.txt"
  local pool
  pool=$(grep -m1 '^POOL ' "$dir/pool.txt" || echo "POOL")
  pf() { local v; v=$(echo "$pool" | tr ' ' '\n' | sed -n "s/^$1=//p"); echo "${v:--}"; }
  echo "B $rep $setup $(pf start) $(pf reached_ms) $(pf served_ms) $(pf peak) $LOAD_COLUMNS $extra" >>"$results"
  sleep 1
}

# Overload: over_clients on work.php against N static children, or N workers and a queue limit.
run_overload() {
  local rep=$1 setup=$2
  local dir="$BENCH_TMP/o$rep-$setup" mark=${#TRACKED_PIDS[@]} extra="-" port
  mkdir -p "$dir"
  port=$(free_port)
  case $setup in
    fpm) start_fpm "$dir" static "$workers" ;;
    mux) start_mux "$dir" "$workers" --queue-limit "$queue_limit" ;;
  esac
  backend_up "$setup" "$dir" "$port" 0
  log "overload, repeat $rep: $setup, $over_clients clients for ${duration}s"
  start_probe "$dir/probe.txt" "$duration" "http://127.0.0.1:$port/hello.php"
  run_wrk "$dir/wrk.txt" "$over_clients" "$duration" "http://127.0.0.1:$port/work.php"
  wait "$PROBE_PID" || true
  [[ $setup == mux ]] && extra=$(mux_stats "$dir")
  stop_tracked "$mark"
  load_columns "$setup" "$dir/wrk.txt" "$dir/probe.txt"
  echo "O $rep $setup $LOAD_COLUMNS $extra" >>"$results"
  sleep 1
}

has_phase throughput && run_rotated "$repeats" run_throughput \
  hello/fpm hello/mux hello/fpm-ka hello/mux-ka work/fpm work/mux work/fpm-ka work/mux-ka
has_phase burst && run_rotated "$repeats" run_burst mux fpm-ondemand fpm-dynamic
has_phase overload && run_rotated "$repeats" run_overload mux fpm

echo
echo "peers.sh: nginx ($NGINX_WORKERS worker) -> php-fpm ($($php_fpm -v | head -1 | cut -d' ' -f1-2)) or fcgimux -> php-cgi, N=$workers, TCP 127.0.0.1, wrk -t2 --timeout 5s, -d${duration}s, $repeats repeats"
echo "work.php: $iterations md5 calls (1 ms when calibrated). throughput: -c$conns, php-fpm pm=static; keepalive $workers (php-fpm) / $conns (fcgimux). burst: $burst_clients clients on work.php after ${idle}s idle, pool 1 (ondemand 0) to $workers. overload: $over_clients clients on work.php, fcgimux --queue-limit $queue_limit"
machine_line
# With autogroup the kernel shares the CPUs among sessions first: php-fpm's children share one,
# each fcgimux worker has its own (docs/performance.md, "fcgimux against php-fpm").
echo "kernel.sched_autogroup_enabled: $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo -)"
python3 "$BENCH_DIR/peers_report.py" "$results" "$workers"
