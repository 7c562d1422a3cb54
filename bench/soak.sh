#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A bounded soak test (issue 13): a million requests through nginx (keep-alive upstream) to fcgimux
# with php-cgi workers that recycle every 500 requests, one worker SIGKILLed every 5 s, a mix of
# small and large GETs and POSTs (uploads above --body-buffer stream to the worker). Passes when no
# more requests fail than workers were killed (only a killed worker's one request in flight may
# fail) and fcgimux's RSS and descriptors end where they were after the warm-up. Helpers:
# bench/soak_wrk.lua (the load and its accounting), bench/soak_watch.py (sampler and worker killer).
set -euo pipefail

# The exact command line (with the environment the bench scripts read), for the report's header.
cmdline="$(printf '%q ' "$0" "$@")"
cmdline=${cmdline% }
for v in KEEP_TMP BENCH_NICE NGINX_WORKERS BUILD_DIR; do
  [[ -n ${!v:-} ]] && cmdline="$v=$(printf '%q' "${!v}") $cmdline"
done

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/soak.sh [-n REQUESTS] [-d SECONDS] [-c CONNS] [-w WORKERS] [-k SECONDS] [-i SECONDS] [-u SECONDS] [-b BYTES] [-m N] [-K KEEPALIVE] [-t tcp|unix] [-- FCGIMUX_FLAGS...]
  -n  answers to collect (default 1000000; 0: run for -d seconds)
  -d  longest load phase in seconds (default 1800): the load stops at -n answers or -d, whichever
      comes first
  -c  wrk connections (default 32; 2 threads)
  -w  php-cgi workers, fcgimux -n (default 8)
  -k  SIGKILL a random worker every this many seconds (default 5; 0: never)
  -i  sample fcgimux's RSS, descriptors and pool every this many seconds (default 5)
  -u  warm-up in seconds: the flatness verdicts compare the end with the first sample after it (default 30)
  -b  fcgimux --body-buffer (default 1048576); the large uploads are 1 byte and 1 MiB above it
  -m  PHP_FCGI_MAX_REQUESTS: a php-cgi worker exits after this many requests (default 500)
  -K  nginx upstream 'keepalive' (default 64)
  -t  socket between nginx and fcgimux: tcp (default, 127.0.0.1) or unix (in the temp directory)
Anything after -- is passed to fcgimux.
Environment: BUILD_DIR (default build-bench, else build), NGINX_WORKERS (default 1), KEEP_TMP=1,
  BENCH_NICE=-10 (run everything at that nice level; root only).
EOF
}

requests=1000000 duration=1800 conns=32 workers=8 kill_every=5 interval=5 warmup=30
body_buffer=1048576 max_requests=500 keepalive=64 transport=tcp
while getopts "n:d:c:w:k:i:u:b:m:K:t:h" opt; do
  case $opt in
    n) requests=$OPTARG ;; d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) workers=$OPTARG ;;
    k) kill_every=$OPTARG ;; i) interval=$OPTARG ;; u) warmup=$OPTARG ;; b) body_buffer=$OPTARG ;;
    m) max_requests=$OPTARG ;; K) keepalive=$OPTARG ;; t) transport=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
fcgimux_flags=("$@")
[[ $transport == unix || $transport == tcp ]] || die "-t must be unix or tcp"
((requests > 0 || duration > 0)) || die "-n 0 needs -d"

need_tools wrk nginx php-cgi python3 curl pgrep
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
[[ -x $fcgimux ]] || die "build fcgimux first (looked in $build)"
php_cgi=$(command -v php-cgi)

threads=2
((conns >= threads)) || die "-c must be at least $threads"
# Each wrk thread collects its share of the answers; 0 means "until the deadline".
if ((requests > 0)); then quota=$(((requests + threads - 1) / threads)); else quota=1000000000000; fi

ulimit -n 65536 2>/dev/null || true
bench_init
# The load phase (-d at most), start-up, the drain (30 s at most), the report; everything started
# here is stopped by the EXIT trap when the watchdog fires.
arm_watchdog $((duration + 300))
started=$SECONDS

