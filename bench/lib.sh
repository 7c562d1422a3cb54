# SPDX-License-Identifier: ISC
# Shared by the bench/*.sh scripts (sourced, not run): process tracking and cleanup, free ports,
# nginx in front of a FastCGI address, a wrk run and the side probe.
# Everything listens on 127.0.0.1 or on unix sockets in a private temp directory.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

# The build directory holding src/fcgimux and src/demo/fcgimux-demo; BUILD_DIR overrides.
find_build_dir() {
  if [[ -n "${BUILD_DIR:-}" ]]; then echo "$BUILD_DIR"; return; fi
  local d
  for d in "$REPO_DIR/build-bench" "$REPO_DIR/build"; do
    [[ -x "$d/src/fcgimux" ]] && { echo "$d"; return; }
  done
  echo "$REPO_DIR/build"
}

# As root fcgimux refuses to start without --user. The benches run its workers as root, asked for
# explicitly: the setups they are compared with (spawn-fcgi, php-fpm, nginx "user root") run as
# root here too, and the scripts they serve live in private temp directories.
FCGIMUX_USER_ARGS=()
[[ $(id -u) -eq 0 ]] && FCGIMUX_USER_ARGS=(--user root)

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "'$t' not found (scripts/deps.sh bench installs the tools)"
  done
}

# --- processes -------------------------------------------------------------------------------
TRACKED_PIDS=()
track() { TRACKED_PIDS+=("$@"); }

# A pid counts as gone once it is reaped or a zombie (a zombie re-parented to a pid 1 that does not
# reap would otherwise look alive forever).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

descendants() {
  local p c
  for p in "$@"; do
    for c in $(pgrep -P "$p" 2>/dev/null); do
      echo "$c"
      descendants "$c"
    done
  done
}

