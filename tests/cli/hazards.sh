#!/usr/bin/env bash
# One deliberately broken program per hazard kind (tests/data/hazards/<kind>.s), and one
# broken system run per network hazard kind (tests/data/hazards/c2c/<kind>/: system.json and
# chip0.s, chip1.s, ... for chips 0, 1, ...; chips without a program are idle): lpusim run
# must exit 3 and name the kind in its report; with --no-check it exits 0.
set -u
lpusim=$1
dir=$2
failures=0
cases=0
for program in "$dir"/*.s; do
  kind=$(basename "$program" .s)
  cases=$((cases + 1))
  report=$(timeout 30 "$lpusim" run "$program" 2>&1 >/dev/null)
  code=$?
  if [[ $code -ne 3 || "$report" != *"[$kind]"* ]]; then
    echo "FAIL: $program: exit $code (want 3), report:"; printf '%s\n' "$report" | sed 's/^/  /'
    failures=$((failures + 1))
  fi
  timeout 30 "$lpusim" run "$program" --no-check >/dev/null 2>&1
  code=$?
  if [[ $code -ne 0 ]]; then echo "FAIL: $program --no-check: exit $code (want 0)"; failures=$((failures + 1)); fi
done
for case_dir in "$dir"/c2c/*/; do
  kind=$(basename "$case_dir")
  cases=$((cases + 1))
  report=$(timeout 30 "$lpusim" run --system "$case_dir/system.json" "$case_dir"/chip*.s 2>&1 >/dev/null)
  code=$?
  if [[ $code -ne 3 || "$report" != *"[$kind]"* ]]; then
    echo "FAIL: $case_dir: exit $code (want 3), report:"; printf '%s\n' "$report" | sed 's/^/  /'
    failures=$((failures + 1))
  fi
  timeout 30 "$lpusim" run --no-check --system "$case_dir/system.json" "$case_dir"/chip*.s >/dev/null 2>&1
  code=$?
  if [[ $code -ne 0 ]]; then echo "FAIL: $case_dir --no-check: exit $code (want 0)"; failures=$((failures + 1)); fi
done
echo "$((cases - failures)) passed, $failures failed"
[[ $cases -ge 10 && $failures -eq 0 ]]
