#!/usr/bin/env bash
# lpusim explore and merge on tests/data/sweep/tiny_sweep.json (16 points, tiny models):
#   - every point is a row; the points whose KV caches cannot fit are failed rows with the
#     reason estimate gave, the rest are ok with positive tokens/s;
#   - --jobs 1 and --jobs 2 write the same bytes;
#   - a rerun computes nothing and writes the same bytes; a removed cache entry is recomputed;
#   - three shards merged are byte-identical to the unsharded run (and so are the sorted rows);
#     merge refuses a missing or repeated shard;
#   - --emit-slurm writes scripts bash accepts; the plots are PNG and SVG files.
# Usage: explore_test.sh LPUSIM SOURCE_DIR
set -uo pipefail
lpusim=$1
root=$2
sweep=$root/tests/data/sweep/tiny_sweep.json
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lpusim-explore.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passes=0 failures=0
check() {
  if eval "$2"; then echo "ok: $1"; passes=$((passes + 1)); else echo "FAILED: $1"; failures=$((failures + 1)); fi
}
rows() { tail -n +2 "$1" | sort; }

"$lpusim" explore "$sweep" --out "$tmp/one" --jobs 1 >"$tmp/one.out" 2>"$tmp/one.err"
check "explore --jobs 1 exits 0" "[[ $? -eq 0 ]]"
cat "$tmp/one.out"
check "17 lines: header and 16 rows" "[[ \$(wc -l <'$tmp/one/results.csv') -eq 17 ]]"
check "a progress line per point (not a terminal)" "[[ \$(grep -c '^\[[0-9]*/16\]' '$tmp/one.err') -eq 16 ]]"
# The failed points: those on the 64-word SRAM (2 x 44 slices x 64 words x 320 B = 1.8 MB,
# less than either model's int8 weights), and only those; their reason is estimate's one line.
check "failed rows are exactly those at 64 words" \
  "python3 - '$tmp/one/results.csv' <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
failed = [r for r in rows if r['status'] == 'failed']
ok = [r for r in rows if r['status'] == 'ok']
assert all(r['param:chip.mem.words_per_slice'] == '64' for r in failed), failed
assert len(failed) == 8 and len(ok) == 8, (len(failed), len(ok))
# One chip too small: the estimate spreads the model over a system of such chips, and that
# fails too (a layer's share, or the position table every first-stage chip holds, is larger).
assert all(('does not fit in one tsp-v1 [clock_mhz=' in r['reason'] or 'no plan of up to 10,440 chips' in r['reason'])
           and r['tokens_per_s_per_user'] == '' for r in failed), failed
assert all(float(r['tokens_per_s_per_user']) > 0 and r['reason'] == '' and r['tokens_from'] == 'decode' for r in ok), ok
# The clock only scales time: the same chip at 1800 MHz has the same cycles.
by = {(r['model'], r['param:chip.mem.words_per_slice'], r['param:scenario.batch'], r['param:chip.clock_mhz']): r for r in ok}
for (m, w, b, c), r in by.items():
    if c == '900':
        fast = by[(m, w, b, '1800')]
        assert fast['decode_cycles'] == r['decode_cycles'], (r, fast)
        assert float(fast['tokens_per_s_per_user']) > float(r['tokens_per_s_per_user'])
PY"

# Chips the strict loader refuses in combination only (N MXM planes need 3N/2 queues per
# hemisphere; every value is valid with the other value of the other key): failed rows with
# the loader's reason, not an exit 2.
cat >"$tmp/combo.json" <<'JSON'
{"chip": "tsp-v1", "models": ["tiny-gpt2"], "scenarios": {"list": [{"prompt_len": 8, "gen_len": 8}]},
 "chip_parameters": {"grid": {"mxm.planes": [4, 6], "mxm.queues_per_hemisphere": [6, 9]}}}
