#!/usr/bin/env bash
# A bounded libFuzzer run: FUZZER SECONDS WORK_CORPUS ARTIFACT_DIR SEED_CORPUS [DICT [MORE_SEED_DIRS...]].
# New corpus entries go to WORK_CORPUS (build tree); a crash is saved in ARTIFACT_DIR and
# fails the test. Every crash found must be copied to tests/fuzz/regressions/<target>/.
set -euo pipefail
fuzzer=$1 seconds=$2 work=$3 artifacts=$4 seeds=$5 dict=${6:-}
more_seeds=("${@:7}")
mkdir -p "$work" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
      -artifact_prefix="$artifacts" -close_fd_mask=3)
[[ -n "$dict" && -f "$dict" ]] && args+=(-dict="$dict")
corpora=()
for dir in "$seeds" "${more_seeds[@]}"; do [[ -d "$dir" ]] && corpora+=("$dir"); done
exec "$fuzzer" "${args[@]}" "$work" "${corpora[@]}"
