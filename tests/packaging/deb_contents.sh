#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# deb_contents.sh BUILD_DIR SOURCE_DIR: cpack makes the .deb from this build, and it carries
# /usr/share/doc/fcgimux/copyright in Debian's machine-readable format, with the licence of LICENSE.
set -uo pipefail
build=$1 src=$2
command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
  { echo "FAIL: dpkg-deb and dpkg-shlibdeps are missing (scripts/deps.sh container: dpkg-dev)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

if ! (cd "$build" && cpack -G DEB -B "$tmp/deb") >"$tmp/cpack.log" 2>&1; then
  echo "FAIL: cpack -G DEB:"; cat "$tmp/cpack.log"; exit 1
fi
deb=$(echo "$tmp"/deb/fcgimux_*.deb)
[[ -f $deb ]] || { echo "FAIL: cpack made no fcgimux_*.deb:"; ls -l "$tmp/deb"; exit 1; }

listing=$(dpkg-deb -c "$deb")
grep -qE ' \./usr/share/doc/fcgimux/copyright$' <<<"$listing" ||
  fail "$(basename "$deb") has no ./usr/share/doc/fcgimux/copyright:"$'\n'"$listing"
copyright=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/doc/fcgimux/copyright 2>/dev/null)
[[ $copyright == "$(cat "$src/cmake/deb-copyright")" ]] || fail "the .deb's copyright is not cmake/deb-copyright"
head -1 <<<"$copyright" | grep -qxF 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
  fail "copyright: the first line is not the format's Format: field"
grep -qxF 'License: ISC' <<<"$copyright" || fail "copyright: no License: ISC"
grep -qxF 'Copyright: 2026 The fcgimux authors' <<<"$copyright" || fail "copyright: no Copyright: line for the authors"
# The stand-alone License: ISC paragraph is LICENSE's text after its copyright line (" ." for a blank line).
licence=$(awk '/^License: ISC$/ { n++ } n == 2 && !/^License:/' <<<"$copyright" | sed -e 's/^ \.$//' -e 's/^ //')
[[ $licence == "$(tail -n +3 "$src/LICENSE")" ]] || fail "copyright: the ISC text differs from LICENSE's"
head -1 "$src/LICENSE" | grep -qxF 'Copyright (c) 2026 The fcgimux authors' || fail "LICENSE: not the authors' 2026 copyright"

[[ $status -eq 0 ]] && echo "PASS: $(basename "$deb") carries /usr/share/doc/fcgimux/copyright (ISC, as LICENSE)"
exit $status
