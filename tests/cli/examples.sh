#!/usr/bin/env bash
# `lpusim run` on every bundled example, in both modes: it must succeed and print the total
# cycles that the example's comments derive ("; expect-cycles: N").
set -u
lpusim=$1
dir=$2
failures=0
cases=0
for program in "$dir"/*.s; do
  expected=$(sed -n 's/^; expect-cycles: \([0-9]*\).*/\1/p' "$program" | head -1)
  for mode in functional timing; do
    cases=$((cases + 1))
    out=$(timeout 60 "$lpusim" run "$program" --mode "$mode" 2>&1)
    code=$?
    got=$(printf '%s\n' "$out" | sed -n 's/^  total cycles *\([0-9]*\)$/\1/p')
    if [[ $code -ne 0 || -z "$expected" || "$got" != "$expected" ]]; then
      echo "FAIL: $program ($mode): exit $code, total cycles '$got', expected '$expected'"
      printf '%s\n' "$out" | sed 's/^/  /'
      failures=$((failures + 1))
    fi
  done
done
echo "$((cases - failures)) passed, $failures failed"
[[ $cases -ge 6 && $failures -eq 0 ]]
