#!/usr/bin/env bash
# lpusim report on the trace of workloads/examples/vadd.s (derivation in its comments):
#   mem.w0 and mem.e0 read at cycle 0 (func 2: results land at 2), vxm.alu0 adds at 3 (lands
#   at 5), mem.e1 writes at 7 (lands at 8). So the trace spans 8 cycles with 4 instructions on
#   4 queues, and the inferred critical path is read (0-2), wait 1, add (3-5), wait 2,
#   write (7-8): 3 instructions, 3 cycles of waiting. The chip has nothing in flight in
#   cycles 2-3 and 5-7: 3 idle cycles.
# Then the PNG is written, --json parses, and malformed traces exit 2 with one line.
# Usage: report_test.sh LPUSIM SOURCE_DIR
set -uo pipefail
lpusim=$1
root=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lpusim-report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passes=0 failures=0
check() {
  if eval "$2"; then echo "ok: $1"; passes=$((passes + 1)); else echo "FAILED: $1"; failures=$((failures + 1)); fi
}
"$lpusim" run "$root/workloads/examples/vadd.s" --trace "$tmp/vadd.json" >/dev/null 2>&1
check "run --trace writes a trace" "[[ -s '$tmp/vadd.json' ]]"
"$lpusim" report "$tmp/vadd.json" >"$tmp/report.out" 2>&1
code=$?
cat "$tmp/report.out"
check "report exits 0" "[[ $code -eq 0 ]]"
check "span 8 cycles, 4 instructions on 4 queues" "grep -q 'span  *8 cycles (0.009 us), 4 instructions on 4 queues' '$tmp/report.out'"
check "critical path: 3 instructions" "grep -q 'critical path 3 instructions over the 8 cycles' '$tmp/report.out'"
check "critical path: 3 cycles waiting between steps" "grep -q 'waiting between steps (stream hops, skew, slack) 3 (38%)' '$tmp/report.out'"
check "critical path runs read, add, write" \
  "grep -Eq '^ +0-2 +mem\.(w0|e0) +read' '$tmp/report.out' && grep -Eq '^ +3-5 +vxm\.alu0 +add' '$tmp/report.out' && grep -Eq '^ +7-8 +mem\.e1 +write' '$tmp/report.out'"
check "3 idle cycles on the whole chip" "grep -q 'whole chip  *3 cycles with no instruction in flight' '$tmp/report.out'"
check "the timeline PNG is written" \
  "[[ \$(head -c 8 '$tmp/vadd.timeline.png' 2>/dev/null | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]]"
"$lpusim" report "$tmp/vadd.json" --json --no-png >"$tmp/report.json" 2>&1
check "--json parses and holds the span" "python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j[\"span_cycles\"] == 8, j' '$tmp/report.json'"

# A bigger trace: gemv1024x512 (four MXM planes), only that it reports and draws.
"$lpusim" run "$root/workloads/examples/gemv1024x512.s" --trace "$tmp/gemv.json" >/dev/null 2>&1
"$lpusim" report "$tmp/gemv.json" --png "$tmp/gemv.png" >"$tmp/gemv.out" 2>&1
check "report of gemv1024x512 exits 0 and draws" "[[ $? -eq 0 && -s '$tmp/gemv.png' ]]"

printf '{"traceEvents": [' >"$tmp/truncated.json"
printf '{"traceEvents": [{"ph": "X", "pid": 1, "name": "read"}]}' >"$tmp/no_tid.json"
printf '{"displayTimeUnit": "ns"}' >"$tmp/no_events.json"
printf '{"traceEvents": []}' >"$tmp/empty.json"
for bad in truncated no_tid no_events empty; do
  "$lpusim" report "$tmp/$bad.json" --no-png >/dev/null 2>"$tmp/$bad.err"
  rc=$?
  check "$bad trace: exit 2 with one line" "[[ $rc -eq 2 && \$(wc -l <'$tmp/$bad.err') -eq 1 ]]"
done
echo "report: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
