#!/usr/bin/env bash
# Every #include of the project's own headers stays within its layer or goes down, never up
# (docs/architecture.md). The build already enforces this through per-layer include roots
# (sim/CMakeLists.txt); this check states the rule as a table and also catches relative
# includes ("../") that would step around the include roots.
# Usage: layering.sh SOURCE_DIR
set -uo pipefail
cd "$1" || exit 2
# layer of a source folder -> the include prefixes it may use
declare -A allowed=(
  [sim/arch]="arch"
  [sim/numerics]="arch numerics"
  [sim/compiler]="arch numerics compiler"
  [sim/frontend]="arch numerics compiler frontend"
  [sim/engine]="arch numerics engine"
  [models]="arch numerics engine models"
  [sim/runtime]="arch numerics compiler frontend engine models runtime"
  [tests/core]="arch numerics compiler frontend engine runtime"
  [tests/fuzz]="arch numerics compiler frontend engine"
)
layers="arch numerics compiler frontend engine models runtime"
bad=0
checked=0
while IFS= read -r file; do
  layer=""
  for dir in "${!allowed[@]}"; do
    [[ $file == "$dir"/* ]] && { layer=$dir; break; }
  done
  while IFS= read -r inc; do
    checked=$((checked + 1))
    if [[ $inc == ../* || $inc == */../* ]]; then
      echo "$file: relative include \"$inc\" steps around the layer include roots"; bad=1; continue
    fi
    [[ -z $layer ]] && continue  # tools/ and tests/sim sit on top: they may include every layer
    prefix=${inc%%/*}
    [[ " $layers " == *" $prefix "* ]] || continue  # a file-local header (same folder)
    if [[ " ${allowed[$layer]} " != *" $prefix "* ]]; then
      echo "$file: includes \"$inc\": layer $layer may include only: ${allowed[$layer]}"; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(git ls-files 'sim/*.[ch]pp' 'models/*.[ch]pp' 'tools/*.[ch]pp' 'tests/*.[ch]pp' 2>/dev/null ||
         find sim models tools tests -name '*.[ch]pp')
echo "layering: $checked includes checked"
[[ $checked -gt 100 ]] || { echo "layering: too few includes found ($checked): wrong folder?"; exit 1; }
exit $bad
