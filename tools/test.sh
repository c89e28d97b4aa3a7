#!/usr/bin/env bash
# The newcomer's second command, and what CI runs: install what is missing, build
# everything, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release
