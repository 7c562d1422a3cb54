#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The include directories each layer's target compiles with (DIRS_FILE: "LAYER DIR..." a line)
# resolve exactly the layers docs/architecture.md lets it include (__has_include, the compiler's own
# lookup, for every layer), and a real #include of the nearest layer above it stops the compiler with
# "No such file or directory".
#   include_roots_test.sh CXX DIRS_FILE SOURCE_DIR
set -euo pipefail
cxx=$1 dirs_file=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

layers=()
declare -A allowed header
while read -r layer deps; do
  layers+=("$layer")
  allowed[$layer]=" $layer $deps "
done < <(bash "$src/scripts/check-layers.sh" --table "$src")
# One header of each layer stands for it.
for l in "${layers[@]}"; do
  dir=src/$l
  [[ $l == proto ]] && dir=proto
  header[$l]=$dir/$(cd "$src/$dir" && ls -- *.hpp | head -1)
done

failed=0
refused=()
declare -A tested
while read -r layer dirs; do
  [[ -n $layer ]] || continue
  tested[$layer]=1
  args=()
  for d in $dirs; do args+=("-I$d"); done
  # The probes live in a directory of their own, so a quoted include finds nothing beside them.
  probe=$work/$layer.cpp
  : >"$probe"
  for l in "${layers[@]}"; do
    printf '#if __has_include("%s")\nsees %s\n#endif\n' "${header[$l]}" "$l" >>"$probe"
  done
  seen=" $("$cxx" -std=c++20 -E -P "${args[@]}" "$probe" | awk '/^sees / { printf "%s ", $2 }')"
  up="" below=""
  for l in "${layers[@]}"; do
    may=no sees=no
    [[ ${allowed[$layer]} == *" $l "* ]] && may=yes
    [[ $seen == *" $l "* ]] && sees=yes
    if [[ $may != "$sees" ]]; then
      echo "layer $layer: may include $l: $may, but its include directories resolve it: $sees" >&2
      failed=1
    fi
    # The nearest layer above it that it may not include (for the top one, the first below).
    [[ $may == no && ( -z $below || -z $up ) ]] && up=$l
    [[ $l == "$layer" ]] && below=yes
  done
  [[ -n $up ]] || continue
  # What a developer would write: the compiler must refuse it.
  printf '#include "%s"\n' "${header[$up]}" >"$work/up.cpp"
  if out=$("$cxx" -std=c++20 -E "${args[@]}" "$work/up.cpp" 2>&1 >/dev/null); then
    echo "layer $layer: #include \"${header[$up]}\" builds" >&2
    failed=1
  elif [[ $out != *"${header[$up]}: No such file or directory"* ]]; then
    echo "layer $layer: #include \"${header[$up]}\" fails, but not for want of the file: $out" >&2
    failed=1
  fi
  refused+=("$layer: $up")
done <"$dirs_file"
for l in "${layers[@]}"; do
  if [[ -z ${tested[$l]:-} ]]; then
    echo "layer $l: no include directories in $dirs_file" >&2
    failed=1
  fi
done
((failed == 0)) || exit 1
echo "${#layers[@]} layers: each resolves only what docs/architecture.md allows (__has_include of every"
echo "layer), and a real #include of the nearest one it may not include fails to build:"
printf '  %s\n' "${refused[@]}"
