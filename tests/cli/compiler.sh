#!/usr/bin/env bash
# The compiler end to end: every supported tiny model compiled (mixtral's MoE densely), run
# functionally on the simulated chip and compared with the Eigen reference (prefill + 2
# decode steps with the KV cache), also at batch > 1 and with int8 weights; JSON graphs (an
# MLP, the LSTM step, a softmax of large logits, comparisons) against the fp32 interpreter; an
# estimate whose simulated cycle count must equal the compiler's scheduled length, and batch
# 4 against batch 1; schedules are hazard-free (verify fails on any hazard).
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
# LPUSIM_TINY_FAMILIES narrows the list (the sanitizer stage: tests/CMakeLists.txt).
families=${LPUSIM_TINY_FAMILIES:-llama mistral mixtral qwen2 gemma phi3 gpt2 bert llama-hd128 qwen3 qwen3-moe olmo2 olmo3-yarn phi gemma2 gemma3-text gpt-oss}
for family in $families; do
  check "verify tiny-$family" verify "tiny-$family" --prompt-len 5 --decode-steps 2 --tolerance 0.005
done
# Prefill attention on the MXM beyond one 320-query block (keys widened to whole tiles and
# masked), kv heads whose tile ranges share a first tile, and ministral3's query scaling from
# position 64; release only (tens of seconds under the sanitizers).
if [[ -z "${LPUSIM_TINY_FAMILIES:-}" ]]; then
  check "verify an encoder over two query blocks" verify "$root/tests/data/long_context/tiny-bert-1k" --prompt-len 330 --decode-steps 0 --tolerance 0.005
  check "verify GQA heads of 128 lanes" verify "$root/tests/data/long_context/tiny-llama-kv4-hd128" --prompt-len 40 --decode-steps 1 --tolerance 0.005
  check "verify ministral3 query scaling" verify "$root/tests/data/long_context/tiny-ministral3-query-scale" --prompt-len 70 --decode-steps 1 --tolerance 0.005
fi
# int8 with calibrated activation scales, which the reference shares (docs/compiler.md).
check "verify tiny-llama int8" verify tiny-llama --weights int8 --prompt-len 4 --decode-steps 1 --tolerance 0.04
check "verify tiny-gemma int8 batch 2" verify tiny-gemma --weights int8 --batch 2 --prompt-len 4 --decode-steps 1 --tolerance 0.04
check "verify lstm graph int8" verify "$root/workloads/graphs/lstm512.json" --weights int8 --tolerance 0.01
check "verify tiny-llama batch 2" verify tiny-llama --batch 2 --prompt-len 4 --decode-steps 2 --tolerance 0.005
check "verify tiny-gpt2 batch 3" verify tiny-gpt2 --batch 3 --prompt-len 3 --decode-steps 1 --tolerance 0.005
# Lanes past a tensor's width: rsqrt(0) there must not reach the next matmul as inf x 0 = NaN.
check "verify rsqrt past a tensor's width" verify "$root/tests/data/graphs/rsqrt_padding.json" --tolerance 0.002
# 8 rows through one chain as a burst: a later row's second operand (the bias, read from MEM)
# reaches the VXM in the cycle an earlier row's sum leaves it; when both took one stream the
# sum replaced the bias and exp saw the wrong values (no hazard: a replacement is legal).
check "verify a burst's operand and result streams" verify "$root/tests/data/graphs/burst_operand_streams.json" --tolerance 0.002
check "verify softmax of large logits" verify "$root/tests/data/graphs/softmax_large_logits.json" --tolerance 0.002
# Concats of graph inputs that are the graph's outputs (issue 15): along lanes it failed the
# verifier after decompose, along rows it compiled to an empty program. Lanes pass through
# the MXM's fp16 placement matrices (relative error 2.4e-4), rows are copied exactly.
check "verify a lane concat of inputs" verify "$root/tests/data/graphs/concat_lanes_of_inputs.json" --tolerance 0.001
check "verify a row concat and slice of inputs" verify "$root/tests/data/graphs/concat_rows_of_inputs.json" --tolerance 0
# One token only: the second prompt token's layer-0 router logits are a near-tie at the top-k
# boundary (-0.036 vs -0.056), which the int8 activation error of the compiler (fixed scale)
# and of the reference (per-tensor scale) resolve differently: a discrete 0.19 change. The
# routing itself is checked exactly in fp16 above; this checks the int8 expert matmuls.
check "verify tiny-mixtral int8" verify tiny-mixtral --weights int8 --prompt-len 1 --decode-steps 0 --tolerance 0.08
# Numerics (docs/models.md): int8 weights dequantised into an fp16 MXM on tsp-v1; an fp8
# checkpoint natively and dequantised into fp16 on lpu-gen2 (tsp-v1 has no fp8 mode); fp8
# e5m2; an MXFP4 checkpoint (experts MXFP4, attention 16-bit) both ways. Default tolerances.
check "verify tiny-llama int8 stored, fp16 computed" verify tiny-llama --weights int8 --compute fp16 --prompt-len 4 --decode-steps 1
check "verify tiny-llama-fp8 checkpoint on lpu-gen2" verify tiny-llama-fp8 --chip lpu-gen2 --prompt-len 4 --decode-steps 1
check "verify tiny-llama-fp8 fp16 compute on lpu-gen2" verify tiny-llama-fp8 --chip lpu-gen2 --compute fp16 --prompt-len 4 --decode-steps 1
check "verify tiny-llama fp8-e5m2 on lpu-gen2" verify tiny-llama --weights fp8-e5m2 --chip lpu-gen2 --prompt-len 4 --decode-steps 1
check "verify tiny-mixtral-mxfp4 fp16 compute" verify tiny-mixtral-mxfp4 --chip lpu-gen2 --compute fp16 --prompt-len 4 --decode-steps 1
check "verify tiny-mixtral-mxfp4 native fp8" verify tiny-mixtral-mxfp4 --chip lpu-gen2 --prompt-len 1 --decode-steps 0
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
# The same estimate as a table (aligned columns, units) and as CSV (a header of keys, one line
# of values) carries the JSON's numbers.
cases=$((cases + 1))
table=$(timeout 300 "$lpusim" estimate tiny-gpt2 --prompt-len 8 --gen-len 8 2>&1)
csv=$(timeout 300 "$lpusim" estimate tiny-gpt2 --prompt-len 8 --gen-len 8 --csv 2>&1)
if ! python3 - "$json" "$table" "$csv" <<'PY'
import csv, io, json, re, sys
j = json.loads(sys.argv[1])
table = sys.argv[2].splitlines()
rows = list(csv.reader(io.StringIO(sys.argv[3])))
assert len(rows) == 2 and len(rows[0]) == len(rows[1]), rows
c = dict(zip(*rows))
assert c["prompt_len"] == "8" and c["gen_len"] == "8" and c["chips"] == "1", c
assert c["decode_cycles"] == str(j["decode"]["cycles"]) and c["prefill_cycles"] == str(j["prefill"]["cycles"]), c
assert abs(float(c["tokens_per_s_per_user"]) - j["decode"]["tokens_per_s_per_user"]) < 1e-6 * j["decode"]["tokens_per_s_per_user"]
assert abs(float(c["time_to_first_token_us"]) - j["prefill"]["time_to_first_token_us"]) < 1e-9 * j["prefill"]["time_to_first_token_us"]
header = next(i for i, l in enumerate(table) if l.split() == ["metric", "value", "unit"])
body = [l for l in table[header + 1:] if l.strip()][:-1]  # the per-layer line follows the table
units = {l[table[header].index("unit"):].strip() for l in body}
assert {"us", "tokens/s", "cycles", "%", "MB"} <= units, units
ttft = next(l for l in body if l.strip().startswith("time to first token"))
assert f'{j["prefill"]["time_to_first_token_us"]:.2f}' in ttft, ttft
cycles = next(l for l in body if l.strip().startswith("decode step at"))
assert f'{j["decode"]["cycles"]:,}' in cycles, cycles
# Values align on the decimal point: every "." in the value column is at the same place.
unit_col = table[header].index("unit")
dots = set()
for l in body:
    value_part = l[:unit_col].rstrip()
    token = value_part.split()[-1]
    if re.fullmatch(r"[\d,]+\.\d+", token):
        dots.add(len(value_part) - len(token) + token.index("."))
