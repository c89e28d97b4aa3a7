#!/usr/bin/env bash
# The compiler end to end: every supported tiny model compiled (mixtral's MoE densely), run
# functionally on the simulated chip and compared with the Eigen reference (prefill + 2
# decode steps with the KV cache); JSON graphs (an MLP, the LSTM step) against the fp32
# interpreter; an estimate whose simulated cycle count must equal the compiler's scheduled
# length; schedules are hazard-free (verify fails on any hazard).
set -u
lpusim=$1
root=$2
failures=0
cases=0
check() {
  local what=$1; shift
  cases=$((cases + 1))
  local out
  out=$(timeout 300 "$lpusim" "$@" 2>&1)
  local code=$?
  if [[ $code -ne 0 ]]; then
    echo "FAIL: $what (exit $code)"; printf '%s\n' "$out" | sed 's/^/  /'
    failures=$((failures + 1))
  fi
}
for family in llama mistral mixtral qwen2 gemma phi3 gpt2 bert llama-hd128; do
  check "verify tiny-$family" verify "tiny-$family" --prompt-len 5 --decode-steps 2 --tolerance 0.005
done
check "verify tiny-llama int8" verify tiny-llama --weights int8 --prompt-len 4 --decode-steps 1 --tolerance 0.08
# One token only: the second prompt token's layer-0 router logits are a near-tie at the top-k
# boundary (-0.036 vs -0.056), which the int8 activation error of the compiler (fixed scale)
# and of the reference (per-tensor scale) resolve differently: a discrete 0.19 change. The
# routing itself is checked exactly in fp16 above; this checks the int8 expert matmuls.
check "verify tiny-mixtral int8" verify tiny-mixtral --weights int8 --prompt-len 1 --decode-steps 0 --tolerance 0.08
check "verify compare graph" verify "$root/workloads/graphs/compare_tiny.json" --tolerance 0
check "verify mlp graph" verify "$root/workloads/graphs/mlp_tiny.json" --tolerance 0.002
check "verify lstm graph" verify "$root/workloads/graphs/lstm512.json" --tolerance 0.002
check "verify lstm graph batch 8" verify "$root/workloads/graphs/lstm512_b8.json" --tolerance 0.002
cases=$((cases + 1))
json=$(timeout 300 "$lpusim" estimate tiny-gpt2 --prompt-len 8 --gen-len 8 --json 2>&1)
if [[ $? -ne 0 || "$json" != *'"simulated_equals_scheduled": true'* || "$json" != *'"tokens_per_s_per_user"'* ]]; then
  echo "FAIL: estimate tiny-gpt2 --json"; printf '%s\n' "$json" | head -20 | sed 's/^/  /'
  failures=$((failures + 1))
fi
echo "$((cases - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
