#!/usr/bin/env bash
# lpusim regress must notice a changed unit latency. Two cases of workloads/regression (the vadd
# example and the tiny MLP graph) are copied with their goldens into a scratch suite whose cases
# name a copy of tsp-v1.json. With the copy unchanged the suite passes (the goldens hold). Then
# vxm.add's func_cycles goes from 2 to 3 in the copy:
#   vadd: the add's result leaves one cycle later, and everything after it follows:
#         28 -> 29 total cycles (the derivation is in workloads/examples/vadd.s);
#   the MLP: its compiled schedule changes too.
# regress must exit 4 and print each case's old and new values; --update must rewrite the
# goldens, say what moved, and then the suite passes again.
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
check "vadd fails with its old and new cycles (28 -> 29)" \
  "grep -q 'FAIL  example-vadd' '$tmp/changed.out' && grep -Eq 'total_cycles +28 -> 29 \(\+1, \+3.57%\)' '$tmp/changed.out'"
check "the MLP fails too" "grep -q 'FAIL  graph-mlp_tiny' '$tmp/changed.out'"
check "the summary counts the changes" "grep -q '^0 passed, 2 changed, 0 errors' '$tmp/changed.out'"

"$lpusim" regress "$suite" --update >"$tmp/update.out" 2>&1
check "--update exits 0 and says what moved" \
  "[[ $? -eq 0 ]] && grep -q 'MOVED example-vadd' '$tmp/update.out' && grep -Eq 'total_cycles +28 -> 29' '$tmp/update.out'"
check "the golden now holds 29" "grep -q '\"total_cycles\": 29' '$suite/example-vadd.golden.json'"
"$lpusim" regress "$suite" >"$tmp/after.out" 2>&1
check "after --update the suite passes" "[[ $? -eq 0 ]] && grep -q '^2 passed' '$tmp/after.out'"

rm "$suite/graph-mlp_tiny.golden.json"
"$lpusim" regress "$suite" >"$tmp/missing.out" 2>&1
check "a case without a golden fails (exit 4)" "[[ $? -eq 4 ]] && grep -q 'NONE  graph-mlp_tiny' '$tmp/missing.out'"

echo "regress latency change: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
