#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Remote FastCGI servers (issue 22): nginx -> fcgimux -> 3 php-fpm, each in a network namespace of
# its own, against nginx -> the same 3 php-fpm through nginx's own upstream (least_conn,
# keepalive), same load; then both again with one server frozen (SIGSTOP) mid-run. Root only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/remote.sh [-d SECONDS] [-c CONNS] [-w CHILDREN] [-q QUERY] [-t TIMEOUT]
  -d  wrk duration per run (default 15); the freeze starts at a third of it and lasts to the end
  -c  wrk connections (default 32; 2 threads)
  -w  php-fpm children per server, and each server's max-conns in fcgimux (default 4)
  -q  query string of the benchmarked URL, e.g. sleep=5 (ms the script sleeps; default: none)
  -t  seconds a request may wait on a server: fcgimux --request-timeout and nginx
      fastcgi_read_timeout alike (default 3)
Environment: BUILD_DIR (default build-bench, else build), KEEP_TMP=1, BENCH_NICE=-10.
EOF
}

duration=15 conns=32 children=4 query="" timeout=3
while getopts "d:c:w:q:t:h" opt; do
  case $opt in
    d) duration=$OPTARG ;; c) conns=$OPTARG ;; w) children=$OPTARG ;; q) query=$OPTARG ;; t) timeout=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "needs root (ip netns, nft)"
need_tools wrk nginx ip php-fpm8.2 python3 curl pgrep
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
[[ -x $fcgimux ]] || die "build fcgimux first (looked in $build)"

ulimit -n 65536 2>/dev/null || true
bench_init
# 4 runs of start-up (<30 s) + warm-up + run + stop, and the namespaces.
arm_watchdog $((4 * (duration + 60) + 60))

# --- three namespaces, as tests/remote/netns_host.cpp makes them ------------------------------------
NS_NAMES=() NS_LINKS=()
remove_namespaces() {
  local i
  for i in "${!NS_NAMES[@]}"; do
    ip link del "${NS_LINKS[$i]}" 2>/dev/null || true
    ip netns del "${NS_NAMES[$i]}" 2>/dev/null || true
  done
}
cleanup_all() {
  local rc=$?
  # A frozen php-fpm ignores SIGTERM until continued.
  [[ -n ${FROZEN:-} ]] && for p in $FROZEN; do kill -CONT "$p" 2>/dev/null || true; done
  trap - EXIT
  stop_tracked 0
  remove_namespaces
  if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" && -z "${KEEP_TMP:-}" ]]; then rm -rf "$BENCH_TMP"; fi
  exit "$rc"
}
trap cleanup_all EXIT

# 198.18.0.0/15 in /30s, four per pid modulo 8192, so that a bench never shares one with a test.
SERVERS=()
for i in 0 1 2; do
  slot=$(( ($$ % 8192) * 4 + i ))
  net="198.$((18 + slot / 16384)).$((slot / 64 % 256))"
  base=$(( slot % 64 * 4 ))
  [[ -z $(ip -o addr show to "$net.$((base + 1))") ]] || die "$net.$((base + 1)) is in use"
  name="fcgimux-$$-$i" link="fxh$$i$i" peer="fxp$$i$i"
  NS_NAMES+=("$name") NS_LINKS+=("$link")
  ip netns add "$name"
  ip link add "$link" type veth peer name "$peer"
  ip link set "$peer" netns "$name"
  ip addr add "$net.$((base + 1))/30" dev "$link"
  ip link set "$link" up
  ip -n "$name" addr add "$net.$((base + 2))/30" dev "$peer"
  ip -n "$name" link set "$peer" up
  ip -n "$name" link set lo up
  SERVERS+=("$net.$((base + 2)):9000")
done

root="$BENCH_TMP/www"
mkdir -p "$root"
cat >"$root/bench.php" <<'EOF'
<?php
if (isset($_GET['sleep'])) usleep((int)$_GET['sleep'] * 1000);
header('Content-Type: text/plain');
echo "server=", getenv('SERVER_MARK'), "\n";
EOF
FPM_PIDS=()
for i in 0 1 2; do
  d="$BENCH_TMP/fpm$i"
  mkdir -p "$d"
  cat >"$d/fpm.conf" <<EOF
[global]
error_log = $d/fpm.log
daemonize = no
[bench]
listen = ${SERVERS[$i]}
listen.backlog = 511
pm = static
pm.max_children = $children
ping.path = /ping
env[SERVER_MARK] = $i
user = root
group = root
EOF
  setsid ip netns exec "${NS_NAMES[$i]}" php-fpm8.2 -y "$d/fpm.conf" -F -n -R >"$d/stderr.log" 2>&1 &
  track $!
  FPM_PIDS+=($!)
done
for s in "${SERVERS[@]}"; do wait_connectable "$s" 20 || die "php-fpm at $s does not accept"; done

path="/bench.php"
[[ -n $query ]] && path="/bench.php?$query"

# nginx_remote_conf DIR PORT UPSTREAM_LINES: nginx in front of an upstream{} of the given servers.
nginx_remote_conf() {
  local dir=$1 port=$2 servers=$3
  nginx_conf_head "$dir" >"$dir/nginx.conf"
  cat >>"$dir/nginx.conf" <<EOF
  upstream backends { $servers }
  server {
    listen 127.0.0.1:$port;
    root $root;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass backends;
      fastcgi_keep_conn on;
      fastcgi_connect_timeout 1s;
      fastcgi_read_timeout ${timeout}s;
    }
  }
}
EOF
}

results="$BENCH_TMP/results.txt"
: >"$results"

