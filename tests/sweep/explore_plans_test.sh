#!/usr/bin/env bash
# A sweep over partition plans (scenario keys tp, pp, system): each point runs estimate on its
# plan; the rows give the chips each used, a rate for each, and the plan columns.
set -uo pipefail
lpusim=$1
root=$2
tmp=$(mktemp -d /tmp/lpusim-plans.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$lpusim" explore "$root/tests/data/sweep/plan_sweep.json" --out "$tmp/out" --jobs 1 >"$tmp/log" 2>&1 || {
  echo "FAIL: explore exits non-zero"; cat "$tmp/log"; exit 1; }
python3 - "$tmp/out/results.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 3, rows
assert all(r["status"] == "ok" for r in rows), rows
assert [r["chips"] for r in rows] == ["1", "2", "4"], [r["chips"] for r in rows]
assert [r["param:scenario.tp"] for r in rows] == ["0", "2", "2"], rows[0].keys()
assert [r["param:scenario.pp"] for r in rows] == ["0", "0", "2"]
assert all(float(r["tokens_per_s_per_user"]) > 0 for r in rows)
print("ok: one chip, tp 2 and tp 2 x pp 2 rows with their chips and rates")
PY
