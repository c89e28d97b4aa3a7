#!/usr/bin/env bash
# Installs the Debian packages lpusim builds with, if any is missing. Idempotent; needs root
# (or sudo) only when something is actually missing. ninja-build runs the presets' builds;
# g++ brings ASan/UBSan (libasan8, libubsan1) for the `asan` preset; clang-14 and
# libclang-rt-14-dev (libFuzzer) are for the `fuzz` preset. slurm-wlm and munge are for the private Slurm cluster the sweep tests start
# (tests/slurm); python3-matplotlib draws the sweep plots (tools/plot_sweep.py).
set -euo pipefail
packages=(cmake g++ make ninja-build pkg-config libsystemc-dev libeigen3-dev libfmt-dev catch2 nlohmann-json3-dev libcli11-dev
          clang-14 libclang-rt-14-dev slurm-wlm munge python3-matplotlib)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "lpusim: installing missing packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
