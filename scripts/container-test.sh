#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Builds the images of docker/Dockerfile (demo, php, nginx) with rootful podman and smoke-tests them:
# FastCGI requests through fcgimux, nginx -> fcgimux -> php-cgi, /stats, /metrics and /healthz, the
# image's HEALTHCHECK, a request in flight while the container is stopped, and fcgimux's exit status.
# Then runs the pods of deploy/kubernetes/base (kubectl kustomize) as the kubelet would: the php image
# with the ConfigMap's pools JSON, nginx (uid 33) in front, read-only roots, no capabilities, no shell.
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
k8s_mounts=() k8s_tags=()
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
  local c m
  # Only our own store: without its configuration podman would reset the machine's default one.
  if [[ $podman_ready -eq 1 ]]; then
    for c in "${containers[@]}"; do timeout 60 podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    for m in "${k8s_mounts[@]}"; do umount "$m" 2>/dev/null; done
    if [[ $keep != 1 ]]; then
      timeout 120 podman rmi -f "$img_demo" "$img_php" "$img_nginx" "${k8s_tags[@]}" >/dev/null 2>&1
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
# fcgi_net: a command prefix (nsenter) that runs cgi-fcgi in a container's network namespace.
fcgi_net=()
fcgi_get() {
  timeout 15 "${fcgi_net[@]}" env -i REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
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

# --- deploy/kubernetes/base: its pods run as the kubelet would run them ------------------------------
# The Deployments are rendered with kubectl kustomize and translated by scripts/k8s-pod-podman.py:
# the manifest's user, read-only root, capabilities, no-new-privileges, env, args, init container,
# ConfigMap files (read-only) and emptyDirs (0777, as the kubelet makes them; a tmpfs for
# medium: Memory). Each pod gets its own network namespace (--network none: the manifest's own
# ports, no clash with the host's); nginx joins fcgimux's, with "fcgimux" (the Service) resolving to
# it. The image's shells are masked, so anything that needed one would fail here.
k8s=$work/k8s
mkdir -p "$k8s"
k8s_started=$SECONDS
k8s_render() {
  kubectl kustomize "$repo/deploy/kubernetes/base" >"$k8s/base.yaml" &&
    python3 "$repo/scripts/k8s-pod-podman.py" "$k8s/base.yaml" fcgimux "$k8s" >"$k8s/fcgimux.sh" &&
    python3 "$repo/scripts/k8s-pod-podman.py" "$k8s/base.yaml" nginx "$k8s" >"$k8s/nginx.sh" &&
    cat "$k8s/fcgimux.sh" "$k8s/nginx.sh"
}
# The Deployments name the images by the tags docs/kubernetes.md builds: fcgimux-php (target php),
# fcgimux-nginx (target nginx). Tag the images built above so; a name the manifests changed alone
# is then an image podman does not have (--pull=never), and this check fails.
k8s_images() {
  local image
  for image in "$@"; do
    case ${image%%:*} in
      fcgimux-php) podman tag "$img_php" "localhost/$image" ;;
      fcgimux-nginx) podman tag "$img_nginx" "localhost/$image" ;;
      *) echo "no target builds $image"; return 1 ;;
    esac || return 1
    k8s_tags+=("localhost/$image")
    podman image exists "$image" || return 1
    echo "$image: $(podman image inspect --format '{{.Id}}' "$image")"
  done
}
# k8s_masks IMAGE: -v options putting an empty, non-executable file over every shell the image has
# (each line of its /etc/shells that exists, links resolved).
k8s_masks() {
  local shells real
  shells=$(podman run --rm --pull=never --no-healthcheck --network none --entrypoint /usr/bin/cat "$1" /etc/shells | grep '^/') || return 1
  # shellcheck disable=SC2086
  real=$(podman run --rm --pull=never --no-healthcheck --network none --entrypoint /usr/bin/readlink "$1" -e -f $shells | sort -u)
  [[ -n $real ]] || return 1
  : >"$k8s/no-shell"
  chmod 0644 "$k8s/no-shell"
  for s in $real; do printf -- '-v\n%s:%s:ro\n' "$k8s/no-shell" "$s"; done
}
mask_paths() {  # mask_paths MASKS...: the paths the -v options of k8s_masks cover
  local m
  for m in "$@"; do [[ $m == -v ]] || { m=${m#"$k8s/no-shell:"}; echo "${m%:ro}"; }; done
}
shell_masked() {  # shell_masked IMAGE MASKS...: /bin/sh runs, and with the masks it does not
  local image=$1
  shift
  timeout 60 podman run --rm --pull=never --no-healthcheck --network none --entrypoint /bin/sh "$image" -c 'echo shell ran' |
    grep -x 'shell ran' || return 1
  echo "masked: $*"
  ! timeout 60 podman run --rm --pull=never --no-healthcheck --network none "$@" --entrypoint /bin/sh "$image" -c 'echo shell ran'
}
# proc_facts HOSTPID UID: the kernel's view of the pod's PID 1: its uid, no capability, no_new_privs,
# a read-only root mount.
proc_facts() {
  local st root
  st=$(cat "/proc/$1/status") || return 1
  root=$(awk '$5 == "/" {print $6}' "/proc/$1/mountinfo")
  grep -E '^(Name|Uid|Gid|CapEff|CapBnd|NoNewPrivs):' <<<"$st"
  echo "root mount: $root"
  awk '/^Uid:/{exit !($2 == u && $3 == u)}' u="$2" <<<"$st" &&
    grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$st" &&
    grep -q '^CapBnd:[[:space:]]*0000000000000000$' <<<"$st" &&
    grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$st" &&
    [[ ,$root, == *,ro,* ]]
}
pod_net() { local pid=$1; shift; nsenter --net="/proc/$pid/ns/net" -- "$@"; }
pod_ready() {  # pod_ready NAME PID PORT PATH: the readiness probe answers 200
  for _ in $(seq 150); do
    [[ $(pod_net "$2" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$3$4") == 200 ]] && return 0
    [[ $(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]] || return 1
    sleep 0.2
  done
  return 1
}
# php_answered ANSWER NAME CONTAINER: the page echoed the query and its pid is a php-cgi of the pod.
php_answered() {
  local pid comm
  echo "$1"
  grep -q "^name $2\$" <<<"$1" || return 1
  pid=$(sed -n 's/^hello from php .*, pid \([0-9]*\)$/\1/p' <<<"$1")
  [[ -n $pid ]] || return 1
  comm=$(podman top "$3" pid comm | awk -v p="$pid" '$1 == p {print $2}')
  echo "pid $pid in the pod is: ${comm:-nothing}"
  [[ $comm == php-cgi ]]
}
k8s_fcgi() {  # k8s_fcgi PID PORT NAME CONTAINER
  local out
  out=$(fcgi_net=(nsenter --net="/proc/$1/ns/net" --); fcgi_get "$2" /index.php "name=$3") || { echo "$out"; return 1; }
  php_answered "$out" "$3" "$4"
}
k8s_http() {  # k8s_http PID PORT NAME CONTAINER: GET /?name=NAME through nginx
  local out
  out=$(pod_net "$1" curl -fsS --max-time 15 "http://127.0.0.1:$2/?name=$3") || { echo "$out"; return 1; }
  php_answered "$out" "$3" "$4"
}
# nothing_written NAME MOUNTS...: podman diff (the container's own layer) holds nothing but the
# mount points podman made, and no write failed on the read-only root.
nothing_written() {
  local name=$1 diff extra m
  shift
  diff=$(podman diff "$name") || return 1
  extra=$diff
  for m in "$@"; do extra=$(grep -v -x -E "[AC] ($m|${m%/*}|/)" <<<"$extra"); done
  echo "podman diff: ${diff:-nothing}"
  echo "read-only root: $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")"
  [[ $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name") == true ]] || return 1
  [[ -z $extra ]] || { echo "written outside the mounts: $extra"; return 1; }
  ! podman logs "$name" 2>&1 | grep -i 'read-only file system'
}
# k8s_sigterm NAME PID PORT STATS_PORT GRACE: as the kubelet stops a pod. During --shutdown-delay
# /healthz is 503 and FastCGI still served; PID 1 then exits 0 or 143 before the grace period ends.
k8s_sigterm() {
  local name=$1 pid=$2 t0 code status
  t0=$SECONDS
  podman kill --signal TERM "$name" >/dev/null || return 1
  for _ in $(seq 50); do
    status=$(pod_net "$pid" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$4/healthz")
    [[ $status == 503 ]] && break
    sleep 0.1
  done
  echo "/healthz after SIGTERM: $status"
  [[ $status == 503 ]] || return 1
  k8s_fcgi "$pid" "$3" during-delay "$name" || return 1
  if ! code=$(timeout "$5" podman wait "$name"); then
    echo "still running after the grace period ($5 s): SIGKILL, as the kubelet would"
    podman kill --signal KILL "$name" >/dev/null 2>&1
    return 1
  fi
  echo "exit status $code, $((SECONDS - t0)) s after SIGTERM (grace $5 s)"
  [[ $code == 0 || $code == 143 ]]
}

if [[ $php_built -ne 1 || $nginx_built -ne 1 ]]; then
  fail "k8s: the php and nginx targets did not build"
elif ! check "k8s: kubectl kustomize deploy/kubernetes/base; its fcgimux and nginx pods translate to podman run" k8s_render; then
  :
else
  # shellcheck disable=SC1091
  source "$k8s/fcgimux.sh"
  f_main=("${pod_main[@]}") f_images=("${pod_images[@]}") f_grace=$pod_grace f_empty=("${pod_empty[@]}")
  f_init=() f_init_count=$pod_init_count
  for ((i = 0; i < pod_init_count; i++)); do v="pod_init_$i[@]"; f_init+=("$(printf '%q ' "${!v}")"); done
  f_fcgi=$pod_port_fastcgi f_stats=$pod_port_stats f_probe_port=$pod_probe_port f_probe_path=$pod_probe_path
  source "$k8s/nginx.sh"
  n_main=("${pod_main[@]}") n_images=("${pod_images[@]}") n_grace=$pod_grace n_empty=("${pod_empty[@]}")
  n_probe_port=$pod_probe_port n_probe_path=$pod_probe_path n_http=$pod_port_http
  # emptyDir medium Memory: a tmpfs of the sizeLimit, mode 0777 as the kubelet mounts it.
  k8s_tmpfs_ok=1
  for ((i = 0; i < ${#f_empty[@]} + ${#n_empty[@]}; i += 3)); do
    all=("${f_empty[@]}" "${n_empty[@]}")
    [[ ${all[i + 1]} == Memory ]] || continue
    size=${all[i + 2]}
    [[ $size == - ]] && size=50%
    size=${size%i}
    if mount -t tmpfs -o "size=${size,,},mode=0777" tmpfs "${all[i]}"; then
      k8s_mounts+=("${all[i]}")
    else
      k8s_tmpfs_ok=0
    fi
  done
  fc=fcgimux-ct-k8s-$tag nc=nginx-ct-k8s-$tag
  if [[ $k8s_tmpfs_ok -ne 1 ]]; then
    fail "k8s: mount a tmpfs for the emptyDir of medium Memory"
  elif check "k8s: the Deployments' images are the targets built here (${f_images[*]} ${n_images[*]})" \
       k8s_images "${f_images[@]}" "${n_images[@]}" &&
     mapfile -t f_masks < <(k8s_masks "${f_images[0]}") && mapfile -t n_masks < <(k8s_masks "${n_images[0]}") &&
     check "k8s: with the php image's shells masked, /bin/sh cannot run" shell_masked "${f_images[0]}" "${f_masks[@]}"; then
    # Before the init containers ran: fcgimux must refuse the bare emptyDir (0777, not sticky) for
    # its worker sockets, or the init container would be needless.
    bc=fcgimux-ct-k8s-noinit-$tag
    containers+=("$bc")
    check "k8s: without its init container the fcgimux pod does not start (the emptyDir /tmp is 0777)" \
      expect_output "no directory to make the workers' runtime directory in" \
      bash -c '! timeout 60 podman run --rm --name "$0" --network none "$@"' "$bc" "${f_masks[@]}" "${f_main[@]}"
    init_ok=1
    for ((i = 0; i < f_init_count; i++)); do
      eval "init_args=(${f_init[i]})"
      check "k8s: init container $((i + 1)) of the fcgimux pod exits 0" \
        timeout 120 podman run --rm --network none "${f_masks[@]}" "${init_args[@]}" || init_ok=0
    done
    # nginx first: podman removes no container whose network namespace another one shares.
    containers+=("$nc" "$fc")
    if [[ $init_ok -eq 1 ]] &&
       timeout 60 podman run -d --name "$fc" --network none "${f_masks[@]}" "${f_main[@]}" >"$(step_log "run-$fc")" 2>&1 &&
       fpid=$(podman inspect --format '{{.State.Pid}}' "$fc") &&
       pod_ready "$fc" "$fpid" "$f_probe_port" "$f_probe_path"; then
      pass "k8s: fcgimux pod ready ($f_probe_path on $f_probe_port 200): the ConfigMap's pools JSON, read-only root, no shell"
      check "k8s: fcgimux pod's PID 1 runs as uid 10001, no capability, no_new_privs, root mounted read-only" \
        proc_facts "$fpid" 10001
      check "k8s: a FastCGI request on port $f_fcgi is answered by a php-cgi of the pod" k8s_fcgi "$fpid" "$f_fcgi" "fcgi-$tag" "$fc"
      check "k8s: /metrics has fcgimux_pool_saturation" \
        expect_output '^fcgimux_pool_saturation{' pod_net "$fpid" curl -fsS --max-time 5 "http://127.0.0.1:$f_stats/metrics"
      printf '127.0.0.1 localhost\n127.0.0.1 fcgimux\n' >"$k8s/hosts"
      chmod 0644 "$k8s/hosts"
      if timeout 60 podman run -d --name "$nc" --network "container:$fc" -v "$k8s/hosts:/etc/hosts:ro" \
           "${n_masks[@]}" "${n_main[@]}" >"$(step_log "run-$nc")" 2>&1 &&
         npid=$(podman inspect --format '{{.State.Pid}}' "$nc") &&
         pod_ready "$nc" "$npid" "$n_probe_port" "$n_probe_path"; then
        pass "k8s: nginx pod ready ($n_probe_path on $n_probe_port 200): its ConfigMap's nginx.conf, read-only root, no shell"
        check "k8s: nginx pod's PID 1 runs as uid 33 (www-data), no capability, no_new_privs, root mounted read-only" \
          proc_facts "$npid" 33
        check "k8s: HTTP through nginx -> fcgimux -> php-cgi" k8s_http "$npid" "$n_http" "http-$tag" "$fc"
        check "k8s: podman stop -t $n_grace ends nginx (exit 0)" \
          expect_output '^0$' bash -c "timeout $((n_grace + 30)) podman stop -t $n_grace $nc >/dev/null && podman inspect --format '{{.State.ExitCode}}' $nc"
        check "k8s: nginx wrote nothing outside its mounts" nothing_written "$nc" /tmp /etc/nginx-k8s /etc/hosts $(mask_paths "${n_masks[@]}")
      else
        fail "k8s: nginx pod ready" <(cat "$(step_log "run-$nc")"; show_logs "$nc")
      fi
      check "k8s: SIGTERM: /healthz 503 and still serving during the delay, then exit 0 or 143 within $f_grace s" \
        k8s_sigterm "$fc" "$fpid" "$f_fcgi" "$f_stats" "$f_grace"
      podman logs "$fc" >"$(step_log "logs-$fc")" 2>&1
      check "k8s: fcgimux wrote nothing outside its mounts" nothing_written "$fc" /tmp /etc/fcgimux $(mask_paths "${f_masks[@]}")
      printf 'INFO  k8s: left in the emptyDirs: %s\n' \
        "$(cd "$k8s" && find ./*-empty-* -mindepth 1 -printf '%p %m %u\n' | tr '\n' ';')"
    else
      fail "k8s: fcgimux pod ready" <(cat "$(step_log "run-$fc")"; show_logs "$fc")
    fi
  fi
fi
printf 'INFO  k8s: the deploy/kubernetes/base part took %ss\n' "$((SECONDS - k8s_started))"

# --- the .deb: cpack on the host from a Release build, apt-get install in a fresh image ---------------
# Only fcgimux, the demo, fcgimux-php-trace and the manual are built (in $FCGIMUX_DEB_BUILD_DIR, kept for faster reruns).
deb_build=${FCGIMUX_DEB_BUILD_DIR:-$repo/build-deb}
deb_dir=$work/deb
make_deb() {
  cmake -S "$repo" -B "$deb_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFCGIMUX_TESTS=OFF -DFCGIMUX_BENCH=OFF -DFCGIMUX_UNITY=ON &&
    nice -n 10 cmake --build "$deb_build" --target fcgimux fcgimux-demo fcgimux-php-trace fcgimux-man &&
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
    ldd /usr/bin/fcgimux /usr/lib/fcgimux/fcgimux-demo /usr/lib/fcgimux/fcgimux-php-trace
    ! ldd /usr/bin/fcgimux /usr/lib/fcgimux/fcgimux-demo /usr/lib/fcgimux/fcgimux-php-trace | grep -q "not found"
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
