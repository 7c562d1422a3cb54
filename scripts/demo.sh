#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The README's first command: installs what is missing, builds, and starts fcgimux on
# 127.0.0.1:9000 with the bundled demo worker (stats on 127.0.0.1:9001), shows one request going
# through it with cgi-fcgi, and keeps serving in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build demo
# Its own build directory: the test command configures build/ with other options.
scripts/build.sh build-demo -DFCGIMUX_TESTS=OFF -DFCGIMUX_BENCH=OFF >/dev/null
listen=${FCGIMUX_LISTEN:-127.0.0.1:9000}
stats=${FCGIMUX_STATS:-127.0.0.1:9001}
demo=build-demo/src/demo/fcgimux-demo
user_args=()
cleanup=()
if [[ $(id -u) -eq 0 ]]; then
  # As root fcgimux refuses to run its workers as root unless told to: give them a user of their own
  # (the system user "fcgimux", made here if missing; the Docker image has the same one).
  if ! id -u fcgimux >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin fcgimux
    echo "--- created the system user fcgimux for the demo's workers"
  fi
  user_args=(--user fcgimux)
  # The worker needs nothing but its program (it answers from memory): the checkout may sit where
  # that user cannot go (/root is 0700), so copy the program out if so.
  if ! runuser -u fcgimux -- test -x "$demo"; then
    run_dir=$(mktemp -d /tmp/fcgimux-demo.XXXXXX)
    chmod 0755 "$run_dir"
    install -m 0755 "$demo" "$run_dir/fcgimux-demo"
    demo=$run_dir/fcgimux-demo
    cleanup=(rm -rf "$run_dir")
  fi
  runuser -u fcgimux -- test -x "$demo" || { echo "demo.sh: user fcgimux cannot run $demo" >&2; exit 1; }
fi
build-demo/src/fcgimux "${user_args[@]}" --listen "$listen" --stats "$stats" -n 2 -N 8 -- "$demo" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; "${cleanup[@]}"' INT TERM
for _ in $(seq 50); do
  if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then break; fi
  sleep 0.1
done
echo "--- a request through fcgimux (cgi-fcgi -connect $listen):"
REQUEST_METHOD=GET REQUEST_URI=/hello SCRIPT_NAME=/hello QUERY_STRING= \
  cgi-fcgi -bind -connect "$listen"
echo
echo "--- fcgimux serves on $listen; stats: curl http://$stats/stats (dashboard: http://$stats/). Ctrl-C stops it."
wait $pid
"${cleanup[@]}"
