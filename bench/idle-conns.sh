#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# fcgimux's resident memory with 10,000 idle front connections, then with each of them having made
# one FCGI_KEEP_CONN request and kept open (issue 3). See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<EOF
usage: bench/idle-conns.sh [-c CONNS] [-w WORKERS] [-W WINDOW] [-l LIMIT_MB] [-- FCGIMUX_FLAGS...]
  -c  front connections to open (default 10000)
  -w  fcgimux-demo workers (default 4)
  -W  requests in flight at once in the keep-conn phase (default 256, below fcgimux's --queue-limit)
  -l  goal for fcgimux's VmRSS in MB (default 100)
Anything after -- is passed to fcgimux (e.g. -- --keep-conn no).
Environment: BUILD_DIR (default build-bench, else build), KEEP_TMP=1.
EOF
}

conns=10000 workers=4 window=256 limit=100
while getopts "c:w:W:l:h" opt; do
  case $opt in
    c) conns=$OPTARG ;; w) workers=$OPTARG ;; W) window=$OPTARG ;; l) limit=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
extra_flags=("$@")

need_tools python3
build=$(find_build_dir)
fcgimux="$build/src/fcgimux"
demo="$build/src/demo/fcgimux-demo"
[[ -x $fcgimux && -x $demo ]] || die "build fcgimux and fcgimux-demo first (looked in $build)"

# Both fcgimux and the client hold one descriptor per connection.
want_fds=$((conns * 2 + 1000))
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
(($(ulimit -n) > conns + 200)) || die "ulimit -n is $(ulimit -n), too low for $conns connections"

bench_init
arm_watchdog 300

port=$(free_port)
stats_port=$(free_port)
"$fcgimux" "${FCGIMUX_USER_ARGS[@]}" --listen "127.0.0.1:$port" --stats "127.0.0.1:$stats_port" -n "$workers" "${extra_flags[@]}" \
  -- "$demo" >"$BENCH_TMP/fcgimux.log" 2>&1 &
fcgimux_pid=$!
track "$fcgimux_pid"
wait_for_text "$BENCH_TMP/fcgimux.log" "listening on" 10 || { cat "$BENCH_TMP/fcgimux.log" >&2; die "fcgimux did not start"; }
wait_connectable "127.0.0.1:$port" 10 || die "fcgimux does not accept"

log "fcgimux pid $fcgimux_pid on 127.0.0.1:$port, $workers workers, ulimit -n $(ulimit -n)"
python3 "$BENCH_DIR/idle_conns.py" --addr "127.0.0.1:$port" --pid "$fcgimux_pid" --stats "127.0.0.1:$stats_port" \
  --conns "$conns" --window "$window" --limit-mb "$limit"
alive "$fcgimux_pid" || { cat "$BENCH_TMP/fcgimux.log" >&2; die "fcgimux exited during the run"; }
if grep -qiE "error|too many|emfile" "$BENCH_TMP/fcgimux.log"; then
  log "fcgimux logged:"; grep -iE "error|too many|emfile" "$BENCH_TMP/fcgimux.log" | head -5 >&2
fi
