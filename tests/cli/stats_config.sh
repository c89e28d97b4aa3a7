#!/usr/bin/env bash
# `lpusim run --stats out.json`: the stats are a tree system -> chip -> unit -> queue, and
# out.config.json beside them is the resolved configuration, which `--chip` loads back to
# the same chip (the same cycles, and the same dump again).
set -u
lpusim=$1
examples=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$lpusim" run "$examples/vadd.s" --mode timing --stats "$dir/out.json" >/dev/null || fail "run with --stats"
[[ -f "$dir/out.config.json" ]] || fail "no out.config.json beside out.json"
python3 - "$dir/out.json" "$dir/out.config.json" <<'PY' || fail "stats or config dump shape"
import json, sys
stats = json.load(open(sys.argv[1]))
assert stats["stats_format"] == 2, stats.keys()
system = stats["system"]
assert system["total_cycles"] == 28 and system["chip_count"] == 1, system
chip = system["chips"]["chip0"]
assert chip["config"] == "tsp-v1" and chip["mode"] == "timing" and chip["total_cycles"] == 28
w0 = chip["units"]["mem"]["queues"]["w0"]
assert w0["instructions"] == 1 and w0["sram_reads"] == 1, w0
assert chip["units"]["vxm"]["queues"]["alu0"]["instructions"] == 1
config = json.load(open(sys.argv[2]))
assert config["name"] == "tsp-v1" and config["mem"]["slices_per_hemisphere"] == 44, config.keys()
assert config["run"] == {"program": config["run"]["program"], "mode": "timing", "scheduler": "event-driven", "check": True}
assert config["run"]["program"].endswith("vadd.s")
PY

# The dump loads back as a chip: same cycles, and dumping it again gives the same chip.
"$lpusim" run "$examples/vadd.s" --mode timing --chip "$dir/out.config.json" --stats "$dir/again.json" >"$dir/again.txt" \
  || fail "--chip out.config.json"
grep -q "total cycles      28" "$dir/again.txt" || fail "different cycles with the dumped chip: $(cat "$dir/again.txt")"
python3 - "$dir/out.config.json" "$dir/again.config.json" <<'PY' || fail "the dumped chip dumps differently"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for j in (a, b): j.pop("description")  # names the file each was read from
assert a == b
PY
# A stats path without .json gets .config.json appended.
"$lpusim" run "$examples/vadd.s" --mode timing --stats "$dir/plain" >/dev/null && [[ -f "$dir/plain.config.json" ]] \
  || fail "--stats plain: no plain.config.json"
echo "stats tree and config dump: ok"
