#!/usr/bin/env bash
# lpusim regress must notice a changed unit latency. Two cases of workloads/regression (the vadd
# example and the tiny MLP graph) are copied with their goldens into a scratch suite whose cases
# name a copy of tsp-v1.json. With the copy unchanged the suite passes (the goldens hold). Then
# vxm.add's func_cycles goes from 2 to 3 in the copy:
#   vadd is hand-scheduled (workloads/examples/vadd.s): the sum now leaves the VXM at cycle 6
#         instead of 5 and reaches mem.e1 at 8, after its write issued at 7 reads s2e: a
#         stream-empty hazard, reported as the case's error;
#   the MLP is compiled for the chip: the compiler schedules the later add, and its total
#         cycles grow; regress prints the old and new values.
# regress must exit 4; --update must rewrite the MLP's golden and say what moved.
# Usage: latency_change_test.sh LPUSIM SOURCE_DIR
set -uo pipefail
lpusim=$1
root=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lpusim-regress.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passes=0 failures=0
check() {
  if eval "$2"; then echo "ok: $1"; passes=$((passes + 1)); else echo "FAILED: $1"; failures=$((failures + 1)); fi
}
suite=$tmp/suite
mkdir -p "$suite"
cp "$root/models/chips/tsp-v1.json" "$suite/chip.json"
for c in example-vadd graph-mlp_tiny; do
  # The same case, its paths made absolute and its chip the local copy.
  python3 - "$root/workloads/regression/$c.case.json" "$suite/$c.case.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
case = json.load(open(src))
for key in ("program", "graph"):
    if key in case:
        case[key] = os.path.normpath(os.path.join(os.path.dirname(src), case[key]))
case["chip"] = "chip.json"
json.dump(case, open(dst, "w"), indent=2)
PY
  cp "$root/workloads/regression/$c.golden.json" "$suite/"
done

"$lpusim" regress "$suite" >"$tmp/same.out" 2>&1
check "an unchanged copy of the chip passes" "[[ $? -eq 0 ]] && grep -q '^2 passed, 0 changed' '$tmp/same.out'"

sed -i 's/"vxm.add":        {"skew_cycles": 0, "func_cycles": 2}/"vxm.add":        {"skew_cycles": 0, "func_cycles": 3}/' "$suite/chip.json"
check "the latency was changed in the copy" "grep -q '\"vxm.add\": *{\"skew_cycles\": 0, \"func_cycles\": 3}' '$suite/chip.json'"
"$lpusim" regress "$suite" >"$tmp/changed.out" 2>&1
code=$?
cat "$tmp/changed.out"
check "regress exits 4" "[[ $code -eq 4 ]]"
check "vadd: the hazard is the case's error" \
  "grep -q \"ERROR example-vadd .*schedule error: 1 schedule hazard (first: cycle 7, 'write 0x0, s2e' (line 25) reads stream s2e\" '$tmp/changed.out'"
old_new=$(sed -n 's/^ *total_cycles *\([0-9]*\) -> \([0-9]*\) (+[0-9]*, +[0-9.]*%)$/\1 \2/p' "$tmp/changed.out")
read -r old new <<<"$old_new"
check "the MLP fails with its old and new total cycles, more than before" \
  "grep -q 'FAIL  graph-mlp_tiny .*differs from' '$tmp/changed.out' && [[ -n '$old' && '$new' -gt '$old' ]]"
check "the summary counts one change and one error" "grep -q '^0 passed, 1 changed, 1 errors' '$tmp/changed.out'"

"$lpusim" regress "$suite" --update >"$tmp/update.out" 2>&1
cat "$tmp/update.out"
check "--update rewrites the MLP's golden and says what moved" \
  "grep -q 'MOVED graph-mlp_tiny' '$tmp/update.out' && grep -Eq 'total_cycles +$old -> $new' '$tmp/update.out'"
check "the golden now holds $new" "grep -q '\"total_cycles\": $new,' '$suite/graph-mlp_tiny.golden.json'"
rm "$suite/example-vadd.case.json"
"$lpusim" regress "$suite" >"$tmp/after.out" 2>&1
check "after --update the MLP passes" "[[ $? -eq 0 ]] && grep -q '^1 passed' '$tmp/after.out'"

rm "$suite/graph-mlp_tiny.golden.json"
"$lpusim" regress "$suite" >"$tmp/missing.out" 2>&1
check "a case without a golden fails (exit 4)" "[[ $? -eq 4 ]] && grep -q 'NONE  graph-mlp_tiny' '$tmp/missing.out'"

echo "regress latency change: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
