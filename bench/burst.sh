#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A burst after idle (issue 4): 32 clients suddenly sending 20 ms PHP requests to a pool of minimum 2,
# maximum 16. nginx -> fcgimux -n 2 -N 16 -- php-cgi versus nginx -> php-fpm (pm=dynamic and
# pm=ondemand). See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/burst.sh [-d SECONDS] [-r REPEATS] [-c CLIENTS] [-m MIN] [-M MAX] [-u USLEEP] [-i IDLE] [-s SETUPS] [-- FCGIMUX_FLAGS...]
  -d  burst length, wrk -d (default 5)
  -r  repeat every setup this many times (default 1), each repeat in a rotated order;
      the summary takes the median
  -c  clients, wrk -c (default 32)
  -m  pool minimum (default 2)      -M  pool maximum (default 16)
  -u  microseconds each request sleeps in PHP (default 20000)
  -i  seconds the pool sits idle before the burst (default 4)
  -s  comma-separated subset of: fcgimux,fpm-dynamic,fpm-ondemand (default: all three)
  -p  worker program fcgimux runs (default php-cgi); e.g. -p "\$BUILD/src/demo/fcgimux-demo" with
      -q sleep_ms=20 separates fcgimux's own behaviour from php-cgi's start-up cost
  -q  query string added to the burst URL (default none)
  -t  pool sampling interval in ms (default 10)
Anything after -- is passed to fcgimux.
Environment: BUILD_DIR (default build-bench, else build), NGINX_WORKERS (default 1), KEEP_TMP=1,
  BENCH_NICE=-10 (run everything at that nice level; root only).
EOF
}

duration=5 repeats=1 clients=32 pool_min=2 pool_max=16 usleep_us=20000 idle=4
setups="fcgimux,fpm-dynamic,fpm-ondemand" worker_prog=php-cgi query="" interval_ms=10
while getopts "d:r:c:m:M:u:i:s:p:q:t:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; r) repeats=$OPTARG ;; c) clients=$OPTARG ;; m) pool_min=$OPTARG ;;
    M) pool_max=$OPTARG ;; u) usleep_us=$OPTARG ;; i) idle=$OPTARG ;; s) setups=$OPTARG ;;
    p) worker_prog=$OPTARG ;; q) query=$OPTARG ;; t) interval_ms=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
fcgimux_flags=("$@")
read -r -a worker_cmd <<<"$worker_prog"

php_fpm=$(command -v php-fpm8.2 || command -v php-fpm || true)
need_tools wrk nginx php-cgi python3 curl
[[ -n $php_fpm ]] || die "php-fpm not found (scripts/deps.sh bench installs it)"
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
[[ -x $fcgimux ]] || die "build fcgimux first (looked in $build)"
# Debian's own php-fpm service would only compete for the CPU; this script runs its own instance.
if pgrep -x "php-fpm8.2" >/dev/null || pgrep -f "^php-fpm: master" >/dev/null; then
  log "warning: a php-fpm is already running (pids $(pgrep -d, -f '^php-fpm')); stop it: service php8.2-fpm stop"
fi
needed=$((clients < pool_max ? clients : pool_max))

