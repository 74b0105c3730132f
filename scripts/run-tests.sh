#!/usr/bin/env bash
# Set-up and the whole test suite in one command, on a fresh Debian 12 machine:
# installs the dependencies (including libvirtd and QEMU for the live tests),
# builds everything (Release, warnings on) and runs ctest.
#   scripts/run-tests.sh                 all tests
#   scripts/run-tests.sh -L optimizer    extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --all
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVPT_BUILD_TESTS=ON -DVPT_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --no-tests=error --timeout 900 "$@"
