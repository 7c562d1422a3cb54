#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# scripts/check-layers.sh passes a copy of the tree and, once an upward include and an include
# through .. are planted in it, fails naming the file, the line and the rule of each.
#   check_layers_test.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/docs"
cp "$src/docs/architecture.md" "$work/docs/"
cp -r "$src/src" "$src/proto" "$work/"
check=$src/scripts/check-layers.sh

bash "$check" "$work" >/dev/null

sed -i '1a #include "src/pool/pool.hpp"' "$work/src/front/listener.cpp"
sed -i '1a #include "../app/server.hpp"' "$work/src/core/request.cpp"
if bash "$check" "$work" 2>"$work/errors"; then
  echo "check-layers.sh passed a tree with an upward include" >&2
  exit 1
fi
cat "$work/errors"
grep -qF 'src/front/listener.cpp:2: #include "src/pool/pool.hpp": layer front may not include layer pool' "$work/errors"
grep -qF 'src/core/request.cpp:2: #include "../app/server.hpp": a path through . or .. escapes' "$work/errors"
[[ $(wc -l <"$work/errors") -eq 2 ]]