JSON
"$lpusim" explore "$tmp/combo.json" --out "$tmp/combo" --no-plots >/dev/null 2>&1
check "invalid combinations are failed rows" "[[ $? -eq 0 ]] && python3 - '$tmp/combo/results.csv' <<'PY'
import csv, sys
rows = {(r['param:chip.mxm.planes'], r['param:chip.mxm.queues_per_hemisphere']): r for r in csv.DictReader(open(sys.argv[1]))}
assert rows[('4', '6')]['status'] == 'ok', rows[('4', '6')]
for combo in (('4', '9'), ('6', '6')):
    r = rows[combo]
    assert r['status'] == 'failed' and r['reason'].startswith(\"invalid derived chip: key 'mxm.queues_per_hemisphere': expected 3 per plane\"), r
PY"

# An encoder (tiny-bert): its tokens are the prompt's, per time to result.
cat >"$tmp/encoder.json" <<'JSON'
{"chip": "tsp-v1", "models": ["tiny-bert"], "scenarios": {"list": [{"prompt_len": 8, "gen_len": 8}]}}
JSON
"$lpusim" explore "$tmp/encoder.json" --out "$tmp/encoder" --no-plots >/dev/null 2>&1
check "an encoder's row: prompt tokens per time to result" "[[ $? -eq 0 ]] && python3 - '$tmp/encoder/results.csv' <<'PY'
import csv, sys
(r,) = list(csv.DictReader(open(sys.argv[1])))
assert r['status'] == 'ok' and r['tokens_from'] == 'prefill' and r['decode_cycles'] == '', r
expected = 8 * 1e6 / float(r['ttft_us'])
assert abs(float(r['tokens_per_s_per_user']) - expected) <= 1e-5 * expected, (r, expected)
PY"

"$lpusim" explore "$sweep" --out "$tmp/two" --jobs 2 >/dev/null 2>&1
check "--jobs 2 writes the same results.csv" "cmp -s '$tmp/one/results.csv' '$tmp/two/results.csv'"
check "--jobs 2 writes the same results.json" "cmp -s '$tmp/one/results.json' '$tmp/two/results.json'"

cp "$tmp/one/results.csv" "$tmp/first.csv"
"$lpusim" explore "$sweep" --out "$tmp/one" --jobs 2 >"$tmp/resume.out" 2>&1
check "a rerun computes nothing" "grep -q '0 computed now, 16 from earlier runs' '$tmp/resume.out'"
check "a rerun writes the same bytes" "cmp -s '$tmp/first.csv' '$tmp/one/results.csv'"
key=$(sed -n '2p' "$tmp/one/results.csv" | cut -d, -f2)
rm "$tmp/one/points/$key.json"
"$lpusim" explore "$sweep" --out "$tmp/one" >"$tmp/resume2.out" 2>&1
check "a removed point is recomputed, only it" "grep -q '1 computed now, 15 from earlier runs' '$tmp/resume2.out'"
check "and the results are the same" "cmp -s '$tmp/first.csv' '$tmp/one/results.csv'"

# Interrupted (SIGTERM, as Slurm's scancel sends; 1.5 s into a run of about 6 s of estimates at
# --jobs 1): exit 130, the finished points kept, no child left behind; the rerun completes
# the same results.
"$lpusim" explore "$sweep" --out "$tmp/stopped" --jobs 1 --no-plots >"$tmp/stopped.out" 2>&1 &
pid=$!
sleep 1.5
kill -TERM "$pid"
wait "$pid"
status=$?
check "SIGTERM: exit 130 (got $status)" "[[ $status -eq 130 ]]"
[[ $status -eq 130 ]] || cat "$tmp/stopped.out"
# A child's exit is reaped by the explore process before it exits, but give pgrep's view of
# /proc a moment under load before calling a child left behind.
for _ in 1 2 3 4 5 6 7 8 9 10; do pgrep -f -- "--chip $tmp/stopped/chips" >/dev/null || break; sleep 0.2; done
check "SIGTERM: the work folder is left empty" "[[ -z \$(ls -A '$tmp/stopped/work' 2>/dev/null) ]]"
check "SIGTERM: no estimate child of this run is left" "! pgrep -f -- '--chip $tmp/stopped/chips' >/dev/null"
done_before=$(ls "$tmp/stopped/points" | wc -l)
"$lpusim" explore "$sweep" --out "$tmp/stopped" --jobs 2 --no-plots >"$tmp/resumed.out" 2>&1
check "the rerun computes only the $((16 - done_before)) points left" \
  "grep -q '$((16 - done_before)) computed now, $done_before from earlier runs' '$tmp/resumed.out'"
check "and gives the same results" "cmp -s '$tmp/first.csv' '$tmp/stopped/results.csv'"

for i in 0 1 2; do
  "$lpusim" explore "$sweep" --shard "$i/3" --out "$tmp/shard$i" --jobs 2 >/dev/null 2>&1
done
check "shard 0/3 holds points 0, 3, ..., 15" \
  "[[ \$(tail -n +2 '$tmp/shard0/results.csv' | cut -d, -f1 | tr '\n' ' ') == '0 3 6 9 12 15 ' ]]"
"$lpusim" merge --out "$tmp/merged" "$tmp/shard2" "$tmp/shard0" "$tmp/shard1" >"$tmp/merge.out" 2>&1
check "merge exits 0" "[[ $? -eq 0 ]]"
check "merged rows equal the unsharded rows after sorting" "diff <(rows '$tmp/one/results.csv') <(rows '$tmp/merged/results.csv') >/dev/null"
check "merged results.csv is byte-identical" "cmp -s '$tmp/one/results.csv' '$tmp/merged/results.csv'"
check "merged results.json is byte-identical" "cmp -s '$tmp/one/results.json' '$tmp/merged/results.json'"
"$lpusim" merge --out "$tmp/bad" "$tmp/shard0" "$tmp/shard1" >/dev/null 2>"$tmp/missing.err"
check "merge without shard 2 exits 2 naming it" "[[ $? -eq 2 ]] && grep -q 'shards 2 of 3 are missing' '$tmp/missing.err'"
"$lpusim" merge --out "$tmp/bad" "$tmp/shard0" "$tmp/shard0" "$tmp/shard1" "$tmp/shard2" >/dev/null 2>"$tmp/again.err"
check "merge with shard 0 twice exits 2" "[[ $? -eq 2 ]] && grep -q 'shard 0/3 again' '$tmp/again.err'"
"$lpusim" merge --out "$tmp/bad" "$tmp/one" >/dev/null 2>"$tmp/unsharded.err"
check "merge of an unsharded output exits 2" "[[ $? -eq 2 ]] && grep -q 'not the output of lpusim explore --shard' '$tmp/unsharded.err'"

"$lpusim" explore "$sweep" --emit-slurm "$tmp/slurm" --shards 3 --sbatch-option=--partition=main >"$tmp/slurm.out" 2>&1
check "--emit-slurm exits 0" "[[ $? -eq 0 ]]"
for f in array.sbatch merge.sbatch submit.sh; do
  check "$f is valid bash" "bash -n '$tmp/slurm/$f'"
done
check "the array has 3 tasks, one shard each" \
  "grep -q '^#SBATCH --array=0-2$' '$tmp/slurm/array.sbatch' && grep -q -- '--shard \"\$SLURM_ARRAY_TASK_ID/3\"' '$tmp/slurm/array.sbatch'"
check "the extra sbatch option is in both scripts" \
  "grep -q '^#SBATCH --partition=main$' '$tmp/slurm/array.sbatch' && grep -q '^#SBATCH --partition=main$' '$tmp/slurm/merge.sbatch'"
check "the merge job depends on the array" "grep -q 'dependency=afterok:' '$tmp/slurm/submit.sh'"

if python3 -c 'import matplotlib' 2>/dev/null || /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  check "plots: a PNG per swept parameter and the Pareto fronts" \
    "[[ -s '$tmp/one/plots/tps_vs_chip.clock_mhz.png' && -s '$tmp/one/plots/tps_vs_scenario.batch.png' && -s '$tmp/one/plots/pareto_chips.png' && -s '$tmp/one/plots/pareto_sram.svg' ]]"
else
  echo "note: matplotlib missing, plots not checked"
fi

echo "explore: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
