#!/usr/bin/env bash
# Tiny models partitioned over several chips (tensor, pipeline and expert parallel), compiled
# for a system and simulated on it with their C2C transfers, must match the one-chip Eigen
# reference: `lpusim verify MODEL --tp N --pp M` (verify fails on a value beyond the
# tolerance, and the runtime fails on any schedule hazard or on a chip whose simulated length
# differs from its schedule). Also checks that the steps really cross the links.
set -uo pipefail
lpusim=$1
root=$2
fail=0
check() {  # check NAME EXPECTED_TEXT ARGS...
  local name=$1 expect=$2
  shift 2
  local out
  out=$("$lpusim" "$@" 2>&1)
  local rc=$?
  if [[ $rc -ne 0 ]] || ! grep -q "logits match the reference" <<<"$out" || ! grep -q "$expect" <<<"$out"; then
    echo "FAIL: $name (exit $rc)"
    echo "$out" | tail -6
    fail=1
  else
    echo "ok: $name"
  fi
}
check "tiny-llama tp 2" "C2C vectors" verify tiny-llama --tp 2 --prompt-len 4 --decode-steps 1 --tolerance 0.005
check "tiny-llama pp 2" "tp 1 x pp 2" verify tiny-llama --pp 2 --prompt-len 4 --decode-steps 2 --tolerance 0.005
check "tiny-llama tp 2 x pp 2" "= 4 chips" verify tiny-llama --tp 2 --pp 2 --prompt-len 3 --decode-steps 1 --tolerance 0.005
check "tiny-gpt2 tp 5 (uneven vocabulary)" "C2C vectors" verify tiny-gpt2 --tp 5 --prompt-len 3 --decode-steps 1 --tolerance 0.005
check "tiny-bert tp 5 (encoder)" "C2C vectors" verify tiny-bert --tp 5 --prompt-len 4 --tolerance 0.005
check "tiny-mixtral-tp tp 2 ep 2 (experts dealt to chips)" "C2C vectors" verify tiny-mixtral-tp --tp 2 --ep 2 --prompt-len 3 --decode-steps 1 --tolerance 0.005
check "tiny-llama tp 2 x pp 2 on a ring of four (transfers forwarded)" "example-ring4" verify tiny-llama --tp 2 --pp 2 --system "$root/models/systems/example-ring4.json" --prompt-len 3 --decode-steps 1 --tolerance 0.005
# A plan larger than its system, and --ep without --tp, are refused with exit 2.
"$lpusim" verify tiny-llama --tp 2 --pp 2 --system "$root/tests/data/c2c/pair.json" >/dev/null 2>&1
[[ $? -eq 2 ]] || { echo "FAIL: a 4-chip plan on a 2-chip system is not exit 2"; fail=1; }
"$lpusim" verify tiny-mixtral-tp --ep 2 >/dev/null 2>&1
[[ $? -eq 2 ]] || { echo "FAIL: --ep without --tp is not exit 2"; fail=1; }
exit $fail