dir=$BENCH_TMP
www="$dir/www"
mkdir -p "$www"

# The application: GET ?bytes=N answers N bytes of a fixed pattern (and says N in a header); POST
# answers the length and CRC-32 of the body it read, so the client can tell a whole upload from a
# cut one without echoing megabytes back.
cat >"$www/soak.php" <<'EOF'
<?php
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $body = file_get_contents('php://input');
    header('Content-Type: text/plain');
    printf("len=%d crc=%08x\n", strlen($body), crc32($body));
    return;
}
$n = max(0, (int)($_GET['bytes'] ?? 0));
header('Content-Type: application/octet-stream');
header('X-Soak-Bytes: ' . $n);
$chunk = str_repeat('0123456789abcdef', 4096);  // 64 KiB
for (; $n >= 65536; $n -= 65536) echo $chunk;
echo substr($chunk, 0, $n);
EOF

# The request mix (bench/soak_wrk.lua reads it): "get BYTES WEIGHT" and "post BYTES WEIGHT CRC FILE",
# weights per 1000 requests. Mostly small: 70% GETs of up to 30 KB, 28.5% POSTs of up to 100 KB
# (below --body-buffer: fcgimux holds them whole before a worker is taken); 1% GETs answered with
# 1 MiB; 0.5% POSTs just above --body-buffer and 1 MiB above it, which fcgimux streams to the worker.
# Upload bodies are random bytes (fixed seed), so a lost or repeated chunk changes the CRC.
python3 - "$dir" "$body_buffer" >"$dir/manifest.txt" <<'EOF'
import random, sys, zlib
d, bb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(13)
print(f"body_buffer {bb}")
for size, weight in ((16, 300), (1000, 200), (8000, 120), (30000, 80), (1048576, 10)):
    print(f"get {size} {weight}")
for size, weight in ((100, 100), (1500, 80), (20000, 60), (100000, 45), (bb + 1, 2), (bb + 1048576, 3)):
    data = rnd.randbytes(size)
    path = f"{d}/body_{size}.bin"
    open(path, "wb").write(data)
    print(f"post {size} {weight} {zlib.crc32(data):08x} {path}")
EOF

# --- fcgimux and nginx ---------------------------------------------------------------------------
stats_addr="127.0.0.1:$(free_port)"
if [[ $transport == unix ]]; then backend="unix:$dir/fcgimux.sock"; else backend="127.0.0.1:$(free_port)"; fi
# PHP_FCGI_CHILDREN=0: each php-cgi is one process serving its socket (fcgimux is the manager);
# PHP_FCGI_MAX_REQUESTS: it exits after that many requests, so the pool recycles all the time.
# setsid: its own session, as a service has (see lib.sh, start_nginx).
PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS=$max_requests setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$backend" \
  --stats "$stats_addr" -n "$workers" --body-buffer "$body_buffer" "${fcgimux_flags[@]}" -- "$php_cgi" \
  >"$dir/fcgimux.log" 2>&1 &
fcgimux_pid=$!
track "$fcgimux_pid"
wait_for_text "$dir/fcgimux.log" "listening on" 10 || { cat "$dir/fcgimux.log" >&2; die "fcgimux did not start"; }
wait_connectable "$backend" 10 || die "fcgimux at $backend does not accept"

port=$(free_port)
nginx_conf "$dir" "$port" "$backend" "$keepalive" "$www"
# The uploads are up to 2 MiB (nginx refuses more than 1m by default); the bodies and the 1 MiB
# answers are held in memory rather than in temp files, so that nginx's error log does not get a
# "buffered to a temporary file" warning per large request and shows only what went wrong.
sed -i 's|^  access_log off;$|&\n  client_max_body_size 16m;\n  client_body_buffer_size 4m;\n  fastcgi_buffers 64 32k;|' "$dir/nginx.conf"
grep -q client_max_body_size "$dir/nginx.conf" || die "could not extend nginx.conf (lib.sh's nginx_conf changed?)"
start_nginx "$dir" "$port"
nginx_pid=${TRACKED_PIDS[-1]}
url="http://127.0.0.1:$port"

