#!/usr/bin/env bash
# tools/plot_sweep.py on the synthetic example: all ten files written (PNG signature, SVG that
# parses), the same bytes on a second run, and exit 2 with one line for bad CSVs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
plot=$root/tools/plot_sweep.py
csv=$root/tests/data/sweep/example_results.csv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lpusim-plot-sweep.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passes=0 failures=0
check() {
  if eval "$2"; then echo "ok: $1"; passes=$((passes + 1)); else echo "FAILED: $1"; failures=$((failures + 1)); fi
}

"$plot" "$csv" --out "$tmp/a" >"$tmp/a.list" 2>"$tmp/a.err"
check "exit 0 on the example" "[[ $? -eq 0 ]]"
check "ten files listed" "[[ \$(wc -l <'$tmp/a.list') -eq 10 ]]"
check "the 8 failed points are reported" "grep -q 'skipped 8 failed point' '$tmp/a.err'"
for stem in tps_vs_chip.mem.words_per_slice tps_vs_chip.clock_mhz tps_vs_scenario.batch pareto_chips pareto_sram; do
  check "$stem.png is a PNG" "[[ \$(head -c 8 '$tmp/a/$stem.png' | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]]"
  check "$stem.svg parses" "python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' '$tmp/a/$stem.svg'"
done
"$plot" "$csv" --out "$tmp/b" >/dev/null 2>&1
check "a second run writes the same bytes" "diff -r '$tmp/a' '$tmp/b' >/dev/null"

printf 'a,b\n1,2\n' >"$tmp/nocols.csv"
head -c 512 /bin/sh >"$tmp/binary.csv"
printf 'point,model,param:x,status,tokens_per_s_per_user,chips,sram_used_bytes,sram_fraction\n1,m,2,ok,5\n' >"$tmp/short.csv"
for bad in nocols binary short; do
  "$plot" "$tmp/$bad.csv" --out "$tmp/bad" >/dev/null 2>"$tmp/$bad.err"
  rc=$?
  check "$bad.csv: exit 2 with one line" "[[ $rc -eq 2 && \$(wc -l <'$tmp/$bad.err') -eq 1 ]]"
done
check "nothing written for bad CSVs" "[[ ! -e '$tmp/bad' ]]"

echo "plot_sweep: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
