#!/usr/bin/env bash
# The sweep on a real Slurm: bring up the private single-node cluster (tests/slurm), run the
# sweep locally, write its Slurm scripts with `lpusim explore --emit-slurm`, submit them
# (a job array of shards, then the merge job afterok), wait, and compare the merged results
# with the local run: the same rows after sorting, and byte-identical files.
#
# Usage: slurm_sweep_test.sh LPUSIM SOURCE_DIR
# Exit 0 on success, 1 on failure (the work folder with the cluster's logs is kept), 77 when
# not root (munged, slurmctld and slurmd must run as root; ctest's SKIP_RETURN_CODE).
# Environment: LPUSIM_SLURM_SWEEP (default tests/data/sweep/tiny_sweep.json),
# LPUSIM_SLURM_SHARDS (default 3), LPUSIM_SLURM_SWEEP_TIMEOUT (seconds for the jobs, default 600).
set -uo pipefail
lpusim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$2
sweep=${LPUSIM_SLURM_SWEEP:-$root/tests/data/sweep/tiny_sweep.json}
shards=${LPUSIM_SLURM_SHARDS:-3}
timeout=${LPUSIM_SLURM_SWEEP_TIMEOUT:-600}
# shellcheck source=../slurm/slurm_cluster.sh
source "$root/tests/slurm/slurm_cluster.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: needs root to start munged/slurmctld/slurmd (running as uid $(id -u))"
  exit 77
fi
while IFS='=' read -r var _; do
  [[ $var == SLURM_* || $var == SBATCH_* || $var == SALLOC_* || $var == SQUEUE_* || $var == SINFO_* ]] && unset "$var"
done < <(env)

# munged wants every directory above its socket searchable by all.
base=${TMPDIR:-/tmp}
p=$base
while [[ $p != / && $p != . ]]; do
  if [[ ! -d $p || $(( 0$(stat -c %a "$p") & 01 )) -eq 0 ]]; then base=/tmp; break; fi
  p=$(dirname "$p")
done
top=$(mktemp -d "$base/lpusim-slurm-sweep.XXXXXX") || exit 1
chmod 0755 "$top"
ok=0
cleanup() {
  slurm_down "$top/cluster"
  if [[ $ok -eq 1 ]]; then rm -rf "$top"; else echo "slurm sweep: kept $top (cluster logs in $top/cluster/log)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
  echo "slurm sweep: FAILED: $*" >&2
  for f in "$top"/slurm/logs/*.out; do [[ -f $f ]] && { echo "----- $f" >&2; tail -n 20 "$f" >&2; }; done
  [[ -n ${SLURM_CONF:-} ]] && _slurm_dump_logs "$top/cluster"
  exit 1
}

start=$SECONDS
"$lpusim" explore "$sweep" --out "$top/local" --jobs 2 --no-plots >"$top/local.out" 2>&1 || { cat "$top/local.out"; fail "the local run"; }
echo "slurm sweep: local run in $((SECONDS - start)) s: $(head -1 "$top/local.out")"

slurm_up "$top/cluster" || fail "the cluster did not come up"
"$lpusim" explore "$sweep" --emit-slurm "$top/slurm" --shards "$shards" --jobs 1 --no-plots >"$top/emit.out" 2>&1 ||
  { cat "$top/emit.out"; fail "--emit-slurm"; }
start=$SECONDS
read -r array_id merge_id < <("$top/slurm/submit.sh") || fail "submit.sh"
[[ -n $array_id && -n $merge_id ]] || fail "submit.sh printed no job ids"
echo "slurm sweep: submitted array $array_id ($shards tasks) and merge job $merge_id"
deadline=$((SECONDS + timeout))
while [[ -n $(squeue -h -j "$array_id,$merge_id" -o %i 2>/dev/null) ]]; do
  ((SECONDS < deadline)) || fail "jobs not finished after ${timeout}s"
  sleep 0.5
done
echo "slurm sweep: array and merge done in $((SECONDS - start)) s"
states=$(scontrol -o show job "$array_id" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ')
[[ $states == " $shards JobState=COMPLETED" ]] || fail "array tasks: $states"
merge_state=$(scontrol -o show job "$merge_id" | grep -o 'JobState=[A-Z_]*')
[[ $merge_state == JobState=COMPLETED ]] || fail "merge job: $merge_state"

merged=$top/slurm/results
[[ -f $merged/results.csv ]] || fail "no merged results.csv"
diff <(tail -n +2 "$top/local/results.csv" | sort) <(tail -n +2 "$merged/results.csv" | sort) >"$top/rows.diff" ||
  { cat "$top/rows.diff"; fail "the merged rows differ from the local run's"; }
cmp -s "$top/local/results.csv" "$merged/results.csv" || fail "results.csv differs from the local run's"
cmp -s "$top/local/results.json" "$merged/results.json" || fail "results.json differs from the local run's"
echo "slurm sweep: ok: $(($(wc -l <"$merged/results.csv") - 1)) rows from $shards Slurm shards equal the local run's, byte for byte"
ok=1