# One request of each kind before the load, checked like soak_wrk.lua checks them.
check=$(curl -sf -m 10 "$url/soak.php?bytes=20") || die "check GET failed: $(tail -3 "$dir/nginx-error.log")"
[[ $check == 0123456789abcdef0123 ]] || die "check GET answered '$check'"
read -r _ size _ crc file < <(grep -m1 '^post 1500 ' "$dir/manifest.txt")
check=$(curl -sf -m 10 -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$url/soak.php") ||
  die "check POST failed: $(tail -3 "$dir/nginx-error.log")"
[[ $check == "len=$size crc=$crc" ]] || die "check POST answered '$check', expected 'len=$size crc=$crc'"

# --- the load --------------------------------------------------------------------------------------
t0=$(date +%s.%N)
deadline=$(($(date +%s) + duration))
log "fcgimux pid $fcgimux_pid ($backend, stats $stats_addr), nginx pid $nginx_pid on $url; load until $requests answers or ${duration}s"

python3 "$BENCH_DIR/soak_watch.py" --pid "$fcgimux_pid" --stats "$stats_addr" --interval "$interval" \
  --kill-every "$kill_every" --samples "$dir/samples.jsonl" --kills "$dir/kills.jsonl" \
  --limit $((duration + 60)) --t0 "$t0" &
watch_pid=$!
track "$watch_pid"

: >"$dir/done.txt"
# -d is only a backstop: soak_wrk.lua stops sending at its quota or the deadline, and this script
# ends wrk with SIGINT once the requests in flight are answered.
wrk -t"$threads" -c"$conns" -d"$((duration + 90))s" --timeout 5s -s "$BENCH_DIR/soak_wrk.lua" "$url/soak.php" \
  -- "$dir/manifest.txt" "$quota" "$deadline" "$dir/done.txt" "$dir/bad.txt" >"$dir/wrk.txt" 2>&1 &
wrk_pid=$!
track "$wrk_pid"

until (($(wc -l <"$dir/done.txt") >= threads)); do
  alive "$wrk_pid" || { log "wrk ended before its threads stopped:"; cat "$dir/wrk.txt" >&2; break; }
  alive "$fcgimux_pid" || { log "fcgimux exited during the load"; break; }
  sleep 0.2
done
load_end=$(date +%s.%N)
load_secs=$(awk -v a="$t0" -v b="$load_end" 'BEGIN{printf "%.1f", b - a}')

# No more kills: the drain and the final samples see the pool settle.
kill -TERM "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true

# The drain: what is still in flight must finish; a request fcgimux still holds after 30 s is hung
# and stays unanswered (soak_wrk.lua counts it as failed).
drain_start=$SECONDS active="?"
while ((SECONDS - drain_start < 30)); do
  active=$(curl -s -m 2 "http://$stats_addr/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["active"])' 2>/dev/null || echo "?")
  [[ $active == 0 ]] && break
  sleep 0.2
done
drain_secs=$((SECONDS - drain_start))
sleep 1  # nginx passes the last answers on
kill -INT "$wrk_pid" 2>/dev/null || true
for _ in $(seq 100); do alive "$wrk_pid" || break; sleep 0.1; done
alive "$wrk_pid" && { log "wrk did not end on SIGINT"; kill -KILL "$wrk_pid" 2>/dev/null || true; }
wait "$wrk_pid" 2>/dev/null || true

# After the drain: one more sample and the final counters, with the pool idle.
fcgimux_alive=yes
alive "$fcgimux_pid" || fcgimux_alive=no
sleep 2
python3 "$BENCH_DIR/soak_watch.py" --once --pid "$fcgimux_pid" --stats "$stats_addr" --t0 "$t0" >"$dir/drained.json" || true
curl -s -m 5 "http://$stats_addr/stats" >"$dir/stats.json" 2>/dev/null || true
stop_tracked 0
total_secs=$((SECONDS - started))

# --- the report --------------------------------------------------------------------------------------
echo
echo "soak.sh: $cmdline"
echo "setup: wrk -t$threads -c$conns --timeout 5s -> nginx ($NGINX_WORKERS worker, upstream keepalive $keepalive, fastcgi_keep_conn on) -> $backend fcgimux -n $workers --body-buffer $body_buffer ${fcgimux_flags[*]:+${fcgimux_flags[*]} }-- php-cgi (PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS=$max_requests); SIGKILL a random worker every ${kill_every}s; samples every ${interval}s, warm-up ${warmup}s"
echo "binary: $fcgimux ($("$fcgimux" --version 2>/dev/null || echo "?"))"
machine_line
echo "time: load ${load_secs}s, drain ${drain_secs}s (fcgimux requests.active=$active at its end), whole run ${total_secs}s; fcgimux alive at the end: $fcgimux_alive"
python3 - "$dir" "$requests" "$warmup" "$load_secs" "$active" "$interval" <<'EOF'
import json, re, sys
from collections import Counter
d, target, warmup, load_secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
active_after_drain, interval = sys.argv[5], float(sys.argv[6])

def fields(prefix, path):
    for line in open(path, errors="replace"):
        if line.startswith(prefix + " "):
            return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return {}

def jsonl(path):
    try:
        return [json.loads(l) for l in open(path) if l.strip()]
    except OSError:
        return []

soak, wrk = fields("SOAK", f"{d}/wrk.txt"), fields("WRK", f"{d}/wrk.txt")
if not soak:
    print("wrk printed no SOAK line; its output:")
    print(open(f"{d}/wrk.txt", errors="replace").read()[-3000:])
num = lambda m, k: int(float(m.get(k, 0) or 0))
sent, received, ok = num(soak, "sent"), num(soak, "received"), num(soak, "ok")
non2xx, bad = num(soak, "non2xx"), num(soak, "bad_body")
unanswered = sent - received
connect_err, timeouts = num(wrk, "connect"), num(wrk, "timeout")
failed = non2xx + bad + unanswered + connect_err + timeouts

kill_rows = jsonl(f"{d}/kills.jsonl")
kills = [k for k in kill_rows if k.get("killed")]
kill_states = Counter(k.get("state") for k in kills)
samples = jsonl(f"{d}/samples.jsonl")
try:
    drained = json.load(open(f"{d}/drained.json"))
except Exception:
    drained = {}
try:
    st = json.load(open(f"{d}/stats.json"))
except Exception:
    st = None

print()
print(f"requests: {received} answered of {sent} sent (target {target or 'none'}), "
      f"{received / load_secs:.0f} answers/s over the load; wrk p50 {num(wrk, 'p50_us') / 1000:.1f} ms, "
      f"p99 {num(wrk, 'p99_us') / 1000:.1f} ms, max {num(wrk, 'max_us') / 1000:.1f} ms")
kinds = sorted({k[5:] for k in soak if k.startswith("sent_")} | {k[5:] for k in soak if k.startswith("recv_")})
print("  mix (sent / answered): " + ", ".join(f"{k} {num(soak, 'sent_' + k)} / {num(soak, 'recv_' + k)}" for k in kinds))
print(f"  statuses: {soak.get('statuses', '?')}")
# A failed request's answer (502, nginx's error page) names no kind, so the kinds come from the
# difference: requests of a kind sent minus answers that were of that kind.
missing = {k: num(soak, "sent_" + k) - num(soak, "recv_" + k) for k in kinds if k != "other"}
print("  requests without an answer of their own, by kind: "
      + (", ".join(f"{k} {n}" for k, n in missing.items() if n) or "none"))
print(f"failed: {failed} = non-2xx {non2xx} + wrong body {bad} + unanswered {unanswered} + connect errors {connect_err} "
      f"+ slower than 5 s {timeouts}")
print(f"  unanswered: sent but never answered whole (a cut answer: nginx closed the connection mid-way); wrk's own "
      f"counters: read {num(wrk, 'read')} write {num(wrk, 'write')} status {num(wrk, 'status')} timeout {timeouts}; "
      f"answers that came behind a cut one's bytes (wrk keeps them, see soak_wrk.lua), checked on their own bytes: "
      f"{num(soak, 'carried')}")
try:
    bad_lines = open(f"{d}/bad.txt", errors="replace").read().splitlines()
except OSError:
    bad_lines = []
if bad_lines:
    print(f"  non-2xx, wrong or carried-over answers ({len(bad_lines)} noted, at most 50 per wrk thread):")
    for l in bad_lines[:20]:
        print(f"    {l[:600]}")
print(f"kills: {len(kills)} SIGKILLed ({', '.join(f'{s} {n}' for s, n in sorted(kill_states.items())) or 'none'}; "
      f"state per /stats?full just before), {len(kill_rows) - len(kills)} picked but already gone")
if st:
    r, rs = st["requests"], st["responses"]
    print(f"fcgimux /stats at the end: requests accepted {r['accepted']} completed {r['completed']} failed {r['failed']} "
          f"aborted {r['aborted']} rejected {r['rejected']} timed_out {r['timed_out']}; responses 2xx {rs['2xx']} "
          f"4xx {rs['4xx']} 5xx {rs['5xx']}; workers_spawned {st['workers_spawned']} workers_exited {st['workers_exited']} "
          f"workers_crashed {st['workers_crashed']}; queue peak {st['queue']['peak']}; connections accepted "
          f"{st['connections']['accepted']}")
else:
    print("fcgimux /stats at the end: unavailable")

# Samples taken during the load. The flatness verdicts compare the last with the first whose whole
# interval lies after the warm-up, on the interval's floor (the smallest of the readings every 0.5 s):
# a single reading swings by megabytes with the large requests in flight at that instant, while a
# leak lifts the floor. The single readings are printed too.
load = [s for s in samples if s["t"] <= load_secs + 0.5]
after = [s for s in load if s["t"] >= warmup + interval - 0.5] or load[-1:]
print()
step = max(1, -(-len(samples) // 60))
note = f" (every {step}th shown)" if step > 1 else ""
print(f"samples{note}: t = seconds since the load began; ans/s from fcgimux's requests.completed; RSS = the reading at t, "
      f"floor/peak = the extremes of the readings every 0.5 s since the previous sample")
print(f"{'t':>6} {'completed':>9} {'ans/s':>6} {'RSS MB':>7} {'floor':>6} {'peak':>6} {'fds':>4} {'max':>4} {'pool':>4} {'busy':>4} "
      f"{'idle':>4} {'start':>5} {'queue':>5} {'spawned':>7} {'crashed':>7} {'failed':>6} {'kills':>5} {'stats ms':>8}")
prev = None
rows = samples + ([dict(drained, kills=len(kills), label="drained")] if drained else [])
first_after = after[0] if after else None
for i, s in enumerate(rows):
    rate = "-"
    if prev and "completed" in s and "completed" in prev and s["t"] > prev["t"]:
        rate = f"{(s['completed'] - prev['completed']) / (s['t'] - prev['t']):.0f}"
    prev = s
    if i % step and i != len(rows) - 1 and s is not first_after:
        continue
    g = lambda k: "?" if s.get(k) is None else str(s[k])
    mb = lambda k: "-" if s.get(k) is None else f"{s[k] / 1024:.1f}"
    mark = " <- first after warm-up" if s is first_after else " <- after the drain" if s.get("label") else ""
    if "stats_error" in s:
        mark += f" stats: {s['stats_error']}"
    print(f"{s['t']:>6.0f} {g('completed'):>9} {rate:>6} {mb('rss_kb'):>7} {mb('rss_min_kb'):>6} {mb('rss_max_kb'):>6} "
          f"{g('fds'):>4} {g('fds_max') if 'fds_max' in s else '-':>4} {g('size'):>4} {g('busy'):>4} {g('idle'):>4} "
          f"{g('starting'):>5} {g('queue'):>5} {g('spawned'):>7} {g('crashed'):>7} {g('failed'):>6} {g('kills'):>5} {g('stats_ms'):>8}{mark}")

sizes = [s["size"] for s in load if "size" in s]
if sizes:
    c = Counter(sizes)
    print(f"pool size during the load: min {min(sizes)} max {max(sizes)}; samples per size: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(c.items()))
          + f"; busy max {max(s.get('busy', 0) for s in load)}, starting max {max(s.get('starting', 0) for s in load)}")
stats_errors = [s for s in samples if "stats_error" in s]
if stats_errors:
    print(f"stats endpoint failed {len(stats_errors)} times, e.g. at t={stats_errors[0]['t']}: {stats_errors[0]['stats_error']}")

verdicts = []
def flat(name, key, kmin, kmax, scale, unit):
    if not load or not after or after[0].get(kmin) is None or load[-1].get(kmin) is None:
        print(f"{name}: no samples")
        verdicts.append((f"{name} flat", False))
        return
    f = lambda v: f"{v / scale:.1f}{unit}"
    pct = lambda a, b: (b - a) / a * 100 if a else 0.0
    first, last = after[0], load[-1]
    top = max(s.get(kmax, s.get(key)) for s in load)
    change = pct(first[kmin], last[kmin])
    good = abs(change) <= 10
    print(f"{name}: floor over the first interval after warm-up (t={first['t']:.0f}s) {f(first[kmin])}, over the last "
          f"(t={last['t']:.0f}s) {f(last[kmin])} ({change:+.1f}%): {'flat' if good else 'NOT flat'} (goal: within 10%)")
    print(f"  single readings: first after warm-up {f(first[key])}, last {f(last[key])} ({pct(first[key], last[key]):+.1f}%); "
          f"max {f(top)}" + (f"; after the drain {f(drained[key])}" if drained.get(key) is not None else ""))
    verdicts.append((f"{name} flat", good))
print()
flat("fcgimux RSS", "rss_kb", "rss_min_kb", "rss_max_kb", 1024, " MB")
flat("fcgimux descriptors", "fds", "fds_min", "fds_max", 1, "")

# The logs: counted by message (numbers and addresses blanked), a few lines each.
def summary(path, title, clean):
    try:
        lines = [l.rstrip("\n") for l in open(path, errors="replace")]
    except OSError:
        lines = []
    c, first = Counter(), {}
    for l in lines:
        k = clean(l)
        c[k] += 1
        first.setdefault(k, l)
    print(f"{title}: {len(lines)} lines" + (":" if lines else ""))
    for k, n in c.most_common(12):
        print(f"  {n:>7} x {first[k][:230]}")
    if len(c) > 12:
        print(f"  ... and {len(c) - 12} other kinds")
def blank(l):
    l = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", "", l)
    l = re.sub(r"request: \"[^\"]*\"", "request: R", l)
    return re.sub(r"\d+", "N", l)
print()
summary(f"{d}/nginx-error.log", "nginx error log", blank)
summary(f"{d}/fcgimux.log", "fcgimux stderr", blank)

print()
done_target = target == 0 or received >= target
verdicts.insert(0, ("failed requests <= kills", failed <= len(kills)))
verdicts.insert(1, (f"answers >= {target}" if target else "load ran", done_target))
verdicts.append(("drained (fcgimux requests.active 0 within 30 s of the load's end)", active_after_drain == "0"))
print(f"verdicts: failed {failed} <= kills {len(kills)}: {'PASS' if verdicts[0][1] else 'FAIL'}; "
      + "; ".join(f"{n}: {'PASS' if g else 'FAIL'}" for n, g in verdicts[1:]))
print(f"SOAK-RESULT {'PASS' if all(g for _, g in verdicts) else 'FAIL'}")
EOF