# run SETUP FAULT: SETUP is fcgimux or nginx, FAULT none or freeze.
run() {
  local setup=$1 fault=$2 dir="$BENCH_TMP/$1-$2" mark=${#TRACKED_PIDS[@]} port upstream s
  mkdir -p "$dir"
  port=$(free_port)
  if [[ $setup == fcgimux ]]; then
    local addr="127.0.0.1:$(free_port)" args=()
    for s in "${SERVERS[@]}"; do args+=(--server "$s,max-conns=$children"); done
    # Checks of php-fpm's ping.path every second; two failed ones take a frozen server down.
    setsid "$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "$addr" --stats off "${args[@]}" --request-timeout "$timeout" \
      --connect-timeout 1 --check-interval 1 --check-timeout 1 --check-path /ping --fall 2 --rise 2 >"$dir/fcgimux.log" 2>&1 &
    track $!
    wait_for_text "$dir/fcgimux.log" "listening on" 10 || { cat "$dir/fcgimux.log" >&2; die "fcgimux did not start"; }
    upstream="server $addr; keepalive $conns;"
  else
    # nginx's own balancing: least_conn, kept connections, passive max_fails only.
    upstream="least_conn;"
    for s in "${SERVERS[@]}"; do upstream+=" server $s max_fails=1 fail_timeout=10s;"; done
    upstream+=" keepalive $((children * 3));"
  fi
  nginx_remote_conf "$dir" "$port" "$upstream"
  start_nginx "$dir" "$port"
  local url="http://127.0.0.1:$port$path" i
  for i in $(seq 30); do curl -sf -m 5 -o /dev/null "$url" || { log "warm-up request to $setup failed"; break; }; done
  log "$setup, $fault, ${duration}s"
  run_wrk "$dir/wrk.txt" "$conns" "$duration" "$url" &
  local wrk_pid=$!
  if [[ $fault == freeze ]]; then
    sleep "$(awk -v d="$duration" 'BEGIN{print d / 3}')"
    FROZEN="${FPM_PIDS[1]} $(descendants "${FPM_PIDS[1]}" | tr '\n' ' ')"
    for p in $FROZEN; do kill -STOP "$p" 2>/dev/null || true; done
  fi
  wait "$wrk_pid" || true
  if [[ -n ${FROZEN:-} ]]; then
    for p in $FROZEN; do kill -CONT "$p" 2>/dev/null || true; done
    FROZEN=""
  fi
  stop_tracked "$mark"
  local w="$dir/wrk.txt" sockerr=0 f
  [[ -n $(wrk_field rps "$w") ]] || { log "wrk printed no result for $setup $fault:"; cat "$w" >&2; }
  for f in connect read write; do sockerr=$((sockerr + $(wrk_field $f "$w" || echo 0))); done
  printf '%s %s %s %s %s %s %s %s %s\n' "$setup" "$fault" "$(wrk_field rps "$w")" "$(wrk_field p50_us "$w")" \
    "$(wrk_field p99_us "$w")" "$(wrk_field max_us "$w")" "$(wrk_field status "$w")" "$sockerr" \
    "$(wrk_field timeout "$w")" >>"$results"
  sleep 1
}

for fault in none freeze; do
  run fcgimux "$fault"
  run nginx "$fault"
done

echo
echo "remote.sh: nginx -> 3 php-fpm in network namespaces ($children children each), wrk -t2 -c$conns -d${duration}s --timeout 5s, URL $path;"
echo "  fcgimux: --balance least-outstanding, max-conns=$children, --request-timeout $timeout, checks of /ping every 1 s, fall 2"
echo "  nginx:   upstream least_conn, keepalive $((children * 3)), max_fails=1 fail_timeout=10s, fastcgi_read_timeout ${timeout}s"
echo "  freeze:  SIGSTOP of server 1's master and children from $(awk -v d="$duration" 'BEGIN{print d / 3}') s to the end of the run"
machine_line
python3 - "$results" "$duration" <<'EOF'
import sys
secs = float(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 9:
        continue
    num = lambda s: float(s) if s else float("nan")
    rows[(f[0], f[1])] = dict(rps=num(f[2]), p50=num(f[3]) / 1000, p99=num(f[4]) / 1000, max=num(f[5]) / 1000,
                              non2xx=num(f[6]), sockerr=num(f[7]), timeouts=num(f[8]))
    r = rows[(f[0], f[1])]
    # wrk counts a fast 502 or 504 as a request: the ratio is of answers that were 2xx.
    r["ok"] = r["rps"] - (r["non2xx"] + r["sockerr"] + r["timeouts"]) / secs
print(f"{'setup':<10} {'fault':<7} {'req/s':>9} {'2xx/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non2xx':>6} {'sockerr':>7} {'timeouts':>8}")
for (setup, fault), r in rows.items():
    print(f"{setup:<10} {fault:<7} {r['rps']:>9.0f} {r['ok']:>9.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f} "
          f"{r['non2xx']:>6.0f} {r['sockerr']:>7.0f} {r['timeouts']:>8.0f}")
for fault in ("none", "freeze"):
    m, n = rows.get(("fcgimux", fault)), rows.get(("nginx", fault))
    if m and n and n["ok"] > 0:
        print(f"{fault}: fcgimux / nginx 2xx throughput {m['ok'] / n['ok']:.2f}x, p99 {m['p99']:.1f} vs {n['p99']:.1f} ms, "
              f"errors {m['non2xx'] + m['sockerr'] + m['timeouts']:.0f} vs {n['non2xx'] + n['sockerr'] + n['timeouts']:.0f}")
EOF
