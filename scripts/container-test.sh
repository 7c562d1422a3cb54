#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Builds the images of docker/Dockerfile (demo, php, nginx) with rootful podman and smoke-tests them:
# FastCGI requests through fcgimux, nginx -> fcgimux -> php-cgi, /stats, /metrics and /healthz, the
# image's HEALTHCHECK, a request in flight while the container is stopped, and fcgimux's exit status.
# Then builds the .deb with cpack on the host (a Release build of fcgimux and its demo), installs it
# with apt-get into a fresh debian:bookworm-slim and sends a request through the installed fcgimux.
# Needs no Docker engine and no registry: the debian:bookworm-slim base is bootstrapped from apt.
#
#   scripts/container-test.sh        prints one PASS/FAIL line per check, exits 1 if any failed
#
# Environment:
#   FCGIMUX_PODMAN_DIR   podman's configuration and store (default /var/tmp/fcgimux-podman)
#   FCGIMUX_CACHE_DIR    the cached base image tarball (default /var/tmp/fcgimux-cache)
#   FCGIMUX_KEEP=1       keep the images, the build cache and the logs (faster reruns)
#   FCGIMUX_DEB_BUILD_DIR  the Release build the .deb is made from (default REPO/build-deb, kept)
# Containers use the host network and listen on free 127.0.0.1 ports only.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
podman_dir=${FCGIMUX_PODMAN_DIR:-/var/tmp/fcgimux-podman}
cache_dir=${FCGIMUX_CACHE_DIR:-/var/tmp/fcgimux-cache}
keep=${FCGIMUX_KEEP:-0}
base_tar=$cache_dir/debian-bookworm-minbase.tar
base_image=docker.io/library/debian:bookworm-slim
tag=ct$$
img_demo=localhost/fcgimux-test:demo-$tag
img_php=localhost/fcgimux-test:php-$tag
img_nginx=localhost/fcgimux-test:nginx-$tag
cgi_fcgi=/usr/bin/cgi-fcgi

if [[ $(id -u) -ne 0 ]]; then
  # Rootful podman is the tested recipe (rootless would need subordinate id ranges set up).
  if sudo -n true 2>/dev/null; then exec sudo -n -E bash "$0" "$@"; fi
  echo "container-test: needs root or passwordless sudo" >&2
  exit 1
fi

work=$(mktemp -d /tmp/fcgimux-container-test.XXXXXX)
logs=$work/logs
mkdir -p "$logs"
passed=0
failed=0
containers=()
started=$SECONDS

pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() {
  failed=$((failed + 1))
  printf 'FAIL  %s\n' "$1"
  [[ -n ${2:-} && -r $2 ]] && sed 's/^/      | /' "$2" | tail -n 25
  return 0
}
# check NAME COMMAND...: one check; its output goes to a log shown on failure.
check() {
  local name=$1 log
  shift
  log=$logs/check-$((passed + failed)).log
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name" "$log"; fi
}
step_log() { echo "$logs/$1.log"; }
elapsed() { echo "$((SECONDS - started))s"; }

