#!/usr/bin/env bash
# Golden cycle counts of compiled schedules (issue #10): compiles every case listed in
# compiled_cycles.tsv and compares its scheduled length and instruction count with the pinned
# values. Any change fails, printing old and new values. The simulated cycle count equals the
# scheduled length (checked by `lpusim estimate`/`verify` and tests/cli/compiler.sh), so
# pinning the schedule pins the simulation too.
#
# Usage: check_compiled_cycles.sh LPUSIM [--update] [--cases REGEX] [--chip FILE]
#   --update      rewrite the pinned values (a deliberate change: commit it on its own, with
#                 the reason and the before/after table printed here)
#   --cases RE    only the cases whose name matches the extended regex RE
#   --chip FILE   compile for another chip configuration (the test of this script uses it to
#                 show that one changed latency moves the counts)
# Regenerate: tests/golden/check_compiled_cycles.sh build/release/tools/lpusim --update
set -uo pipefail
lpusim=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
table=$here/compiled_cycles.tsv
update=0 cases="" chip=""
while (($#)); do
  case $1 in
    --update) update=1 ;;
    --cases) cases=$2; shift ;;
    --chip) chip=$2; shift ;;
    *) echo "check_compiled_cycles.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
cd "$here/../.." || exit 2  # case arguments name bundled models and workloads/graphs paths
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
changed=0 checked=0 failed=0
new_table=$out/table.tsv
while IFS= read -r raw; do
  if [[ $raw == \#* || -z $raw ]]; then printf '%s\n' "$raw" >> "$new_table"; continue; fi
  IFS=$'\t' read -r name args cycles instructions <<< "$raw"
  if [[ -n $cases && ! $name =~ $cases ]]; then printf '%s\t%s\t%s\t%s\n' "$name" "$args" "$cycles" "$instructions" >> "$new_table"; continue; fi
  # shellcheck disable=SC2086  # the arguments are words by design
  if ! line=$("$lpusim" compile $args ${chip:+--chip "$chip"} -o "$out/p.s" 2>&1 >/dev/null); then
    echo "FAIL $name: lpusim compile $args: $line"; failed=1
    printf '%s\t%s\t%s\t%s\n' "$name" "$args" "$cycles" "$instructions" >> "$new_table"; continue
  fi
  got_instructions=$(sed -n 's/.*: \([0-9]*\) instructions\( (estimated [0-9]*)\)\{0,1\}, scheduled length.*/\1/p' <<< "$line")
  got_cycles=$(sed -n 's/.*scheduled length \([0-9]*\) cycles.*/\1/p' <<< "$line")
  if [[ -z $got_cycles || -z $got_instructions ]]; then echo "FAIL $name: unexpected compile output: $line"; failed=1; continue; fi
  checked=$((checked + 1))
  if [[ $got_cycles != "$cycles" || $got_instructions != "$instructions" ]]; then
    changed=$((changed + 1))
    awk -v n="$name" -v c0="$cycles" -v c1="$got_cycles" -v i0="$instructions" -v i1="$got_instructions" 'BEGIN {
      printf "%s %s: cycles %s -> %s (%+.2f%%), instructions %s -> %s\n", (c0 == "" ? "NEW" : "CHANGED"), n, c0, c1,
        (c0 > 0 ? 100 * (c1 - c0) / c0 : 0), i0, i1 }'
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$args" "$got_cycles" "$got_instructions" >> "$new_table"
done < "$table"
if ((update)); then
  cp "$new_table" "$table"
  echo "golden: $checked cases checked, $changed updated in $table"
  exit $failed
fi
echo "golden: $checked cases checked, $changed changed"
((failed)) && exit 1
((changed)) && { echo "golden: compiled cycle counts moved; if on purpose, rerun with --update and commit the new values on their own"; exit 1; }
((checked > 0)) || { echo "golden: no case matched"; exit 1; }
exit 0
