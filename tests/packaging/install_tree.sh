#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# install_tree.sh CMAKE BUILD_DIR SOURCE_DIR: `cmake --install` into a temporary DESTDIR installs
# exactly the expected files, links and units, under /usr (as the .deb) and under /usr/local.
set -uo pipefail
cmake=$1 build=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

# The tree under PREFIX as "path type [link target]", one a line.
expected() {
  local p=$1
  cat <<LIST
$p/bin/fcgimux f
$p/bin/fcgimux-kfcgi l fcgimux
$p/bin/fcgimux-spawn-fcgi l fcgimux
$p/lib/fcgimux/fcgimux-demo f
$p/lib/fcgimux/fcgimux-php-trace f
$p/lib/fcgimux/kfcgi l ../../bin/fcgimux
$p/lib/fcgimux/spawn-fcgi l ../../bin/fcgimux
$p/lib/systemd/system/fcgimux.service f
$p/lib/systemd/system/fcgimux.socket f
$p/share/doc/fcgimux/copyright f
$p/share/doc/fcgimux/examples/nginx-host.conf f
$p/share/doc/fcgimux/examples/php-host.json f
$p/share/doc/fcgimux/examples/pools.json f
$p/share/man/man8/fcgimux.8.gz f
LIST
}

check_prefix() {
  local prefix=$1 root=$tmp/root${1//\//-} name
  if ! DESTDIR=$root "$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    fail "cmake --install --prefix $prefix:"; cat "$tmp/install.log"; return
  fi
  local got
  got=$(cd "$root" && find . ! -type d -printf '/%P %y %l\n' | sed 's/ $//' | sort)
  if ! diff <(expected "$prefix" | sort) <(echo "$got") >"$tmp/diff"; then
    fail "installed files under $prefix differ from the expected list (< expected, > installed):"
    cat "$tmp/diff"
  fi
  for name in fcgimux-kfcgi fcgimux-spawn-fcgi; do
    [[ $(readlink -f "$root$prefix/bin/$name") == "$root$prefix/bin/fcgimux" ]] || fail "$prefix/bin/$name does not reach the binary"
  done
  for name in kfcgi spawn-fcgi; do
    [[ $(readlink -f "$root$prefix/lib/fcgimux/$name") == "$root$prefix/bin/fcgimux" ]] || fail "$prefix/lib/fcgimux/$name does not reach the binary"
  done
  local version
  version=$("$root$prefix/bin/fcgimux" --version 2>&1)
  [[ $version =~ ^fcgimux\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "the installed fcgimux --version printed: $version"
  [[ -x $root$prefix/lib/fcgimux/fcgimux-demo ]] || fail "the demo worker is not executable"
  [[ -x $root$prefix/lib/fcgimux/fcgimux-php-trace ]] || fail "fcgimux-php-trace is not executable"
  # The unit is the repository's, with ExecStart= and ExecReload= naming the installed binary.
  local unit=$root$prefix/lib/systemd/system/fcgimux.service
  grep -qxF "ExecStart=$prefix/bin/fcgimux -c /etc/fcgimux/fcgimux.json" "$unit" ||
    fail "$unit: $(grep '^ExecStart=' "$unit")"
  # A reload checks the same file first (-t) and signals fcgimux only if it is fine.
  [[ $(grep '^ExecReload=' "$unit") == "ExecReload=$prefix/bin/fcgimux -t -c /etc/fcgimux/fcgimux.json"$'\n'"ExecReload=/bin/kill -HUP \$MAINPID" ]] ||
    fail "$unit: $(grep '^ExecReload=' "$unit")"
  local rewritten='^(ExecStart|ExecReload)=[^ ]*/fcgimux '
  diff <(grep -Ev "$rewritten" "$src/config/fcgimux.service") <(grep -Ev "$rewritten" "$unit") >/dev/null ||
    fail "$unit differs from config/fcgimux.service beyond the fcgimux of ExecStart= and ExecReload="
  cmp -s "$src/config/fcgimux.socket" "$root$prefix/lib/systemd/system/fcgimux.socket" || fail "fcgimux.socket differs"
  gzip -dc "$root$prefix/share/man/man8/fcgimux.8.gz" | cmp -s - "$src/docs/fcgimux.8" ||
    fail "fcgimux.8.gz is not docs/fcgimux.8"
  cmp -s "$src/cmake/deb-copyright" "$root$prefix/share/doc/fcgimux/copyright" || fail "copyright is not cmake/deb-copyright"
  for name in php-host.json pools.json nginx-host.conf; do
    cmp -s "$src/config/$name" "$root$prefix/share/doc/fcgimux/examples/$name" || fail "example $name differs"
  done
  [[ $status -eq 0 ]] && echo "PASS: cmake --install --prefix $prefix: $(echo "$got" | wc -l) files and links as expected"
}

check_prefix /usr
check_prefix /usr/local
exit $status
