#!/usr/bin/env bash
# estimate picks a plan when a model does not fit one chip: GPT-2 generating 800 tokens after 8
# (its KV caches at 808 positions, fp32 vectors, exceed one TSP v1's activation SRAM, which
# holds them at 508: --gen-len 500 runs on one) runs on the fewest chips that hold it, 2, on the smallest standard system,
# a GroqNode, and says why. Release only: about 30 s and 2 GB (several times that under ASan).
set -uo pipefail
lpusim=$1
out=$("$lpusim" estimate gpt2 --prompt-len 8 --gen-len 800 2>&1)
rc=$?
if [[ $rc -ne 0 ]] || ! grep -q "plan tp 2 x pp 1 (12 layers per stage) = 2 chips: the fewest chips" <<<"$out" ||
   ! grep -q "system groq-node, the smallest standard system" <<<"$out" ||
   ! grep -q "simulated cycles = scheduled length *yes" <<<"$out"; then
  echo "FAIL: estimate gpt2 at an 808-token context (exit $rc)"; echo "$out" | tail -8; exit 1
fi
# The same context fits one chip with fewer generated tokens: no plan line.
out=$("$lpusim" estimate gpt2 --prompt-len 8 --gen-len 8 2>&1)
if [[ $? -ne 0 ]] || grep -q "^plan " <<<"$out"; then
  echo "FAIL: estimate gpt2 at a 16-token context is not a one-chip estimate"; echo "$out" | tail -4; exit 1
fi
echo "ok: gpt2 at 808 positions on 2 chips of a GroqNode; at 16 positions on one chip"
