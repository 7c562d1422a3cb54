#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# nginx -> FastCGI throughput and tail latency, direct spawn-fcgi pool versus fcgimux, each with and
# without nginx upstream keep-alive (issue 3). See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/proxy.sh [-d SECONDS] [-r REPEATS] [-c CONNS] [-w WORKERS] [-k KEEPALIVE] [-K KEEPALIVE] [-q QUERY] [-t unix|tcp] [-s SETUPS]
  -d  wrk duration per setup (default 15)
  -r  repeat the four setups this many times (default 1), each repeat in a rotated order;
      the summary takes the median
  -c  wrk connections (default 64; 2 threads)
  -w  FastCGI workers in both pools (default 8)
  -k  nginx 'keepalive' for direct + keepalive (default 8, one per worker: each kept connection
      holds a worker, so more only makes nginx wait on connections no worker will take)
  -K  nginx 'keepalive' for fcgimux + keepalive (default: CONNS, so that nginx never closes a
      connection it will want again; an idle connection never holds a fcgimux worker)
  -q  query string of the benchmarked URL, e.g. sleep_ms=1 (default: none, the demo answers at once)
  -t  socket between nginx and the backend: tcp (default, 127.0.0.1: fcgimux's default listener
      and the usual fastcgi_pass 127.0.0.1:9000) or unix
  -s  comma-separated subset of: direct,direct-ka,fcgimux,fcgimux-ka,nostats,nostats-ka,normal,normal-ka,
      accesslog,accesslog-ka
      (default: the first four; nostats = fcgimux with --stats off, for the cost of the stats;
      normal = fcgimux with --worker-sched normal, for what SCHED_BATCH workers change;
      accesslog = fcgimux with --access-log to a file (default format), for the cost of the access log)
Environment: BUILD_DIR (default build-bench, else build), NGINX_WORKERS (default 1), KEEP_TMP=1,
  BENCH_NICE=-10 (run everything at that nice level; root only).
EOF
}

duration=15 repeats=1 conns=64 workers=8 keepalive=8 mux_keepalive="" query="" transport=tcp
setups="direct,direct-ka,fcgimux,fcgimux-ka"
while getopts "d:r:c:w:k:K:q:t:s:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; r) repeats=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;;
    k) keepalive=$OPTARG ;; K) mux_keepalive=$OPTARG ;; q) query=$OPTARG ;; t) transport=$OPTARG ;; s) setups=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
[[ $transport == unix || $transport == tcp ]] || die "-t must be unix or tcp"
mux_keepalive=${mux_keepalive:-$conns}

need_tools wrk nginx spawn-fcgi python3 curl pgrep
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
demo="$build/src/demo/fcgimux-demo"
[[ -x $fcgimux && -x $demo ]] || die "build fcgimux and fcgimux-demo first (looked in $build)"

