#!/usr/bin/env bash
# Set-up and the whole test suite in one command, on a fresh Debian 12 machine:
# installs the dependencies (including libvirtd and QEMU for the live tests)
# and prepares the host for them, builds everything (Release, warnings are errors) and
# runs ctest. Prints how long each stage took.
#   scripts/run-tests.sh                 all tests
#   scripts/run-tests.sh -L optimizer    extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
stage_start=$SECONDS
stages=()
stage_done() { stages+=("$1 $((SECONDS - stage_start)) s"); stage_start=$SECONDS; }
report_stages() { local IFS=','; echo "run-tests: stages: ${stages[*]}"; }
trap report_stages EXIT

bash scripts/install-deps.sh --all
stage_done install
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVPT_BUILD_TESTS=ON -DVPT_BUILD_BENCHMARKS=ON -DVPT_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
stage_done build
cd build
ctest --output-on-failure --no-tests=error --timeout 900 "$@"
stage_done ctest
# The whole suite (no arguments) then runs the unit tests once more under ASan+UBSan and every
# fuzz target briefly (docs/fuzzing.md); VPT_SANITIZERS=0 skips that. The TSan build of the bench
# kernels (`scripts/run-sanitizers.sh thread`, 8 more minutes here) runs with VPT_TSAN=1: it
# checks code that changes rarely, and CI time is kept near 30 minutes.
if [ $# -eq 0 ] && [ "${VPT_SANITIZERS:-1}" != 0 ]; then
  bash ../scripts/run-sanitizers.sh address
  stage_done asan+fuzz
  if [ "${VPT_TSAN:-0}" = 1 ]; then
    bash ../scripts/run-sanitizers.sh thread
    stage_done tsan
  fi
fi
