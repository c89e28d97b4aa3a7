#!/usr/bin/env bash
# The golden check must fail loudly when one latency of the chip configuration changes: a copy
# of tsp-v1 with vxm.add one cycle slower (func_cycles 2 -> 3) must move the pinned counts of
# cases that add on the VXM (residual adds, the LSTM's gate sums) and print old and new values.
# Usage: latency_change_fails.sh LPUSIM SOURCE_DIR
set -uo pipefail
lpusim=$1 src=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sed 's/"vxm.add": *{"skew_cycles": 0, "func_cycles": 2}/"vxm.add":        {"skew_cycles": 0, "func_cycles": 3}/' \
  "$src/models/chips/tsp-v1.json" > "$work/slower-add.json"
if cmp -s "$src/models/chips/tsp-v1.json" "$work/slower-add.json"; then
  echo "FAIL: could not change vxm.add in the copy of tsp-v1.json (its layout changed?)"; exit 1
fi
out=$("$src/tests/golden/check_compiled_cycles.sh" "$lpusim" --chip "$work/slower-add.json" \
      --cases '^(tiny-llama\.decode8\.fp16|lstm512\.batch1\.int8)$' 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 1 ]] || { echo "FAIL: expected exit 1 from the golden check, got $rc"; exit 1; }
for c in tiny-llama.decode8.fp16 lstm512.batch1.int8; do
  grep -q "^CHANGED $c: cycles [0-9]* -> [0-9]*" <<< "$out" || { echo "FAIL: no old -> new line for $c"; exit 1; }
done
echo "ok: one slower VXM add moved the golden counts and failed the check"