assert len(dots) == 1, dots
PY
then
  echo "FAIL: estimate tiny-gpt2 table and --csv"; printf '%s\n%s\n' "$table" "$csv" | head -40 | sed 's/^/  /'
  failures=$((failures + 1))
fi
# Batching: a decode step of 4 sequences takes at least as long as one of 1 (same weights,
# more rows) but gives more tokens per second in aggregate (each weight block loaded once).
cases=$((cases + 1))
b1=$(timeout 300 "$lpusim" estimate tiny-gpt2 --prompt-len 8 --gen-len 8 --json 2>&1)
b4=$(timeout 300 "$lpusim" estimate tiny-gpt2 --prompt-len 8 --gen-len 8 --batch 4 --json 2>&1)
if ! python3 - "$b1" "$b4" <<'PY'
import json, sys
one, four = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert four["batch"] == 4 and four["simulated_equals_scheduled"], four
d1, d4 = one["decode"], four["decode"]
assert d4["cycles"] >= d1["cycles"], (d1["cycles"], d4["cycles"])
assert d4["tokens_per_s"] > d1["tokens_per_s"], (d1["tokens_per_s"], d4["tokens_per_s"])
assert abs(d4["tokens_per_s"] - 4 * d4["tokens_per_s_per_user"]) < 1e-6 * d4["tokens_per_s"]
assert four["prefill"]["cycles"] > one["prefill"]["cycles"]
PY
then
  echo "FAIL: estimate tiny-gpt2 batch 4 against batch 1"; printf '%s\n%s\n' "$b1" "$b4" | head -40 | sed 's/^/  /'
  failures=$((failures + 1))
fi
# An encoder has no decode step: its estimate is per sequence (latency with host I/O, sequences/s).
cases=$((cases + 1))
bert=$(timeout 300 "$lpusim" estimate tiny-bert --prompt-len 8 --batch 2 --json 2>&1)
if ! python3 - "$bert" <<'PY'
import json, sys
e = json.loads(sys.argv[1])
assert e["kind"] == "encoder" and "decode" not in e and e["simulated_equals_scheduled"], e
enc = e["encode"]
assert enc["sequences"] == 2 and enc["latency_with_host_us"] > enc["latency_us"] > 0, enc
assert abs(enc["sequences_per_s"] - 2e6 / enc["latency_with_host_us"]) < 1e-6 * enc["sequences_per_s"], enc
assert len(e["encode_cycles_per_layer"]) == 2, e["encode_cycles_per_layer"]
PY
then
  echo "FAIL: estimate tiny-bert --json"; printf '%s\n' "$bert" | head -40 | sed 's/^/  /'
  failures=$((failures + 1))
fi
echo "$((cases - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
