#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Installs, from Debian's packages, whatever the named groups need and the machine lacks.
#   scripts/deps.sh build          compiler, CMake and the libraries
#   scripts/deps.sh test           + the real peers the tests run (nginx, php-cgi, fcgiwrap, gdb, ...)
#   scripts/deps.sh fuzz|bench|stats|container   (container: also cpack's dpkg-shlibdeps for the .deb)
#   scripts/deps.sh stress         the CPU hogs of scripts/stress-test.sh
#   scripts/deps.sh kubernetes     Prometheus, node and python3-yaml for tests/kubernetes
set -euo pipefail

declare -A group=(
  [build]="g++ cmake ninja-build make libasio-dev libfmt-dev nlohmann-json3-dev catch2 php8.2-dev"
  [demo]="libfcgi-bin curl"
  [test]="nginx-light php-cgi php-fpm fcgiwrap libfcgi-bin spawn-fcgi curl procps python3 systemd mandoc groff-base dpkg-dev file strace apache2 libfcgi-dev iproute2 nftables gdb lighttpd"
  [fuzz]="clang libclang-rt-14-dev"
  [bench]="wrk nginx-light spawn-fcgi php-cgi php-fpm procps python3 curl"
  [stats]="prometheus chromium"
  [stress]="stress-ng"
  # tests/kubernetes: also kubectl (not a Debian package) and npm (Debian's npm, or nodejs's own)
  [kubernetes]="prometheus python3-yaml nodejs nginx-light"
  # container: also kubectl (not a Debian package) for the deploy/kubernetes/base part
  [container]="podman runc mmdebstrap uidmap libfcgi-bin curl python3 python3-yaml dpkg-dev file"
)

wanted=()
for g in "${@:-build}"; do
  [[ -n "${group[$g]:-}" ]] || { echo "deps.sh: unknown group '$g'" >&2; exit 2; }
  wanted+=(${group[$g]})
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
# An apt list older than a day may name package versions the mirror no longer has.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
  $sudo_cmd apt-get update -qq
fi
# Wait for another apt (unattended upgrades, a parallel job) instead of failing at once.
$sudo_cmd apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services on install; fcgimux's tests start their own instances.
for svc in nginx php8.2-fpm apache2; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo_cmd systemctl stop "$svc" || true
  fi
done
