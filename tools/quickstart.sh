#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build, and run the main job on a
# bundled default (an estimate of GPT-2 small on the bundled TSP v1 chip).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/drop-stale-build.sh release
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target lpusim
echo
# The main job: compile GPT-2 small (bundled config, int8 weights) for one TSP v1, simulate
# its prefill and a decode step cycle by cycle, and report tokens/s and time to first token.
./build/release/tools/lpusim estimate gpt2 --chip tsp-v1 --prompt-len 16 --gen-len 16
echo
echo "More: ./build/release/tools/lpusim --help (run, compile, estimate, verify, bench)"
