#!/usr/bin/env bash
# One count of fit: over chips of 200 to 1400 words per MEM slice (tsp-v1 otherwise), a
# tiny model either compiles on one chip or is refused by the compile cost, never by the
# lowering running out of a plane's weight slices (the cost keeps room for 4 x the largest output tile:
# CompileCost::weights_fit); and estimate agrees with compile: one chip where compile takes
# it, a plan of several chips where compile refuses it for SRAM (the plan checked by the
# compiler's count on its chips: plan_fits_chips), or a refusal saying why no plan fits.
# Release only: about 40 s.
set -uo pipefail
lpusim=$1
root=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
chip() {  # chip WORDS: a tsp-v1 with that many words per slice, in $dir/w$1.json
  python3 - "$root/models/chips/tsp-v1.json" "$1" "$dir/w$1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["mem"]["words_per_slice"] = int(sys.argv[2])
c["name"] = "tsp-v1-w" + sys.argv[2]
json.dump(c, open(sys.argv[3], "w"))
PY
}
for model in tiny-llama tiny-mixtral; do
  for weights in int8 fp16; do
    for words in $(seq 200 100 1400); do
      chip "$words"
      out=$("$lpusim" compile "$model" --chip "$dir/w$words.json" --weights "$weights" -o "$dir/x.s" 2>&1)
      rc=$?
      if [[ $rc -ne 0 && $rc -ne 2 ]] || grep -q "words in each weight slice of MXM plane" <<<"$out"; then
        echo "FAIL: compile $model --weights $weights on $words words: exit $rc: $(tail -1 <<<"$out")"; fail=1
      fi
    done
  done
done
for words in 256 384 512 640 1024; do
  chip "$words"
  # estimate needs both phases: the prompt's prefill and a decode step after it.
  "$lpusim" compile tiny-llama --chip "$dir/w$words.json" --weights int8 --phase prefill --prompt-len 4 -o "$dir/x.s" >/dev/null 2>&1 &&
    "$lpusim" compile tiny-llama --chip "$dir/w$words.json" --weights int8 --phase decode --prompt-len 7 -o "$dir/x.s" >/dev/null 2>&1
  compiled=$?
  out=$("$lpusim" estimate tiny-llama --chip "$dir/w$words.json" --prompt-len 4 --gen-len 4 2>&1)
  rc=$?
  if [[ $compiled -eq 0 ]]; then
    [[ $rc -eq 0 ]] && ! grep -q "^plan " <<<"$out" || { echo "FAIL: $words words: compile fits one chip, estimate: $(head -2 <<<"$out" | tail -1)"; fail=1; }
  else
    [[ $rc -eq 0 ]] && grep -q "^plan tp" <<<"$out" || { echo "FAIL: $words words: compile refuses one chip, estimate (exit $rc): $(tail -1 <<<"$out")"; fail=1; }
  fi
done
[[ $fail -eq 0 ]] && echo "ok: compile and estimate agree on fit from 200 to 1400 words per slice"
exit $fail