# TERM each pid and its descendants, wait up to $2 seconds (default 5), then KILL what is left.
stop_pids() {
  local grace=${STOP_GRACE:-5}
  local all=("$@") p
  [[ ${#all[@]} -gt 0 ]] || return 0
  local more
  mapfile -t more < <(descendants "$@")
  all+=("${more[@]}")
  for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  local deadline=$((SECONDS + grace))
  while ((SECONDS < deadline)); do
    local left=0
    for p in "${all[@]}"; do alive "$p" && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for p in "${all[@]}"; do
    if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# Stops the pids tracked since the given index (default: all) and forgets them.
stop_tracked() {
  local from=${1:-0}
  local pids=("${TRACKED_PIDS[@]:$from}")
  TRACKED_PIDS=("${TRACKED_PIDS[@]:0:$from}")
  stop_pids "${pids[@]}"
}

BENCH_TMP=""
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_tracked 0
  if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" && -z "${KEEP_TMP:-}" ]]; then rm -rf "$BENCH_TMP"; fi
  exit "$rc"
}

bench_init() {
  # BENCH_NICE=-10 (root) lifts everything this script starts above other work on a shared machine;
  # both setups of a comparison run under the same priority.
  if [[ -n ${BENCH_NICE:-} ]]; then
    renice -n "$BENCH_NICE" -p $$ >/dev/null || die "renice $BENCH_NICE failed"
  fi
  BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fcgimux-bench.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Kills the whole script (and through the EXIT trap everything it started) after $1 seconds.
# The watchdog is a child of this shell, so cleanup stops it too.
arm_watchdog() {
  local limit=$1 me=$$
  ( sleep "$limit"; echo "$(basename "$0"): watchdog: over ${limit}s, stopping" >&2; kill -TERM "$me" ) &
  track $!
}

# --- addresses ---------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until a TCP port (HOST:PORT) or unix socket (unix:PATH) accepts, up to $2 seconds.
wait_connectable() {
  local addr=$1 limit=${2:-10}
  python3 - "$addr" "$limit" <<'EOF'
import socket, sys, time
addr, limit = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + limit
while True:
    try:
        if addr.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX); s.settimeout(1); s.connect(addr[5:])
        else:
            h, p = addr.rsplit(":", 1); s = socket.create_connection((h, int(p)), timeout=1)
        s.close(); sys.exit(0)
    except OSError:
        if time.monotonic() > deadline: sys.exit(1)
        time.sleep(0.02)
EOF
}

# Waits until a regular file contains the given text, up to $3 seconds.
wait_for_text() {
  local file=$1 text=$2 limit=${3:-10}
  local deadline=$((SECONDS + limit))
  until grep -q -- "$text" "$file" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# --- nginx -------------------------------------------------------------------------------------
# nginx_conf_head DIR: the start of every bench nginx.conf, up to the inside of http {}: its
# pid, logs and temp paths in DIR (made here), as root's user when run by root.
nginx_conf_head() {
  local dir=$1 user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user root;"
  mkdir -p "$dir/temp"
  cat <<EOF
$user_line
worker_processes $NGINX_WORKERS;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/temp/body;
  fastcgi_temp_path $dir/temp/fastcgi;
  proxy_temp_path $dir/temp/proxy;
  uwsgi_temp_path $dir/temp/uwsgi;
  scgi_temp_path $dir/temp/scgi;
EOF
}

# nginx_conf DIR PORT BACKEND KEEPALIVE(0|N) [SCRIPT_ROOT] [STATUS_PORT]: an nginx.conf with one
# server on 127.0.0.1:PORT passing everything to BACKEND (unix:PATH or HOST:PORT). KEEPALIVE>0 routes
# through an upstream{} with that many idle kept connections and fastcgi_keep_conn on. STATUS_PORT
# adds a second server answering stub_status at /nginx_status.
NGINX_WORKERS=${NGINX_WORKERS:-1}
nginx_conf() {
  local dir=$1 port=$2 backend=$3 keepalive=$4 root=${5:-$1} status_port=${6:-}
  local pass upstream="" status=""
  [[ -n $status_port ]] && status="server { listen 127.0.0.1:$status_port; location = /nginx_status { stub_status; } }"
  if ((keepalive > 0)); then
    upstream="upstream fcgi_backend { server $backend; keepalive $keepalive; }"
    pass="fastcgi_pass fcgi_backend; fastcgi_keep_conn on;"
  else
    pass="fastcgi_pass $backend;"
  fi
  nginx_conf_head "$dir" >"$dir/nginx.conf"
  cat >>"$dir/nginx.conf" <<EOF
  $upstream
  server {
    listen 127.0.0.1:$port;
    root $root;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      $pass
    }
  }
  $status
}
EOF
}

# start_nginx DIR PORT: runs nginx with DIR/nginx.conf in the foreground (tracked) and waits for it.
start_nginx() {
  local dir=$1 port=$2
  # Its own session, as a service has: with autogroup scheduling the kernel shares the CPUs among
  # sessions, and spawn-fcgi's and fcgimux's workers each have one too.
  setsid nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
  track $!
  wait_connectable "127.0.0.1:$port" 10 || { cat "$dir/nginx.out" "$dir/nginx-error.log" >&2; die "nginx did not start"; }
}

# --- load --------------------------------------------------------------------------------------
# run_wrk OUTFILE CONNS DURATION URL: wrk -t2 with the report script; the WRK line lands in OUTFILE.
run_wrk() {
  local out=$1 conns=$2 duration=$3 url=$4
  local threads=$((conns < 2 ? conns : 2))
  wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 5s -s "$BENCH_DIR/wrk_report.lua" "$url" >"$out" 2>&1 || true
}

# Field NAME of the WRK line in FILE (empty when wrk printed none).
wrk_field() { grep -m1 '^WRK ' "$2" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# Field NAME of the PROBE line in FILE.
probe_field() { grep -m1 '^PROBE ' "$2" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# start_probe OUTFILE DURATION URL: one request every 100 ms in the background; sets PROBE_PID.
start_probe() {
  local out=$1 duration=$2 url=$3
  python3 "$BENCH_DIR/probe.py" --url "$url" --duration "$duration" --interval 0.1 --timeout 20 >"$out" 2>&1 &
  PROBE_PID=$!
  track "$PROBE_PID"
}

# cpu_ticks PID...: CPU time (user + system, in clock ticks) used so far by these processes and all
# their descendants; processes that have exited are not counted, so sample while they run.
cpu_ticks() {
  own_cpu_ticks "$@" $(descendants "$@")
}

# own_cpu_ticks PID...: the same for these processes alone, without their children.
own_cpu_ticks() {
  local p total=0 f
  for p in "$@"; do
    f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"$f"
    total=$((total + f[11] + f[12]))  # utime and stime: fields 14 and 15 of stat
  done
  echo "$total"
}

# ctx_switches PID...: "VOLUNTARY INVOLUNTARY" context switches so far of these processes and their
# descendants (sleeps, and preemptions while runnable), counted like cpu_ticks.
ctx_switches() {
  local p vol=0 invol=0 k v
  for p in "$@" $(descendants "$@"); do
    while read -r k v; do
      case $k in
        voluntary_ctxt_switches:) vol=$((vol + v)) ;;
        nonvoluntary_ctxt_switches:) invol=$((invol + v)) ;;
      esac
    done 2>/dev/null <"/proc/$p/status" || continue
  done
  echo "$vol $invol"
}

# per_request COUNT REQUESTS: COUNT / REQUESTS with two decimals; "-" without requests.
per_request() {
  [[ -n ${2:-} && ${2:-0} -gt 0 ]] && awk -v c="$1" -v n="$2" 'BEGIN{printf "%.2f", c / n}' || echo "-"
}

# us_per_request TICKS REQUESTS: CPU microseconds per request; "-" without requests.
us_per_request() {
  local hz
  hz=$(getconf CLK_TCK)
  [[ -n ${2:-} && ${2:-0} -gt 0 ]] && awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.1f", t * 1e6 / hz / n}' || echo "-"
}

# --- runs and results ---------------------------------------------------------------------------
# run_rotated REPEATS FUNCTION SETUP...: calls FUNCTION REP SETUP for every setup, REPEATS times.
# Each repeat starts one setup later, so that a drift in the machine's load does not always favour
# the same setup.
run_rotated() {
  local repeats=$1 fn=$2 rep i
  shift 2
  local setups=("$@") n=$#
  for rep in $(seq "$repeats"); do
    for i in $(seq 0 $((n - 1))); do
      "$fn" "$rep" "${setups[$(((i + rep - 1) % n))]}"
    done
  done
}

# load_columns SETUP WRKFILE PROBEFILE: sets LOAD_COLUMNS to the result fields every bench row
# shares, space-separated: wrk's req/s, p50, p99 and max (us), non-2xx, socket errors and timeouts,
# then the probe's max and p99 (ms) and its errors plus timeouts. Says so when wrk printed no result.
load_columns() {
  local setup=$1 w=$2 pr=$3 sockerr=0 f
  [[ -n $(wrk_field rps "$w") ]] || { log "wrk printed no result for $setup:"; cat "$w" >&2; }
  for f in connect read write; do sockerr=$((sockerr + $(wrk_field $f "$w" || echo 0))); done
  printf -v LOAD_COLUMNS '%s %s %s %s %s %s %s %s %s %s' \
    "$(wrk_field rps "$w")" "$(wrk_field p50_us "$w")" "$(wrk_field p99_us "$w")" "$(wrk_field max_us "$w")" \
    "$(wrk_field status "$w")" "$sockerr" "$(wrk_field timeout "$w")" \
    "$(probe_field max_ms "$pr")" "$(probe_field p99_ms "$pr")" \
    "$(( $(probe_field errors "$pr" || echo 0) + $(probe_field timeouts "$pr" || echo 0) ))"
}

# One line on the conditions: CPUs, load average before and now, nice level.
machine_line() {
  echo "machine: $(nproc) CPUs, load average $BENCH_LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; nice ${BENCH_NICE:-0}"
}

# Micro- to milliseconds with one decimal; "-" for empty.
us_to_ms() { [[ -n "${1:-}" ]] && awk -v v="$1" 'BEGIN{printf "%.1f", v/1000}' || echo "-"; }
