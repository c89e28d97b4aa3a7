#!/usr/bin/env bash
# Runs every case of tests/data/bad_inputs.txt ($D is tests/data/bad, $T a scratch folder): each must exit 2 with exactly one line on
# stderr containing the expected text, and nothing may crash or hang (60 s limit a case, generous for a loaded CI machine).
set -u
lpusim=$1
data=$2
D=$data/bad
# $T: a scratch folder for inputs git cannot hold (a symlink loop) and outputs that must not
# appear (a refused compile -o).
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ln -s "$T/loop_b" "$T/loop_a"
ln -s "$T/loop_a" "$T/loop_b"
failures=0
cases=0
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  args=${line%% | *}
  expected=${line#* | }
  args=${args//\$D/$D}
  args=${args//\$T/$T}
  cases=$((cases + 1))
  # shellcheck disable=SC2086
  stderr=$(timeout 60 "$lpusim" $args 2>&1 >/dev/null)
  code=$?
  lines=$(printf '%s' "$stderr" | grep -c '')
  if [[ $code -ne 2 || $lines -ne 1 || "$stderr" != *"$expected"* ]]; then
    echo "FAIL: lpusim $args"
    echo "  exit code $code (want 2), $lines stderr lines (want 1)"
    echo "  stderr:   $stderr"
    echo "  expected: $expected"
    failures=$((failures + 1))
  fi
done < "$data/bad_inputs.txt"
# Nothing a refused command was asked to write may exist afterwards (nor its temporary file).
leftovers=$(find "$T" -name 'refused*' | head -5)
if [[ -n "$leftovers" ]]; then
  echo "FAIL: refused commands left output files: $leftovers"
  failures=$((failures + 1))
fi
echo "$((cases - failures)) passed, $failures failed"
[[ $cases -ge 40 && $failures -eq 0 ]]
