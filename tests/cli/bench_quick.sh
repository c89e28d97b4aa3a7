#!/usr/bin/env bash
# `lpusim bench --quick` runs every case in its own child process and writes JSON with the
# expected fields. Speed is never asserted here (the machine may be busy).
set -euo pipefail
lpusim="$1"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$lpusim" bench --quick --out "$out/bench.json" > "$out/table.md"
grep -q '| micro | timing |' "$out/table.md"
python3 - "$out/bench.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["quick"] is True
names = {(c["name"], c["mode"]) for c in r["cases"]}
for case in ["micro", "gemv320", "gemv1024x512", "softmax", "lstm", "gpt2-small-decode"]:
    for mode in ["timing", "functional"]:
        assert (case, mode) in names, (case, mode)
assert ("micro-clocked", "timing") in names
assert ("micro-1stream", "timing") in names and ("micro-1stream-clocked", "timing") in names
for c in r["cases"]:
    if c["name"] == "llama2-70b-576chips":  # an estimate of minutes: skipped by --quick; no functional run
        assert c["status"] == ("skipped" if c["mode"] == "timing" else "not available yet"), c
        assert c["needs"]
        continue
    assert c["status"] == "ok", c
    for key in ["instructions", "total_cycles", "host_seconds", "instructions_per_second", "cycles_per_second",
                "compile_seconds", "peak_rss_bytes", "repetitions", "scheduler"]:
        assert key in c, (c["name"], key)
    assert c["instructions"] > 0 and c["total_cycles"] > 0 and c["peak_rss_bytes"] > 0
# Timing and functional runs and the clocked reference agree on cycles.
cycles = {}
for c in r["cases"]:
    if c["status"] == "ok":
        cycles.setdefault(c["name"].replace("-clocked", ""), set()).add(c["total_cycles"])
for name, s in cycles.items():
    assert len(s) == 1, (name, s)
assert r["cases"][0]["instructions"] == 64 * 1024
assert "event_driven_vs_clocked" in r["ratios"]
assert "micro-1stream" in r["ratios"]["event_driven_vs_clocked_by_program"]
assert next(c for c in r["cases"] if c["name"] == "micro-1stream")["instructions"] == 4 * 1024
eight = next(c for c in r["cases"] if c["name"] == "micro-8chips")
assert eight["chips"] == 8 and eight["instructions"] == 8 * 64 * 1024, eight
assert eight["total_cycles"] == r["cases"][0]["total_cycles"]  # eight independent copies of micro
assert "functional_over_timing_host_time" in r["ratios"]
assert len(r["targets"]) == 9 and all({"name", "value", "goal", "met"} <= set(t) for t in r["targets"])
# The prefill targets (issue 11) run estimates for minutes: a quick run skips them.
assert r["prefill_scaling"]["status"] == "skipped" and r["prefill_scaling"]["needs"]
assert all(t["value"] is None and t["met"] is None for t in r["targets"] if "gpt2" in t["name"] or "GPT-2 prefill" in t["name"])
# The 70B case is skipped by --quick: its targets are not measured.
assert all(t["value"] is None and t["met"] is None for t in r["targets"] if t["name"].startswith("Llama-2-70B"))
PY
echo "bench --quick: ok"
