#!/usr/bin/env bash
# tools/drop-stale-build.sh PRESET: removes build/PRESET when it was configured by another
# generator than the preset's (the presets moved from Unix Makefiles to Ninja, which CMake
# refuses to reconfigure in place). Only that build tree is removed; sources are untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:?usage: tools/drop-stale-build.sh PRESET}
cache=build/$preset/CMakeCache.txt
[[ -f $cache ]] || exit 0
if ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$cache"; then
  echo "lpusim: build/$preset was made by $(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache"); the presets use Ninja: rebuilding it"
  rm -rf "build/$preset"
fi