IFS=, read -r -a setup_list <<<"$setups"
ulimit -n 65536 2>/dev/null || true
bench_init
arm_watchdog $((repeats * ${#setup_list[@]} * (duration + idle + 60) + 30))

www="$BENCH_TMP/www"
mkdir -p "$www"
printf '<?php usleep(%d); echo "ok\\n";\n' "$usleep_us" >"$www/burst.php"

# fpm_conf DIR PM: a php-fpm configuration with one pool listening on DIR/fpm.sock.
fpm_conf() {
  local dir=$1 pm=$2 user_lines=""
  [[ $(id -u) -eq 0 ]] && user_lines=$'user = root\ngroup = root'
  cat >"$dir/php-fpm.conf" <<EOF
[global]
pid = $dir/php-fpm.pid
error_log = $dir/php-fpm.log
daemonize = no

[bench]
$user_lines
listen = $dir/fpm.sock
pm = $pm
pm.max_children = $pool_max
pm.start_servers = $pool_min
pm.min_spare_servers = $pool_min
pm.max_spare_servers = $pool_max
; ondemand: an idle child leaves after this long, so the pool is empty again before the burst
pm.process_idle_timeout = 2s
EOF
}

results="$BENCH_TMP/results.txt"
: >"$results"

run_setup() {
  local rep=$1 setup=$2
  local dir="$BENCH_TMP/r$rep-$setup"
  mkdir -p "$dir"
  local mark=${#TRACKED_PIDS[@]}
  local backend watch=()
  case $setup in
    fcgimux)
      local stats_port
      stats_port=$(free_port)
      backend="unix:$dir/fcgimux.sock"
      # setsid here and for php-fpm: each a service in a session of its own (see lib.sh, start_nginx).
      PHP_FCGI_CHILDREN=0 setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$backend" --stats "127.0.0.1:$stats_port" \
        -n "$pool_min" -N "$pool_max" "${fcgimux_flags[@]}" -- "${worker_cmd[@]}" >"$dir/backend.log" 2>&1 &
      track $!
      wait_for_text "$dir/backend.log" "listening on" 10 || { cat "$dir/backend.log" >&2; die "fcgimux did not start"; }
      watch=(--stats "127.0.0.1:$stats_port")
      ;;
    fpm-*)
      fpm_conf "$dir" "${setup#fpm-}"
      backend="unix:$dir/fpm.sock"
      local root_flag=()
      [[ $(id -u) -eq 0 ]] && root_flag=(-R)
      setsid "$php_fpm" -F -y "$dir/php-fpm.conf" "${root_flag[@]}" >"$dir/backend.log" 2>&1 &
      local master=$!
      track "$master"
      watch=(--children "$master")
      ;;
  esac
  wait_connectable "$backend" 10 || { cat "$dir/backend.log" "$dir"/php-fpm.log >&2 2>/dev/null; die "$setup does not accept"; }
  local port status_port
  port=$(free_port)
  status_port=$(free_port)
  nginx_conf "$dir" "$port" "$backend" 0 "$www" "$status_port"
  start_nginx "$dir" "$port"
  local url="http://127.0.0.1:$port/burst.php${query:+?$query}"
  if ! { curl -sf -m 10 "$url" >"$dir/check.txt" 2>&1 && grep -qE "ok|hello" "$dir/check.txt"; }; then
    log "check request to $setup failed: $(head -c 300 "$dir/check.txt")"
  fi
  sleep "$idle"

  log "repeat $rep: $setup, burst of $clients clients for ${duration}s"
  # The probe and wrk start together: both are the burst.
  python3 "$BENCH_DIR/pool_watch.py" "${watch[@]}" --nginx-status "127.0.0.1:$status_port" --target "$needed" \
    --interval "$(awk -v v="$interval_ms" 'BEGIN{print v/1000}')" \
    --limit $((duration + 30)) -- bash -c '
      python3 "$1/probe.py" --url "$2" --duration "$3" --interval 0.1 --timeout 20 >"$4/probe.txt" 2>&1 &
      wrk -t2 -c"$5" -d"$3"s --timeout 5s -s "$1/wrk_report.lua" "$2" >"$4/wrk.txt" 2>&1
      wait' _ "$BENCH_DIR" "$url" "$duration" "$dir" "$clients" >"$dir/pool.txt" 2>"$dir/timeline.txt" || true
  if [[ $setup == fcgimux ]]; then
    curl -s -m 5 "http://127.0.0.1:$stats_port/stats" >"$dir/stats.json" 2>/dev/null || true
    python3 - "$dir/stats.json" >"$dir/extra.txt" <<'PY' || true
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    r, l = j["requests"], j["latency_ms"]
    print("spawned=%s failed=%s rejected=%s timed_out=%s 5xx=%s queue_peak=%s queue_p99_ms=%s service_p99_ms=%s" % (
        j["workers_spawned"], r["failed"], r["rejected"], r["timed_out"], j["responses"]["5xx"], j["queue"]["peak"],
        l["queue"]["p99"], l["service"]["p99"]))
except Exception:
    print("stats=unavailable")
PY
  fi
  stop_tracked "$mark"

  load_columns "$setup" "$dir/wrk.txt" "$dir/probe.txt"
  local pool
  pool=$(grep -m1 '^POOL ' "$dir/pool.txt" || echo "POOL")
  pf() { echo "$pool" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  printf '%s %s %s %s %s %s %s %s %s\n' "$rep" "$setup" \
    "$(pf start)" "$(pf reached_ms)" "$(pf served_ms)" "$(pf peak)" "$LOAD_COLUMNS" \
    "$(pf launch_ms)" "$(cat "$dir/extra.txt" 2>/dev/null | tr ' ' , || true)" >>"$results"
  {
    echo "== run $rep $setup: pool size over time (ms from burst start)"
    cat "$dir/timeline.txt"
  } >>"$BENCH_TMP/timelines.txt"
  sleep 1
}

run_rotated "$repeats" run_setup "${setup_list[@]}"

if [[ -n ${SHOW_TIMELINE:-} ]]; then cat "$BENCH_TMP/timelines.txt"; fi
echo
echo "burst.sh: nginx ($NGINX_WORKERS worker, no upstream keepalive) -> pool min $pool_min max $pool_max; fcgimux runs '$worker_prog'; PHP usleep($usleep_us); query '${query}'; idle ${idle}s, then wrk -t2 -c$clients -d${duration}s --timeout 5s; pool sampled every $interval_ms ms; needed size $needed"
machine_line
python3 - "$results" "$needed" "$(basename "${worker_cmd[0]}")" <<'EOF'
import statistics, sys
needed = sys.argv[2]
rows = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 17:
        continue
    num = lambda s: float(s) if s not in ("", "-") else float("nan")
    rows.append(dict(rep=f[0], setup=f[1], start=num(f[2]), reached=num(f[3]), served=num(f[4]), peak=num(f[5]),
                     rps=num(f[6]), p50=num(f[7]) / 1000, p99=num(f[8]) / 1000, max=num(f[9]) / 1000,
                     non2xx=num(f[10]), sockerr=num(f[11]), timeouts=num(f[12]),
                     probe_max=num(f[13]), probe_p99=num(f[14]), probe_bad=num(f[15]), launch=num(f[16]),
                     extra=f[17] if len(f) > 17 else ""))
names = {"fcgimux": "fcgimux + " + sys.argv[3], "fpm-dynamic": "php-fpm dynamic", "fpm-ondemand": "php-fpm ondemand"}
hdr = (f"{'run':>3} {'setup':<22} {'start':>5} {'to ' + needed + ' ms':>9} {'serving ms':>10} {'peak':>4} {'req/s':>7} "
       f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'non2xx':>6} {'sockerr':>7} {'timeouts':>8} {'probe max':>9} {'probe p99':>9} {'probe bad':>9}")
def line(run, r):
    g = lambda k, fmt: (">run" if k in ("reached", "served") and r[k] != r[k] else "-" if r[k] != r[k] else format(r[k], fmt))
    return (f"{run:>3} {names.get(r['setup'], r['setup']):<22} {g('start', '.0f'):>5} {g('reached', '.1f'):>9} {g('served', '.1f'):>10} "
            f"{g('peak', '.0f'):>4} {g('rps', '.0f'):>7} {g('p50', '.1f'):>7} {g('p99', '.1f'):>7} {g('max', '.1f'):>7} "
            f"{g('non2xx', '.0f'):>6} {g('sockerr', '.0f'):>7} {g('timeouts', '.0f'):>8} {g('probe_max', '.1f'):>9} "
            f"{g('probe_p99', '.1f'):>9} {g('probe_bad', '.0f'):>9}")
print(hdr)
for r in rows:
    print(line(r["rep"], r))
    if r["extra"]:
        print(f"{'':>3}   fcgimux stats: {r['extra'].replace(',', ' ')}")
order = [s for s in names if any(r["setup"] == s for r in rows)]
def med(s, k):
    vals = [r[k] for r in rows if r["setup"] == s]
    # a run that never reached the size counts as infinitely slow
    vals = [float("inf") if v != v else v for v in vals]
    return statistics.median(vals)
multi = len({r["rep"] for r in rows}) > 1
if multi:
    print("median over runs:")
    for s in order:
        m = {k: med(s, k) for k in ("start", "reached", "served", "peak", "rps", "p50", "p99", "max", "probe_max", "probe_p99")}
        for k in ("non2xx", "sockerr", "timeouts", "probe_bad"):
            m[k] = sum(r[k] for r in rows if r["setup"] == s)
        m["setup"] = s
        for k in ("reached", "served"):
            if m[k] == float("inf"):
                m[k] = float("nan")
        print(line("med", m))
launch = [r["launch"] for r in rows]
print(f"('to {needed} ms': from the burst's first connection at nginx until the pool counted {needed} processes;"
      f" 'serving ms': until {needed} workers had each completed a request (fcgimux; for php-fpm the same as 'to {needed}',"
      f" a child forked from the warm master serves at once); '>run': not within the run; resolution: the sampling interval."
      f" wrk took {min(launch):.0f}-{max(launch):.0f} ms to start, excluded.)")
print()
if "fcgimux" in order:
    reached = med("fcgimux", "reached")
    ok = reached <= 100
    print(f"fcgimux reached {needed} workers {reached:.1f} ms after the burst started (goal <= 100 ms: {'PASS' if ok else 'FAIL'});"
          f" {needed} had served a request after {med('fcgimux', 'served'):.1f} ms")
for other in ("fpm-dynamic", "fpm-ondemand"):
    if "fcgimux" in order and other in order:
        a, b = med("fcgimux", "p99"), med(other, "p99")
        verdict = ""
        if other == "fpm-dynamic":
            verdict = f" (goal <= 0.5: {'PASS' if a <= 0.5 * b else 'FAIL'})"
        print(f"burst p99: fcgimux {a:.1f} ms / {names[other]} {b:.1f} ms = {a / b:.2f}{verdict}")
EOF
