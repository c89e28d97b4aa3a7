#!/usr/bin/env bash
# Smoke test of the private Slurm cluster (tests/slurm/slurm_cluster.sh): bring it up, submit a
# 4-task job array that writes one file per task and a job that depends on the whole array
# (afterok) and concatenates the files, wait, check the result, tear down.
#
# Exit 0 on success, 1 on failure (the cluster's directory with its logs is kept and named),
# 77 when not root (ctest's SKIP_RETURN_CODE). Environment: LPUSIM_SLURM_SMOKE_TIMEOUT (seconds the
# jobs may take, default 120), LPUSIM_SLURM_SMOKE_KEEP=1 keeps the directory even on success.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/slurm_cluster.sh
source "$here/slurm_cluster.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: needs root to start munged/slurmctld/slurmd (running as uid $(id -u))"
  exit 77
fi

# A test run inside a real Slurm job must not leak that job's settings into ours.
while IFS='=' read -r var _; do
  [[ $var == SLURM_* || $var == SBATCH_* || $var == SALLOC_* || $var == SQUEUE_* || $var == SINFO_* ]] && unset "$var"
done < <(env)

timeout=${LPUSIM_SLURM_SMOKE_TIMEOUT:-120}
# munged wants every directory above its socket searchable by all: a TMPDIR below /root, say,
# will not do, /tmp will.
base=${TMPDIR:-/tmp}
for d in "$base" $(p=$base; while [[ $p != / && $p != . ]]; do p=$(dirname "$p"); echo "$p"; done); do
  if [[ ! -d $d || $(( 0$(stat -c %a "$d") & 01 )) -eq 0 ]]; then
    echo "smoke: $d is not a directory searchable by all, so not usable for munged's socket; using /tmp"
    base=/tmp
    break
  fi
done
top=$(mktemp -d "$base/lpusim-slurm-smoke.XXXXXX") || exit 1
chmod 0755 "$top"  # munged wants every directory above its socket searchable by all
cluster=$top/cluster
work=$top/work
ok=0
now_ms() { date +%s%3N; }

cleanup() {
  local t0
  t0=$(now_ms)
  slurm_down "$cluster"
  echo "smoke: teardown $(($(now_ms) - t0)) ms"
  if [[ $ok -eq 1 && ${LPUSIM_SLURM_SMOKE_KEEP:-0} != 1 ]]; then
    rm -rf "$top"
  else
    echo "smoke: kept $top (cluster logs in $cluster/log)"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "smoke: FAILED: $*" >&2
  if [[ -n ${SLURM_CONF:-} ]]; then
    squeue >&2 2>&1 || true
    for f in "$work"/*.log; do [[ -f $f ]] && { echo "----- $f" >&2; cat "$f" >&2; }; done
    _slurm_dump_logs "$cluster"
  fi
  exit 1
}

t_start=$(now_ms)
slurm_up "$cluster" || fail "the cluster did not come up"
t_up=$(now_ms)
echo "smoke: cluster up in $((t_up - t_start)) ms (SLURM_CONF=$SLURM_CONF)"

mkdir -p "$work"
cat >"$work/task.sh" <<'EOF'
#!/bin/bash
set -eu
echo "task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname -s)" >"part_$SLURM_ARRAY_TASK_ID.txt"
EOF
cat >"$work/merge.sh" <<'EOF'
#!/bin/bash
set -eu
cat part_0.txt part_1.txt part_2.txt part_3.txt >merged.txt
EOF

array_id=$(sbatch --parsable --job-name=smoke-array --array=0-3 --chdir="$work" \
                  --output="$work/task_%a.log" --ntasks=1 --time=5 "$work/task.sh") ||
  fail "sbatch of the array"
array_id=${array_id%%;*}
merge_id=$(sbatch --parsable --job-name=smoke-merge --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
                  --chdir="$work" --output="$work/merge.log" --ntasks=1 --time=5 "$work/merge.sh") ||
  fail "sbatch of the merge job"
merge_id=${merge_id%%;*}
echo "smoke: submitted array $array_id (4 tasks) and merge job $merge_id (afterok:$array_id)"

# Poll until neither job is pending or running.
deadline=$(($(date +%s) + timeout))
while [[ -n $(squeue -h -j "$array_id,$merge_id" -o %i 2>/dev/null) ]]; do
  (($(date +%s) < deadline)) || fail "jobs not finished after ${timeout}s"
  sleep 0.25
done
t_done=$(now_ms)
echo "smoke: array and merge done in $((t_done - t_up)) ms after bring-up"

# Every array task and the merge job completed (finished jobs stay in slurmctld for MinJobAge).
states=$(scontrol -o show job "$array_id" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ')
[[ $states == " 4 JobState=COMPLETED" ]] || fail "array tasks: $states"
merge_state=$(scontrol -o show job "$merge_id" | grep -o 'JobState=[A-Z_]*')
[[ $merge_state == JobState=COMPLETED ]] || fail "merge job: $merge_state"

expected=$(for i in 0 1 2 3; do echo "task $i of job $array_id on $(hostname -s)"; done)
[[ -f $work/merged.txt ]] || fail "no merged.txt"
[[ $(cat "$work/merged.txt") == "$expected" ]] || fail "merged.txt differs: $(cat "$work/merged.txt")"

ok=1
echo "smoke: ok, total $(($(now_ms) - t_start)) ms before teardown"
