#!/usr/bin/env bash
# estimate picks a plan when a model does not fit one chip: GPT-2 generating 800 tokens after 8
# (its KV caches at 808 positions, fp32 vectors, exceed one TSP v1's activation SRAM, which
# holds them at 508: --gen-len 500 runs on one) runs on the fewest chips that hold it, 2, on the smallest standard system,
# a GroqNode, and says why. Release only: about 40 s and 2 GB (several times that under ASan).
set -uo pipefail
lpusim=$1
# Of the plans of 2 chips (tp 2, pp 2), each decode step is simulated and the fastest is
# reported: tp 2, whose chips each read half of every layer's 408 cached positions, where pp 2
# reads all of them on the chip of each stage.
out=$("$lpusim" estimate gpt2 --prompt-len 8 --gen-len 800 --json 2>&1)
rc=$?
python3 - "$out" <<'PY' || { echo "FAIL: estimate gpt2 at an 808-token context (exit $rc)"; echo "$out" | tail -8; exit 1; }
import json, sys
j = json.loads(sys.argv[1])
plan = j["plan"]
assert j["chips_needed"] == 2 and j["system"] == "groq-node", j["plan"]
assert "the fewest chips" in plan["why"] and "the smallest standard system" in plan["why"], plan["why"]
candidates = {(c["tp"], c["pp"]): c["decode_cycles"] for c in plan["candidates"]}
assert set(candidates) == {(2, 1), (1, 2)}, candidates
fastest = min(candidates, key=candidates.get)
assert (plan["tp"], plan["pp"]) == fastest == (2, 1), (plan, candidates)
assert j["decode"]["cycles"] == candidates[fastest], (j["decode"], candidates)
assert j["simulated_equals_scheduled"] is True
PY
# The same context fits one chip with fewer generated tokens: no plan line.
out=$("$lpusim" estimate gpt2 --prompt-len 8 --gen-len 8 2>&1)
if [[ $? -ne 0 ]] || grep -q "^plan " <<<"$out"; then
  echo "FAIL: estimate gpt2 at a 16-token context is not a one-chip estimate"; echo "$out" | tail -4; exit 1
fi
echo "ok: gpt2 at 808 positions on 2 chips of a GroqNode, the faster plan of two; at 16 positions on one chip"