podman_ready=0
cleanup() {
  local c
  # Only our own store: without its configuration podman would reset the machine's default one.
  if [[ $podman_ready -eq 1 ]]; then
    for c in "${containers[@]}"; do timeout 60 podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    if [[ $keep != 1 ]]; then
      timeout 120 podman rmi -f "$img_demo" "$img_php" "$img_nginx" >/dev/null 2>&1
      timeout 120 podman system reset -f >/dev/null 2>&1
      rm -rf "$podman_dir"
    fi
  fi
  if [[ $failed -eq 0 && $keep != 1 ]]; then rm -rf "$work"; else echo "container-test: logs in $logs"; fi
  echo "container-test: finished in $(elapsed)"
  echo "container: $passed passed, $failed failed"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# --- host packages ---------------------------------------------------------------------------------
# Other jobs may hold the dpkg lock for a while: retry rather than fail.
deps_ok=0
for _ in $(seq 30); do
  if timeout 600 bash "$repo/scripts/deps.sh" build container >"$(step_log deps)" 2>&1; then deps_ok=1; break; fi
  grep -q 'lock' "$(step_log deps)" || break
  sleep 10
done
if [[ $deps_ok -ne 1 ]]; then fail "install podman, mmdebstrap, cgi-fcgi, curl, the build tools (scripts/deps.sh build container)" "$(step_log deps)"; exit 1; fi

# --- podman configuration: written before the first podman command, or the store keeps other settings
mkdir -p "$podman_dir"
cat >"$podman_dir/containers.conf" <<EOF
[containers]
# No CAP_SYS_RESOURCE on these machines: podman's higher default limits would fail.
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$podman_dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$podman_dir/storage"
runroot = "$podman_dir/run"
EOF
export CONTAINERS_CONF=$podman_dir/containers.conf CONTAINERS_STORAGE_CONF=$podman_dir/storage.conf
podman_ready=1

# --- base image: debian:bookworm-slim made locally (no registry), trimmed the way the official one is
if ! timeout 60 podman image exists "$base_image"; then
  if [[ ! -s $base_tar || -n $(find "$base_tar" -mtime +30 2>/dev/null) ]]; then
    mkdir -p "$cache_dir"
    # The machine's own apt sources (one-line or deb822: mmdebstrap reads both).
    apt_sources=/etc/apt/sources.list.d/debian.sources
    [[ -s $apt_sources ]] || apt_sources=/etc/apt/sources.list
    slim=()
    for p in doc man info groff lintian locale; do
      slim+=("--dpkgopt=path-exclude=/usr/share/$p/*")
    done
    slim+=("--dpkgopt=path-include=/usr/share/doc/*/copyright" "--dpkgopt=path-include=/usr/share/locale/locale.alias")
    # merged-usr hook: merged /usr without the usrmerge package, which would pull in perl.
    if timeout 900 mmdebstrap --variant=minbase --format=tar \
         --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "${slim[@]}" \
         --customize-hook='rm -f "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
         bookworm "$base_tar.part" - <"$apt_sources" >"$(step_log mmdebstrap)" 2>&1; then
      mv "$base_tar.part" "$base_tar"
    else
      rm -f "$base_tar.part"
      fail "bootstrap debian:bookworm-slim with mmdebstrap" "$(step_log mmdebstrap)"
      exit 1
    fi
  fi
  if timeout 300 podman import "$base_tar" localhost/debian:bookworm >"$(step_log import)" 2>&1 &&
     podman tag localhost/debian:bookworm "$base_image" >>"$(step_log import)" 2>&1; then
    pass "base image $base_image ($(elapsed))"
  else
    fail "import the base image" "$(step_log import)"
    exit 1
  fi
else
  pass "base image $base_image (already there)"
fi

# --- images ----------------------------------------------------------------------------------------
# --format docker keeps HEALTHCHECK (the OCI format has no field for it).
build() {
  local target=$1 image=$2 limit=$3
  if (cd "$repo" && timeout "$limit" podman build --pull=never --network=host --format docker \
        -f docker/Dockerfile --target "$target" -t "$image" .) >"$(step_log "build-$target")" 2>&1; then
    pass "build target $target ($(elapsed))"
  else
    fail "build target $target" "$(step_log "build-$target")"
    return 1
  fi
}
build demo "$img_demo" 2400 || exit 1
php_built=0 nginx_built=0
build php "$img_php" 900 && php_built=1
build nginx "$img_nginx" 600 && nginx_built=1

size_mb() { podman image inspect --format '{{.Size}}' "$1" 2>/dev/null | awk '{printf "%.1f", $1 / 1e6}'; }
printf 'INFO  image sizes (MB): demo %s, php %s, nginx %s, base %s\n' \
  "$(size_mb "$img_demo")" "$(size_mb "$img_php")" "$(size_mb "$img_nginx")" "$(size_mb "$base_image")"

no_missing_libraries() {
  local image=$1 out
  out=$(timeout 60 podman run --rm --network none --entrypoint ldd "$image" \
          /usr/local/bin/fcgimux /usr/local/bin/fcgimux-demo) || return 1
  echo "$out"
  ! grep -q 'not found' <<<"$out"
}
check "demo image: every shared library of fcgimux and fcgimux-demo is there (ldd)" no_missing_libraries "$img_demo"

# --- helpers for the running containers ------------------------------------------------------------
handed_out=" "
# Below the kernel's ephemeral range: a port that a connection holds as its local end accepts no
# connect, yet cannot be bound either.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
[[ $ephemeral_low -gt 11000 ]] || ephemeral_low=32768
free_port() {  # free_port VAR...: ports nothing listens on, none handed out twice by this script
  local var p
  for var in "$@"; do
    for _ in $(seq 200); do
      p=$((10000 + RANDOM % (ephemeral_low - 10000)))
      [[ $handed_out == *" $p "* ]] && continue
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then break; fi
    done
    handed_out+="$p "
    printf -v "$var" '%s' "$p"
  done
}
# fcgi_get PORT URI [QUERY] [SCRIPT_FILENAME]: one FastCGI GET with cgi-fcgi, the response on stdout.
fcgi_get() {
  timeout 15 env -i REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
    SERVER_NAME=localhost SERVER_PORT=80 REMOTE_ADDR=127.0.0.1 \
    REQUEST_URI="$2${3:+?$3}" DOCUMENT_URI="$2" SCRIPT_NAME="$2" QUERY_STRING="${3:-}" \
    SCRIPT_FILENAME="${4:-/var/www/html$2}" DOCUMENT_ROOT=/var/www/html \
    "$cgi_fcgi" -bind -connect "127.0.0.1:$1" </dev/null
}
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
wait_healthy() {
  local url=$1 name=$2
  for _ in $(seq 100); do
    [[ $(http_status "$url") == 200 ]] && return 0
    [[ $(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null) == true ]] || return 1
    sleep 0.2
  done
  return 1
}
# run_container NAME IMAGE [podman run options...] -- [container args...]
run_container() {
  local name=$1 image=$2 opts=()
  shift 2
  while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  containers+=("$name")
  timeout 60 podman run -d --name "$name" --network host "${opts[@]}" "$image" "$@" >"$(step_log "run-$name")" 2>&1
}
# stop_container NAME: podman stop -t 5; PID 1 must end on SIGTERM by itself (0 or 143, not 137).
stop_container() {
  local name=$1 code
  timeout 60 podman stop -t 5 "$name" >/dev/null || return 1
  code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  podman logs "$name" >"$(step_log "logs-$name")" 2>&1
  echo "exit status $code"
  [[ $code == 0 || $code == 143 ]]
}
show_logs() { podman logs "$1" 2>&1 | tail -n 20; }

expect_output() {  # expect_output PATTERN COMMAND...
  local pattern=$1 out
  shift
  out=$("$@" 2>&1)
  echo "$out"
  grep -q -- "$pattern" <<<"$out"
}
many_requests() {  # many_requests PORT COUNT PATTERN URI [QUERY] [SCRIPT_FILENAME]
  local port=$1 count=$2 pattern=$3 i out
  shift 3
  for i in $(seq "$count"); do
    out=$(fcgi_get "$port" "$@") || { echo "request $i: cgi-fcgi failed: $out"; return 1; }
    grep -q -- "$pattern" <<<"$out" || { echo "request $i: unexpected answer: $out"; return 1; }
    echo "$out" | tail -n 1
  done
}
stats_check() {  # stats_check URL CONDITION: /stats parses as JSON and CONDITION (Python, on s) holds
  local out
  out=$(curl -fsS --max-time 5 "$1") || return 1
  echo "$out"
  python3 -c 'import json, sys; s = json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$out" "$2"
}
container_facts() {  # PID 1 is fcgimux, it runs as uid 10001, and workers run beside it
  local name=$1 worker=$2
  timeout 30 podman exec "$name" bash -c '
    set -e
    comm=$(cat /proc/1/comm); uid=$(awk "/^Uid:/{print \$2}" /proc/1/status)
    gid=$(awk "/^Gid:/{print \$2}" /proc/1/status); user=$(id -un "$uid"); group=$(id -gn "$uid")
    workers=$(grep -l "^$1" /proc/[0-9]*/comm 2>/dev/null | wc -l)
    echo "pid 1: $comm, uid $uid ($user), gid $gid ($group), $workers worker(s) named $1"
    [[ $comm == fcgimux && $uid == 10001 && $gid == 10001 && $group == fcgimux && $workers -ge 1 ]]' _ "${worker:0:15}"
}
healthcheck_runs() { timeout 30 podman healthcheck run "$1"; }

# --- demo image, options on the command line ---------------------------------------------------------
free_port port stats
c=fcgimux-ct-demo-$tag
if run_container "$c" "$img_demo" -e FCGIMUX_HEALTH_ADDR="127.0.0.1:$stats" -- \
     --listen "127.0.0.1:$port" --stats "127.0.0.1:$stats" -n 2 -- /usr/local/bin/fcgimux-demo &&
   wait_healthy "http://127.0.0.1:$stats/healthz" "$c"; then
  pass "demo image starts; /healthz answers 200 (listen 127.0.0.1:$port, stats 127.0.0.1:$stats)"
  check "demo: 20 FastCGI requests through fcgimux (cgi-fcgi)" many_requests "$port" 20 'hello from pid' /
  check "demo: FastCGI answer carries the worker's Status header" \
    expect_output 'Status: 404' fcgi_get "$port" / 'status=404%20Not%20Found'
  check "demo: /stats is JSON and counts the 21 requests, 2 workers" stats_check "http://127.0.0.1:$stats/stats" \
    's["requests"]["completed"] >= 21 and s["responses"]["4xx"] >= 1 and s["pool"]["size"] >= 2'
  check "demo: /healthz is 200 (curl)" expect_output '^200$' http_status "http://127.0.0.1:$stats/healthz"
  check "demo: /metrics is Prometheus text" expect_output '^# TYPE fcgimux_' curl -fsS --max-time 5 "http://127.0.0.1:$stats/metrics"
  check "demo: image HEALTHCHECK passes (podman healthcheck run)" healthcheck_runs "$c"
  check "demo: fcgimux is PID 1 as uid 10001, workers running" container_facts "$c" fcgimux-demo
  # A request in flight when the container is stopped must still be answered (drain on SIGTERM).
  { fcgi_get "$port" / sleep_ms=1500; echo "cgi-fcgi exit status $?"; } >"$work/inflight.out" 2>&1 &
  inflight=$!
  # Stop only once fcgimux has the request at a worker.
  for _ in $(seq 50); do
    stats_check "http://127.0.0.1:$stats/stats" 's["pool"]["busy"] >= 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  check "demo: podman stop -t 5 ends fcgimux by SIGTERM" stop_container "$c"
  wait "$inflight"
  check "demo: the request in flight during the stop was answered" expect_output 'hello from pid' cat "$work/inflight.out"
else
  fail "demo image starts; /healthz answers 200" <(show_logs "$c")
fi

# --- demo image, default command with a mounted JSON config ------------------------------------------
free_port port stats
cat >"$work/demo.json" <<EOF
{"listen": ["127.0.0.1:$port"], "workers": 1, "max-workers": 2, "stats": "127.0.0.1:$stats",
 "command": ["/usr/local/bin/fcgimux-demo"]}
EOF
chmod 0644 "$work/demo.json"
c=fcgimux-ct-config-$tag
if run_container "$c" "$img_demo" -v "$work/demo.json:/etc/fcgimux/fcgimux.json:ro" \
     -e FCGIMUX_HEALTH_ADDR="127.0.0.1:$stats" -- &&
   wait_healthy "http://127.0.0.1:$stats/healthz" "$c"; then
  pass "demo image with a mounted /etc/fcgimux/fcgimux.json starts"
  check "config: FastCGI requests answered" many_requests "$port" 5 'hello from pid' /
  check "config: podman stop -t 5 ends fcgimux by SIGTERM" stop_container "$c"
else
  fail "demo image with a mounted /etc/fcgimux/fcgimux.json starts" <(show_logs "$c")
fi

# --- php image: php-cgi workers, a mounted document root, nginx in front --------------------------
mkdir -p "$work/html"
cp "$repo/docker/html/index.php" "$work/html/index.php"
echo '<?php echo "container-test ", 6 * 7, "\n";' >"$work/html/test.php"
chmod 0755 "$work/html"
chmod 0644 "$work/html"/*.php
free_port port stats
c=fcgimux-ct-php-$tag
# The image's own config/php.json, with the addresses moved by the command line (which wins over the file).
# A low PHP_FCGI_MAX_REQUESTS makes php-cgi exit often: fcgimux must replace it without losing requests.
if [[ $php_built -ne 1 ]]; then
  fail "php image tests: the php target did not build"
elif run_container "$c" "$img_php" -v "$work/html:/var/www/html:ro" -e PHP_FCGI_MAX_REQUESTS=5 \
     -e FCGIMUX_HEALTH_ADDR="127.0.0.1:$stats" -- \
     -c /etc/fcgimux/fcgimux.json --listen "127.0.0.1:$port" --stats "127.0.0.1:$stats" &&
   wait_healthy "http://127.0.0.1:$stats/healthz" "$c"; then
  pass "php image with its config/php.json starts; /healthz answers 200"
  check "php: a script from the mounted document root runs" \
    expect_output 'container-test 42' fcgi_get "$port" /test.php
  check "php: 30 requests while php-cgi exits every 5 requests (PHP_FCGI_MAX_REQUESTS)" \
    many_requests "$port" 30 'hello from php' /index.php
  check "php: /stats shows the php-cgi workers that exited were replaced" stats_check "http://127.0.0.1:$stats/stats" \
    's["requests"]["completed"] >= 31 and s["requests"]["failed"] == 0 and s["workers_exited"] >= 1 and s["workers_spawned"] > 2'
  check "php: fcgimux is PID 1 as uid 10001, php-cgi workers running" container_facts "$c" php-cgi

  free_port hport
  sed -e "s/server php:9000;/server 127.0.0.1:$port;/" \
      -e "s/listen 80 default_server;/listen 127.0.0.1:$hport default_server;/" \
      -e '/listen \[::\]:80/d' "$repo/config/nginx-compose.conf" >"$work/nginx.conf"
  chmod 0644 "$work/nginx.conf"
  n=fcgimux-ct-nginx-$tag
  if [[ $nginx_built -ne 1 ]]; then
    fail "nginx image tests: the nginx target did not build"
  elif run_container "$n" "$img_nginx" -v "$work/nginx.conf:/etc/nginx/conf.d/fcgimux.conf:ro" \
       -v "$work/html:/var/www/html:ro" -- &&
     wait_healthy "http://127.0.0.1:$hport/test.php" "$n"; then
    pass "nginx image with config/nginx-compose.conf starts (127.0.0.1:$hport)"
    check "nginx -> fcgimux -> php-cgi: /test.php" expect_output 'container-test 42' curl -fsS --max-time 10 "http://127.0.0.1:$hport/test.php"
    check "nginx -> fcgimux -> php-cgi: / falls back to index.php" expect_output 'hello from php' curl -fsS --max-time 10 "http://127.0.0.1:$hport/"
    check "nginx: a missing script is 404, not passed to PHP" expect_output '^404$' http_status "http://127.0.0.1:$hport/missing.php"
    timeout 60 podman stop -t 5 "$n" >/dev/null 2>&1
  else
    fail "nginx image with config/nginx-compose.conf starts" <(show_logs "$n")
  fi
  check "php: podman stop -t 5 ends fcgimux by SIGTERM" stop_container "$c"
else
  fail "php image with its config/php.json starts; /healthz answers 200" <(show_logs "$c")
fi


# --- the .deb: cpack on the host from a Release build, apt-get install in a fresh image ---------------
# Only fcgimux, the demo and the manual are built (in $FCGIMUX_DEB_BUILD_DIR, kept for faster reruns).
deb_build=${FCGIMUX_DEB_BUILD_DIR:-$repo/build-deb}
deb_dir=$work/deb
make_deb() {
  cmake -S "$repo" -B "$deb_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFCGIMUX_TESTS=OFF -DFCGIMUX_BENCH=OFF &&
    nice -n 10 cmake --build "$deb_build" --target fcgimux fcgimux-demo fcgimux-man &&
    (cd "$deb_build" && cpack -G DEB -B "$deb_dir") || return 1
  local deb
  deb=$(echo "$deb_dir"/fcgimux_*.deb)
  [[ -f $deb ]] || return 1
  dpkg-deb -f "$deb" Package Version Architecture Section Maintainer Depends
  # dpkg-shlibdeps found the libraries: libfmt is the one beyond the C and C++ runtimes.
  dpkg-deb -f "$deb" Depends | grep -q 'libfmt' && dpkg-deb -f "$deb" Depends | grep -q 'libc6'
}
deb_install() {  # in the container: apt resolves the dependencies through the host network
  timeout 600 podman exec -e DEBIAN_FRONTEND=noninteractive "$1" bash -c '
    set -e
    apt-get update -qq
    cd /deb && apt-get install -y -qq --no-install-recommends ./fcgimux_*.deb
    dpkg-query -W -f="\${Package} \${Version} \${Status}\n" fcgimux
    dpkg-query -W -f="\${Status}" fcgimux | grep -q "install ok installed"'
}
deb_layout() {
  timeout 30 podman exec "$1" bash -c '
    set -e
    for link in /usr/bin/fcgimux-kfcgi /usr/bin/fcgimux-spawn-fcgi /usr/lib/fcgimux/kfcgi /usr/lib/fcgimux/spawn-fcgi; do
      echo "$link -> $(readlink -f $link)"; [[ $(readlink -f $link) == /usr/bin/fcgimux ]]
    done
    grep "^ExecStart=" /usr/lib/systemd/system/fcgimux.service
    grep -qx "ExecStart=/usr/bin/fcgimux -c /etc/fcgimux/fcgimux.json" /usr/lib/systemd/system/fcgimux.service
    grep -qx "ExecReload=/usr/bin/fcgimux -t -c /etc/fcgimux/fcgimux.json" /usr/lib/systemd/system/fcgimux.service
    dpkg -L fcgimux | grep -x /usr/share/man/man8/fcgimux.8.gz
    dpkg -L fcgimux | grep -x /usr/share/doc/fcgimux/copyright
    ldd /usr/bin/fcgimux /usr/lib/fcgimux/fcgimux-demo
    ! ldd /usr/bin/fcgimux /usr/lib/fcgimux/fcgimux-demo | grep -q "not found"
    /usr/bin/fcgimux --version'
}
deb_serves() {  # deb_serves CONTAINER PORT: the demo worker answers through the installed fcgimux
  local out
  for _ in $(seq 75); do
    out=$(fcgi_get "$2" / 2>&1) && grep -q 'hello from pid' <<<"$out" && { echo "$out"; return 0; }
    sleep 0.2
  done
  echo "$out"
  podman exec "$1" cat /tmp/fcgimux.log
  return 1
}
if check "deb: cpack -G DEB from a Release build; dpkg-shlibdeps names libfmt and libc6" make_deb; then
  c=fcgimux-ct-deb-$tag
  if run_container "$c" "$base_image" -v "$deb_dir:/deb:ro" -- sleep infinity; then
    check "deb: apt-get install ./fcgimux_*.deb in a fresh $base_image" deb_install "$c"
    check "deb: links reach /usr/bin/fcgimux, the unit's ExecStart names it, no library missing" deb_layout "$c"
    free_port port
    # As nobody: as root, fcgimux wants --user; setpriv keeps this check independent of that.
    timeout 30 podman exec -d "$c" bash -c "exec setpriv --reuid=65534 --regid=65534 --clear-groups \
      /usr/bin/fcgimux --listen 127.0.0.1:$port --stats off -n 1 -- /usr/lib/fcgimux/fcgimux-demo >/tmp/fcgimux.log 2>&1" >/dev/null
    check "deb: the installed fcgimux serves the installed demo worker (cgi-fcgi, 127.0.0.1:$port)" deb_serves "$c" "$port"
    timeout 60 podman rm -f -t 0 "$c" >/dev/null 2>&1
  else
    fail "deb: start a fresh $base_image" "$(step_log "run-$c")"
  fi
fi

[[ $failed -eq 0 ]]
