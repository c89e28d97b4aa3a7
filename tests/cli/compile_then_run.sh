#!/usr/bin/env bash
# `lpusim run` reads every program `lpusim compile` writes (issue 11): GPT-2's decode step at
# 256 cached positions is 1.44 M instructions in about 1.08 M lines, more than the 2^20 lines
# run used to accept; it runs, in timing mode, for exactly the cycles the compiler scheduled.
# Release only: about 15 s and 1 GB.
set -uo pipefail
lpusim=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$lpusim" compile gpt2 --weights int8 --phase decode --prompt-len 256 -o "$dir/decode.s" 2>&1) ||
  { echo "FAIL: compile"; echo "$out"; exit 1; }
scheduled=$(sed -n 's/.*scheduled length \([0-9]*\) cycles.*/\1/p' <<<"$out")
lines=$(wc -l <"$dir/decode.s")
(( lines > 1048576 )) || { echo "FAIL: the program has $lines lines, not more than 2^20: the test no longer covers the old limit"; exit 1; }
run=$("$lpusim" run "$dir/decode.s" --mode timing 2>&1) || { echo "FAIL: run refuses the compiled program"; echo "$run" | tail -3; exit 1; }
simulated=$(sed -n 's/^ *total cycles *\([0-9]*\).*/\1/p' <<<"$run")
[[ -n "$scheduled" && "$simulated" == "$scheduled" ]] ||
  { echo "FAIL: run took $simulated cycles, compile scheduled $scheduled"; exit 1; }
echo "ok: a $lines-line compiled program runs for its scheduled $scheduled cycles"
