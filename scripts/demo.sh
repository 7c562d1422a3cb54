#!/usr/bin/env bash
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
build-demo/src/fcgimux --listen "$listen" --stats "$stats" -n 2 -N 8 -- build-demo/src/demo/fcgimux-demo &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
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
