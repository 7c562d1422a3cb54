#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# man_lint.sh PAGE: mandoc and groff find nothing to warn about in the manual page.
set -uo pipefail
page=$1
status=0
for tool in mandoc groff; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh test)"; exit 1; }
done
out=$(mandoc -T lint -W warning "$page" 2>&1)
if [[ $? -ne 0 || -n $out ]]; then echo "FAIL: mandoc -T lint -W warning:"; echo "$out"; status=1; fi
out=$(groff -man -ww -z "$page" 2>&1)
if [[ $? -ne 0 || -n $out ]]; then echo "FAIL: groff -man -ww -z:"; echo "$out"; status=1; fi
# A page that renders to almost nothing would lint clean too.
lines=$(mandoc -T ascii "$page" | wc -l)
if [[ $lines -lt 300 ]]; then echo "FAIL: the page renders to $lines lines only"; status=1; fi
[[ $status -eq 0 ]] && echo "PASS: $page lints clean with mandoc and groff ($lines lines rendered)"
exit $status
