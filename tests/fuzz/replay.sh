#!/usr/bin/env bash
# Runs a fuzz target once over every file in the given directories (seed corpus and crash
# regressions). Fails if any input crashes, leaks or trips a sanitizer.
set -euo pipefail
fuzzer=$1; shift
files=()
for dir in "$@"; do
  [[ -d "$dir" ]] || continue
  while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$dir" -type f -print0 | sort -z)
done
((${#files[@]} > 0)) || { echo "no inputs in $*"; exit 1; }
echo "replaying ${#files[@]} inputs"
exec "$fuzzer" -runs=1 "${files[@]}"
