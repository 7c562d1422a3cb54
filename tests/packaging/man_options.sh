#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# man_options.sh FCGIMUX PAGE: every option that `fcgimux --help` prints has an entry of its own
# under OPTIONS in the manual page, with the same short letter ("-n, --workers"). Options the page
# documents beyond --help are fine (they may not have landed yet).
set -uo pipefail
fcgimux=$1 page=$2
command -v mandoc >/dev/null || { echo "FAIL: mandoc is missing (scripts/deps.sh test)"; exit 1; }

help=$("$fcgimux" --help) || { echo "FAIL: $fcgimux --help failed"; exit 1; }
# "  -n, --workers N   ..." or "      --listen VALUE   ...", reduced to "-n, --workers" / "--listen".
mapfile -t wanted < <(sed -nE 's/^ {2,}((-[A-Za-z0-9], )?--[a-z0-9][a-z0-9-]*).*/\1/p' <<<"$help")
[[ ${#wanted[@]} -gt 0 ]] || { echo "FAIL: no option found in --help:"; echo "$help"; exit 1; }

# The tags of the OPTIONS section as rendered: .TP tags start at column 8, wide so none wraps.
rendered=$(mandoc -T ascii -O width=400 "$page" | sed 's/.\x08//g')
mapfile -t tags < <(awk '/^[A-Z]/ { in_options = ($0 == "OPTIONS") } in_options' <<<"$rendered" |
                    sed -nE 's/^ {7}((-[A-Za-z0-9], )?--[a-z0-9][a-z0-9-]*).*/\1/p')
[[ ${#tags[@]} -gt 0 ]] || { echo "FAIL: no option entry found under OPTIONS in $page"; exit 1; }

missing=()
# From a string, not a pipe: grep -q leaving early would give printf a SIGPIPE, which pipefail
# would count as a missing entry.
tag_lines=$(printf '%s\n' "${tags[@]}")
for o in "${wanted[@]}"; do
  grep -qxF -- "$o" <<<"$tag_lines" || missing+=("$o")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "FAIL: options of --help without an entry under OPTIONS in $page:"
  printf '  %s\n' "${missing[@]}"
  exit 1
fi
echo "PASS: all ${#wanted[@]} options of --help have an entry (the page has ${#tags[@]})"