IFS=, read -r -a setup_list <<<"$setups"
ulimit -n 65536 2>/dev/null || true
bench_init
# Every setup: start-up + warm-up (<15 s) + run + probe tail (<20 s) + stop (<10 s).
arm_watchdog $((repeats * ${#setup_list[@]} * (duration + 60) + 30))

path="/bench"
[[ -n $query ]] && path="/bench?$query"

# start_backend KIND DIR: starts the pool (tracked); sets BACKEND_ADDR, the address nginx should use.
start_backend() {
  local kind=$1 dir=$2 addr
  if [[ $transport == unix ]]; then addr="unix:$dir/backend.sock"; else addr="127.0.0.1:$(free_port)"; fi
  case $kind in
    direct)
      local where=(-s "$dir/backend.sock")
      [[ $transport == tcp ]] && where=(-a 127.0.0.1 -p "${addr##*:}")
      spawn-fcgi "${where[@]}" -F "$workers" -P "$dir/spawn.pid" -- "$demo" >"$dir/backend.log" 2>&1 ||
        { cat "$dir/backend.log" >&2; die "spawn-fcgi failed"; }
      local p
      # spawn-fcgi ends the pid file without a newline: read the last line too.
      while read -r p || [[ -n $p ]]; do [[ -n $p ]] && track "$p"; done <"$dir/spawn.pid"
      ;;
    fcgimux | nostats | normal | accesslog)
      # nostats: the same fcgimux without its stats endpoint, for the cost of the stats (issue 5).
      local stats="off" sched=batch alog=()
      [[ $kind == normal ]] && sched=normal
      # accesslog: the same fcgimux writing an access log line per request to a file.
      [[ $kind == accesslog ]] && alog=(--access-log "$dir/access.log")
      if [[ $kind != nostats ]]; then
        stats="127.0.0.1:$(free_port)"
        echo "$stats" >"$dir/stats.addr"
      fi
      # setsid: its own session, as a service (and each spawn-fcgi worker) has; see start_nginx.
      setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$addr" --stats "$stats" --worker-sched "$sched" "${alog[@]}" -n "$workers" -- "$demo" >"$dir/backend.log" 2>&1 &
      track $!
      wait_for_text "$dir/backend.log" "listening on" 10 || { cat "$dir/backend.log" >&2; die "fcgimux did not start"; }
      ;;
  esac
  wait_connectable "$addr" 10 || die "$kind backend at $addr does not accept"
  BACKEND_ADDR=$addr
}

results="$BENCH_TMP/results.txt"
: >"$results"

run_setup() {
  local rep=$1 setup=$2
  local kind=${setup%-ka} ka=0
  if [[ $setup == *-ka ]]; then [[ $kind == direct ]] && ka=$keepalive || ka=$mux_keepalive; fi
  local dir="$BENCH_TMP/r$rep-$setup"
  mkdir -p "$dir"
  local mark=${#TRACKED_PIDS[@]}
  local backend port
  start_backend "$kind" "$dir"
  backend=$BACKEND_ADDR
  local backend_pids=("${TRACKED_PIDS[@]:mark}")
  port=$(free_port)
  nginx_conf "$dir" "$port" "$backend" "$ka"
  local nginx_mark=${#TRACKED_PIDS[@]}
  start_nginx "$dir" "$port"
  local nginx_pids=("${TRACKED_PIDS[@]:nginx_mark}")
  local url="http://127.0.0.1:$port$path" i
  for i in $(seq 20); do
    curl -sf -m 5 -o /dev/null "$url" || { log "warm-up request to $setup failed"; break; }
  done

  log "repeat $rep: $setup for ${duration}s"
  start_probe "$dir/probe.txt" "$duration" "http://127.0.0.1:$port/probe"
  local n0 b0 n1 b1 s0 s1 m0="" m1=""
  # fcgimux's own CPU, without its workers: how far its one event loop can go.
  [[ $kind != direct ]] && m0=$(own_cpu_ticks "${backend_pids[0]}")
  n0=$(cpu_ticks "${nginx_pids[@]}") b0=$(cpu_ticks "${backend_pids[@]}")
  read -r -a s0 <<<"$(ctx_switches "${backend_pids[@]}")"
  run_wrk "$dir/wrk.txt" "$conns" "$duration" "$url"
  n1=$(cpu_ticks "${nginx_pids[@]}") b1=$(cpu_ticks "${backend_pids[@]}")
  [[ -n $m0 ]] && m1=$(own_cpu_ticks "${backend_pids[0]}")
  read -r -a s1 <<<"$(ctx_switches "${backend_pids[@]}")"
  wait "$PROBE_PID" || true
  local requests cpu_cols
  requests=$(wrk_field requests "$dir/wrk.txt")
  cpu_cols="$(us_per_request $((n1 - n0)) "$requests") $(us_per_request $((b1 - b0)) "$requests")"
  cpu_cols+=" $(per_request $((s1[0] - s0[0])) "$requests") $(per_request $((s1[1] - s0[1])) "$requests")"
  if [[ -n $m0 ]]; then cpu_cols+=" $(us_per_request $((m1 - m0)) "$requests")"; else cpu_cols+=" -"; fi
  local extra=""
  if [[ -f $dir/stats.addr ]]; then
    curl -s -m 5 "http://$(cat "$dir/stats.addr")/stats" >"$dir/stats.json" 2>/dev/null || true
    extra=$(python3 - "$dir/stats.json" <<'PY' || true
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    r = j["requests"]
    print("failed=%s rejected=%s timed_out=%s 5xx=%s crashed=%s queue_peak=%s" % (
        r["failed"], r["rejected"], r["timed_out"], j["responses"]["5xx"], j["workers_crashed"], j["queue"]["peak"]))
except Exception:
    print("stats=unavailable")
PY
)
  fi
  stop_tracked "$mark"
  [[ $kind == direct ]] && rm -f "$dir/backend.sock"
  if [[ $kind == accesslog ]]; then
    # After the stop: fcgimux writes every queued line before it exits. Lines = every request it
    # answered (warm-up and probe included); dropped = lines the writer could not keep up with.
    local lines dropped
    lines=$(wc -l <"$dir/access.log" 2>/dev/null || echo 0)
    dropped=$(sed -n 's/.* \([0-9]*\) lines dropped.*/\1/p' "$dir/backend.log" | awk '{s += $1} END {print s + 0}')
    extra+="${extra:+ }access_log_lines=$lines dropped=$dropped"
  fi

  load_columns "$setup" "$dir/wrk.txt" "$dir/probe.txt"
  printf '%s %s %s %s %s\n' "$rep" "$setup" "$LOAD_COLUMNS" "$cpu_cols" "${extra// /,}" >>"$results"
  sleep 1
}

run_rotated "$repeats" run_setup "${setup_list[@]}"

echo
echo "proxy.sh: nginx ($NGINX_WORKERS worker) -> FastCGI, $workers fcgimux-demo workers, wrk -t2 -c$conns -d${duration}s --timeout 5s, URL $path, $transport socket, keepalive $keepalive (direct) $mux_keepalive (fcgimux)"
echo "cpu us/req: CPU time of nginx + of the backend (spawn-fcgi's workers, or fcgimux and its workers) per request wrk counted"
echo "switches/req: the backend's sleeps / preemptions (voluntary / involuntary context switches) per request"
echo "fcgimux us/req: fcgimux's own CPU time per request, without its workers (the figure that says how far one event loop goes)"
machine_line
python3 - "$results" "$keepalive" "$mux_keepalive" <<'EOF'
import statistics, sys
rows = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 17:
        continue
    num = lambda s: float(s) if s not in ("", "-") else float("nan")
    rows.append(dict(rep=int(f[0]), setup=f[1], rps=num(f[2]), p50=num(f[3]) / 1000, p99=num(f[4]) / 1000,
                     max=num(f[5]) / 1000, non2xx=num(f[6]), sockerr=num(f[7]), timeouts=num(f[8]),
                     probe_max=num(f[9]), probe_p99=num(f[10]), probe_bad=num(f[11]),
                     cpu_nginx=num(f[12]), cpu_backend=num(f[13]), sleeps=num(f[14]), preempts=num(f[15]),
                     cpu_self=num(f[16]), extra=f[17] if len(f) > 17 else ""))
names = {"direct": "direct (spawn-fcgi)", "direct-ka": f"direct + keepalive {sys.argv[2]}",
         "fcgimux": "fcgimux", "fcgimux-ka": f"fcgimux + keepalive {sys.argv[3]}",
         "nostats": "fcgimux, stats off", "nostats-ka": f"fcgimux, stats off + ka {sys.argv[3]}",
         "normal": "fcgimux, sched normal", "normal-ka": f"fcgimux, sched normal + ka {sys.argv[3]}",
         "accesslog": "fcgimux, access log", "accesslog-ka": f"fcgimux, access log + ka {sys.argv[3]}"}
hdr = f"{'run':>3} {'setup':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non2xx':>6} {'sockerr':>7} {'timeouts':>8} {'probe max':>9} {'probe p99':>9} {'probe bad':>9} {'cpu us/req':>16} {'switches/req':>12} {'fcgimux us/req':>14}"
def line(run, r):
    g = lambda k, fmt: ("-" if r[k] != r[k] else format(r[k], fmt))
    return (f"{run:>3} {names.get(r['setup'], r['setup']):<24} {g('rps', '.0f'):>9} {g('p50', '.1f'):>8} {g('p99', '.1f'):>8} "
            f"{g('max', '.1f'):>8} {g('non2xx', '.0f'):>6} {g('sockerr', '.0f'):>7} {g('timeouts', '.0f'):>8} "
            f"{g('probe_max', '.1f'):>9} {g('probe_p99', '.1f'):>9} {g('probe_bad', '.0f'):>9} "
            f"{g('cpu_nginx', '.1f'):>7} + {g('cpu_backend', '.1f'):>6} {g('sleeps', '.2f'):>5} / {g('preempts', '.2f'):>4}"
            f" {g('cpu_self', '.1f'):>14}")
print(hdr)
for r in rows:
    print(line(str(r["rep"]), r))
    if r["extra"]:
        print(f"{'':>3}   fcgimux: {r['extra'].replace(',', ' ')}")
order = [s for s in names if any(r["setup"] == s for r in rows)]
med = {}
for s in order:
    rs = [r for r in rows if r["setup"] == s]
    m = {"setup": s}
    for k in ("rps", "p50", "p99", "max", "probe_max", "probe_p99", "cpu_nginx", "cpu_backend", "sleeps", "preempts",
              "cpu_self"):
        m[k] = statistics.median([r[k] for r in rs])
    for k in ("non2xx", "sockerr", "timeouts", "probe_bad"):
        m[k] = sum(r[k] for r in rs)  # totals over all repeats
    med[s] = m
if max(r["rep"] for r in rows) > 1:
    print("median over runs (error columns: totals)")
    for s in order:
        print(line("med", med[s]))
print()
def ratio(a, b, goal, op):
    if a not in med or b not in med:
        return
    per = [x["rps"] / y["rps"] for x in rows if x["setup"] == a for y in rows if y["setup"] == b and y["rep"] == x["rep"]]
    r = med[a]["rps"] / med[b]["rps"]
    verdict = "" if goal is None else f"; goal >= {goal}x: {'PASS' if r >= goal else 'FAIL'}"
    print(f"{names[a]} / {names[b]} req/s: {r:.2f}x (per run: {', '.join(f'{p:.2f}' for p in per)}{verdict})")
ratio("fcgimux-ka", "direct", 1.1, ">=")
ratio("fcgimux", "direct", 0.8, ">=")
ratio("normal", "direct", None, None)
ratio("fcgimux", "normal", None, None)
# Stats cost: stats on must stay within 3% of stats off (issue 5).
ratio("fcgimux-ka", "nostats-ka", 0.97, ">=")
# Access log cost: a line per request to a file, written by fcgimux's writer thread (issue 16).
ratio("accesslog-ka", "fcgimux-ka", 0.97, ">=")
ratio("accesslog", "fcgimux", 0.97, ">=")
if "fcgimux-ka" in med:
    rs = [r for r in rows if r["setup"] == "fcgimux-ka"]
    bad = sum(r["non2xx"] + r["sockerr"] + r["timeouts"] + r["probe_bad"] for r in rs)
    worst_p99 = max(r["p99"] for r in rs)
    print(f"fcgimux + keepalive: errors+timeouts over all runs {bad:.0f} (goal 0: {'PASS' if bad == 0 else 'FAIL'}); "
          f"worst wrk p99 {worst_p99:.1f} ms (goal < 30 ms: {'PASS' if worst_p99 < 30 else 'FAIL'})")
EOF
