#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Checks every #include of src/ and proto/ against the layers block of docs/architecture.md (the
# block CMake builds each layer's include root from, cmake/layers.cmake), and names the file, the
# line and the rule each one breaks.
#   scripts/check-layers.sh [ROOT]          check the tree at ROOT (default: this repository)
#   scripts/check-layers.sh --table [ROOT]  print the block's rules, one layer a line
set -euo pipefail
table_only=0
if [[ ${1:-} == --table ]]; then table_only=1; shift; fi
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
doc=docs/architecture.md
cd "$root"

table=$(awk '/^```layers/ { on = 1; next } on && /^```/ { exit } on && !/^[ \t]*(#|$)/ { print }' "$doc")
if [[ -z $table ]]; then
  echo "check-layers: $doc has no \`\`\`layers block" >&2
  exit 1
fi
if (( table_only )); then
  printf '%s\n' "$table"
  exit 0
fi

mapfile -t files < <(find src proto -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)
awk -v table="$table" -v doc="$doc" '
function fail(msg) { print msg > "/dev/stderr"; failed = 1 }
function exists(path,   line, r) { r = (getline line < path); if (r >= 0) close(path); return r >= 0 }
function layer_of(path,   p) {
  if (path ~ /^proto\//) return "proto"
  split(path, p, "/")
  return (p[1] == "src" && p[3] != "") ? p[2] : ""
}
BEGIN {
  n = split(table, rows, "\n")
  for (i = 1; i <= n; ++i) {
    m = split(rows[i], w, /[ \t]+/)
    known[w[1]] = 1
    order[++layers] = w[1]
    for (j = 2; j <= m; ++j) if (w[j] != "") { may[w[1], w[j]] = 1; deps[w[1]] = deps[w[1]] " " w[j] }
  }
  for (i = 1; i <= layers; ++i) {
    l = order[i]
    m = split(deps[l], d, " ")
    for (j = 1; j <= m; ++j) {
      if (!(d[j] in known)) { fail(doc ": layer " l " lists " d[j] ", which is no layer of the block"); continue }
      if (may[d[j], l]) fail(doc ": layers " l " and " d[j] " may include each other")
      k = split(deps[d[j]], e, " ")
      for (x = 1; x <= k; ++x)
        if (e[x] != l && !may[l, e[x]])
          fail(doc ": layer " l " may include " d[j] ", which may include " e[x] ": " l " must list " e[x] " too")
    }
  }
}
FNR == 1 {
  layer = layer_of(FILENAME)
  dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
  ++nfiles
  if (!(layer in known)) fail(FILENAME ": its directory is not a layer of " doc "'"'"'s layers block")
}
/^[ \t]*#[ \t]*include[ \t]*["<]/ && (layer in known) {
  line = $0
  sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
  quoted = substr(line, 1, 1) == "\""
  path = substr(line, 2); sub(/[">].*$/, "", path)
  if (!quoted && path !~ /^(src|proto)\//) next
  ++nincludes
  where = FILENAME ":" FNR ": #include " substr(line, 1, length(path) + 2)
  if (path ~ /(^|\/)\.\.?\//) { fail(where ": a path through . or .. escapes the include roots; name it \"src/LAYER/FILE\""); next }
  if (path !~ /\//) {
    if (!exists(dir "/" path)) fail(where ": no such file in " dir "; a file of another layer is \"src/LAYER/FILE\"")
    else edge[FILENAME, dir "/" path] = FNR
    next
  }
  target = layer_of(path)
  if (target == "" || (path !~ /^proto\// && path !~ /^src\//)) { fail(where ": neither \"src/LAYER/FILE\", \"proto/FILE\" nor a file of its own directory"); next }
  if (target != layer && !may[layer, target])
    fail(where ": layer " layer " may not include layer " target " (" layer " may include:" (deps[layer] == "" ? " nothing else" : deps[layer]) "; " doc ", layers)")
  edge[FILENAME, path] = FNR
}
END {
  for (k in edge) {
    split(k, ab, SUBSEP)
    if (ab[1] < ab[2] && ((ab[2], ab[1]) in edge))
      fail(ab[1] ":" edge[k] " and " ab[2] ":" edge[ab[2], ab[1]] " include each other")
  }
  if (failed) exit 1
  printf "check-layers: %d files, %d includes, each within the layers of %s\n", nfiles, nincludes, doc
}' "${files[@]}"
