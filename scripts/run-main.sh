#!/usr/bin/env bash
# Set-up and main job in one command, on a fresh Debian 12 machine:
# installs the dependencies, builds vpt-tune (Release), then runs it.
#   scripts/run-main.sh              probe this host, then plan the guide's i7-14700F (docs/optimizer-notes.md) and this host
#   scripts/run-main.sh ARGS...      run `vpt-tune ARGS...` instead
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVPT_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target vpt-tune
VPT=build/cli/vpt-tune
if (($# > 0)); then
  exec "$VPT" "$@"
fi
echo "== vpt-tune probe (this host)"
"$VPT" probe
echo
echo "== vpt-tune suggest --lscpu data/lscpu/intel-core-i7-14700f.txt --vcpus 16 (the guide's machine)"
"$VPT" suggest --lscpu data/lscpu/intel-core-i7-14700f.txt --vcpus 16
echo
echo "== vpt-tune suggest (this host)"
# On a host too small for the default reserve the error names the command that plans anyway.
"$VPT" suggest || true
