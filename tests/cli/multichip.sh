#!/usr/bin/env bash
# Models partitioned over several chips (tensor, pipeline and expert parallel), compiled for a
# system and simulated on it with their C2C transfers.
#  - verify: tiny models must match the one-chip Eigen reference (`lpusim verify MODEL --tp N
#    --pp M`; verify fails on a value beyond the tolerance, and the runtime fails on any
#    schedule hazard or on a chip whose simulated length differs from its schedule), and the
#    steps must really cross the links;
#  - estimate: the plan, per-stage cycles, link use and rates are consistent with each other.
set -uo pipefail
lpusim=$1
root=$2
fail=0
# LPUSIM_MULTICHIP_CASES (a regex over the names) narrows the verify cases (the sanitizer
# stage: tests/CMakeLists.txt).
check() {  # check NAME EXPECTED_TEXT ARGS...
  local name=$1 expect=$2
  shift 2
  if [[ -n "${LPUSIM_MULTICHIP_CASES:-}" ]] && ! [[ "$name" =~ $LPUSIM_MULTICHIP_CASES ]]; then return; fi
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
# gpt_oss over 4 chips, experts in 2 groups of 2: sinks cut with the heads, each expert's gate
# and up biases cut with its columns, its down bias added by the first chip of its group only.
check "tiny-gpt-oss tp 4 ep 2 (sinks and expert biases cut)" "C2C vectors" verify tiny-gpt-oss --tp 4 --ep 2 --prompt-len 5 --decode-steps 1 --tolerance 0.005
check "tiny-llama tp 4 on a ring of four (an all-reduce whose partials are forwarded)" "example-ring4" verify tiny-llama --tp 4 --system "$root/models/systems/example-ring4.json" --prompt-len 3 --decode-steps 1 --tolerance 0.005
# Three stages of four chips on a GroqRack: the hand-off from the second node's stage to the
# third crosses nodes by global links, forwarded through chips that are all-reducing their own
# layers; a partial that reaches a port ahead of the forwarded hand-off is taken first (a
# Recv lowered early). Before, the lowering waited forever.
check "tiny-llama (4 layers) tp 4 x pp 3 on a GroqRack (hand-offs forwarded across nodes)" "C2C vectors" verify "$root/tests/data/multichip/tiny-llama-4-layers.json" --tp 4 --pp 3 --system groq-rack --prompt-len 3 --decode-steps 1 --tolerance 0.005
check "tiny-llama tp 2 x pp 2 on a ring of four (transfers forwarded)" "example-ring4" verify tiny-llama --tp 2 --pp 2 --system "$root/models/systems/example-ring4.json" --prompt-len 3 --decode-steps 1 --tolerance 0.005
# estimate on a plan: the stages' cycles add up to the step, every vector holds a bundled link
# for 22 cycles (320 bytes at 4 x 28 Gbps x 64/66, 900 MHz), the pipelined rate is at most pp
# times the one-batch rate, and the table, CSV and JSON agree.
json=$("$lpusim" estimate tiny-llama --tp 2 --pp 2 --prompt-len 8 --gen-len 8 --json) || { echo "FAIL: estimate --tp 2 --pp 2"; fail=1; }
python3 - "$json" <<'PY' || { echo "FAIL: estimate --tp 2 --pp 2 numbers"; fail=1; }
import json, sys
j = json.loads(sys.argv[1])
assert j["chips_needed"] == 4 and j["plan"]["tp"] == 2 and j["plan"]["pp"] == 2, j["plan"]
assert j["system"] == "groq-node" and j["simulated_equals_scheduled"] is True
stages = j["pipeline"]["decode_stage_cycles"]
assert len(stages) == 2 and sum(stages) == j["decode"]["cycles"], (stages, j["decode"])
assert j["c2c"]["decode_vectors_sent"] > 0
assert j["c2c"]["decode_link_busy_cycles"] == 22 * j["c2c"]["decode_vectors_sent"], j["c2c"]
# The time split: per stage compute + C2C = the stage's span, the spans add up to the step.
# Each stage of tiny-llama tp 2 x pp 2 holds one layer, whose attention and MLP each end in an
# all-reduce: the partial from the other rank (the same work, so it leaves within a few
# cycles of this chip's own) crosses a link of 216 cycles' latency, so each stage spends at
# least 2 x 216 cycles waiting on C2C.
split = j["time_split"]
assert split["cycles"] == j["decode"]["cycles"] == split["compute_cycles"] + split["c2c_cycles"], split
assert [s["cycles"] for s in split["stages"]] == stages, split
for s in split["stages"]:
    assert s["compute_cycles"] + s["c2c_cycles"] == s["cycles"] and s["c2c_cycles"] >= 2 * 216, split
assert 0 <= j["pipeline"]["idle_percent_batch_in_each_stage"] < j["pipeline"]["idle_percent_one_batch_in_flight"], j["pipeline"]
d = j["decode"]
assert d["tokens_per_s_per_user"] <= d["tokens_per_s_pipelined"] <= 2 * d["tokens_per_s"] * (1 + 1e-9), d
print("ok: estimate --tp 2 --pp 2 numbers agree")
PY
csv=$("$lpusim" estimate tiny-llama --tp 2 --pp 2 --prompt-len 8 --gen-len 8 --csv)
python3 - "$csv" "$json" <<'PY' || { echo "FAIL: estimate CSV and JSON differ"; fail=1; }
import csv, io, json, sys
row = list(csv.DictReader(io.StringIO(sys.argv[1])))[0]
j = json.loads(sys.argv[2])
assert int(row["decode_cycles"]) == j["decode"]["cycles"] and int(row["chips"]) == 4, row
assert abs(float(row["tokens_per_s_per_user"]) - j["decode"]["tokens_per_s_per_user"]) < 1e-6 * j["decode"]["tokens_per_s_per_user"]
print("ok: estimate CSV and JSON agree")
PY
# On the rack every stage holds layers, so every stage's span is its own work, not the
# forwarding of other stages' hand-offs through its chips (which once made a stage look
# empty and the stage before it twice as long).
json=$("$lpusim" estimate "$root/tests/data/multichip/tiny-llama-4-layers.json" --tp 4 --pp 3 --system groq-rack --prompt-len 4 --gen-len 4 --json)
python3 - "$json" <<'PY' || { echo "FAIL: estimate tp 4 x pp 3 on a GroqRack: stage spans"; fail=1; }
import json, sys
j = json.loads(sys.argv[1])
stages = j["time_split"]["stages"]
assert len(stages) == 3 and all(s["cycles"] > 0 for s in stages), stages
assert sum(s["cycles"] for s in stages) == j["decode"]["cycles"], (stages, j["decode"])
print("ok: estimate tp 4 x pp 3 on a GroqRack: every stage's span is its own")
PY
# Stage reuse (docs/multichip.md): each class of identical stages simulated once gives the
# same step as every chip simulated (--full): cycles, the time split, the link counts, on an
# 8-chip and a 72-chip system. The 27-layer model's stages cross from l9 to l10 (a compiler
# that read names in order would place them differently). Skipped with the verify cases that
# LPUSIM_MULTICHIP_CASES leaves out (the sanitizer stage).
reuse_case() {  # reuse_case NAME MIN_CLASSES_SAVED ARGS...
  local name=$1 saved=$2
  shift 2
  if [[ -n "${LPUSIM_MULTICHIP_CASES:-}" ]] && ! [[ "$name" =~ $LPUSIM_MULTICHIP_CASES ]]; then return; fi
  local reused full
  reused=$("$lpusim" estimate "$root/tests/data/multichip/tiny-llama-27-layers.json" "$@" --prompt-len 4 --gen-len 4 --json) || { echo "FAIL: $name (reuse)"; fail=1; return; }
  full=$("$lpusim" estimate "$root/tests/data/multichip/tiny-llama-27-layers.json" "$@" --prompt-len 4 --gen-len 4 --json --full) || { echo "FAIL: $name (--full)"; fail=1; return; }
  python3 - "$reused" "$full" "$saved" <<'PY' || { echo "FAIL: $name"; fail=1; }
import json, sys
r, f, saved = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
for key in ("time_split", "c2c", "pipeline"):
    assert r[key] == f[key], (key, r[key], f[key])
for step in ("decode", "prefill"):
    assert r[step]["cycles"] == f[step]["cycles"], (step, r[step]["cycles"], f[step]["cycles"])
    classes = r["simulation"][step]["stage_simulated_as"]
    stages = r["plan"]["pp"]
    assert len(classes) == stages and len(set(classes)) <= stages - saved, (step, classes)
    assert f["simulation"][step]["stage_simulated_as"] == [], f["simulation"]
assert r["simulated_equals_scheduled"] and f["simulated_equals_scheduled"]
PY
  echo "ok: $name: reuse and --full agree"
}
# tp 1 x pp 8 on a GroqNode: the middle stages of 3 and of 4 layers repeat.
reuse_case "reuse 8 chips: tp 1 x pp 8 on a GroqNode" 1 --tp 1 --pp 8 --system groq-node
# tp 8 x pp 9 on a GroqRack, a stage per node, hand-offs forwarded between nodes: first,
# middle (six nodes alike, the wiring being circulant), the one before the last, and last.
reuse_case "reuse 72 chips: tp 8 x pp 9, a stage per node of a rack" 5 --tp 8 --pp 9 --system groq-rack
# A one-chip plan on a system runs on one chip.
out=$("$lpusim" estimate tiny-llama --tp 1 --system groq-node --prompt-len 4 --gen-len 4 2>&1)
if [[ $? -ne 0 ]] || ! grep -q "tokens/s per user" <<<"$out"; then
  echo "FAIL: estimate --tp 1 --system groq-node"; echo "$out" | tail -3; fail=1
else
  echo "ok: a one-chip plan on a system runs on one chip"
fi
# A plan larger than its system, and --ep without --tp, are refused with exit 2.
"$lpusim" verify tiny-llama --tp 2 --pp 2 --system "$root/tests/data/c2c/pair.json" >/dev/null 2>&1
[[ $? -eq 2 ]] || { echo "FAIL: a 4-chip plan on a 2-chip system is not exit 2"; fail=1; }
"$lpusim" verify tiny-mixtral-tp --ep 2 >/dev/null 2>&1
[[ $? -eq 2 ]] || { echo "FAIL: --ep without --tp is not exit 2"; fail=1; }
"$lpusim" estimate tiny-llama --tp 2 --pp 2 --system "$root/tests/data/c2c/pair.json" >/dev/null 2>&1
[[ $? -eq 2 ]] || { echo "FAIL: estimate of a 4-chip plan on a 2-chip system is not exit 2"; fail=1; }
exit $fail
