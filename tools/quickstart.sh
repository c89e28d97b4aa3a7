#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build, and run the main job on a
# bundled default (an example program on the bundled TSP v1 chip).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target lpusim
echo
./build/release/tools/lpusim run workloads/examples/vxm_chain.s --chip tsp-v1 --stats build/release/vxm_chain-stats.json
echo
echo "Stats JSON: build/release/vxm_chain-stats.json. Try: ./build/release/tools/lpusim run --help"
