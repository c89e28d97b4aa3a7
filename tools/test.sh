#!/usr/bin/env bash
# The newcomer's second command, and what CI runs: install what is missing, then
#   1. build (g++, release) and run the whole test suite;
#   2. build again with AddressSanitizer + UndefinedBehaviorSanitizer (g++, preset `asan`)
#      and run the whole suite again under them;
#   3. build the libFuzzer targets (clang-14, preset `fuzz`), replay their seed corpora and
#      crash regressions, and fuzz each target for LPUSIM_FUZZ_SECONDS (default 30) seconds.
# LPUSIM_TEST_STAGES="release asan fuzz" (the default) picks stages for local use.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)
stages=${LPUSIM_TEST_STAGES:-release asan fuzz}
fuzz_seconds=${LPUSIM_FUZZ_SECONDS:-30}
times=()
stage() {  # stage NAME CONFIGURE_ARGS...
  local name=$1 start=$SECONDS
  shift
  echo "== lpusim tests: $name"
  tools/drop-stale-build.sh "$name"
  cmake --preset "$name" "$@" >/dev/null
  cmake --build --preset "$name" -j "$jobs"
  ctest --preset "$name"
  times+=("$name $((SECONDS - start)) s")
}
for s in $stages; do
  case $s in
    release) stage release ;;
    asan) stage asan ;;
    fuzz) stage fuzz -DLPUSIM_FUZZ_SECONDS="$fuzz_seconds" ;;
    *) echo "tools/test.sh: unknown stage '$s' (expected release, asan, fuzz)" >&2; exit 2 ;;
  esac
done
echo "== lpusim tests passed: ${times[*]}"
