#!/usr/bin/env bash
# The hardening runs of CI (docs/fuzzing.md), each in its own clang build directory:
#   scripts/run-sanitizers.sh          build-sanitize: the unit tests once under AddressSanitizer +
#                                      UndefinedBehaviorSanitizer, then every fuzz target for a short
#                                      fixed time (ctest -L fuzz); one build serves both
#   scripts/run-sanitizers.sh thread   build-tsan: the bench kernels, whose threads share cache lines
#                                      on purpose, under ThreadSanitizer
# scripts/run-tests.sh runs the first after the normal suite (the second too with VPT_TSAN=1).
# Tests that time this machine, libvirtd and
# the live VM are left to the normal run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-address}
bash scripts/install-deps.sh --sanitizers

export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
export VPT_TIME_LIMIT_FACTOR=10   # the bounded-input tests' 2 s, for a sanitized binary
jobs=$(nproc)
# -O1 with line tables: a third faster to build than RelWithDebInfo, stack traces keep their lines.
common=(-DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only"
        -DVPT_BUILD_TESTS=ON -DVPT_BUILD_BENCHMARKS=OFF)

case "$mode" in
  address)
    cmake -S . -B build-sanitize "${common[@]}" -DVPT_SANITIZE=address,undefined -DVPT_FUZZ=ON -DVPT_FUZZ_SECONDS=5 >/dev/null
    cmake --build build-sanitize -j"$jobs"
    cd build-sanitize
    # Left out: kernels that time this machine (their numbers mean nothing under ASan), the
    # three largest brute-force searches (up to 70 s each under ASan; the smaller fixtures
    # exercise the same code), the QEMU started like Proxmox (an unsanitized QEMU and a bench
    # run), and the corpus-wide HTML render and its html5 check (130 s under ASan; the report
    # tests render every format in-process), and the tests that time this machine's scheduler
    # (the false-verdict rate of compare, a busy thread's steal): ASan changes their timing.
    ctest --output-on-failure --no-tests=error --timeout 900 -j"$jobs" \
      -L 'common|probe|optimizer|virt|check|proxmox|bench|report|cli' -LE 'libvirtd|live|perf' \
      -E '^(CoreToCore\.Gives|MemoryLatency\.|Interference\.Gives|Wakeup\.|RunBench\.Quick|QemuStartedLikeProxmox\.|report_html_render|report_html5_valid|bench_false_verdicts|StealSampler\.ABusyThread)|SearchMatchesBruteForce.*(i7-14700f|7965wx|dgx-gb10)'
    ctest --output-on-failure --no-tests=error -L fuzz
    ;;
  thread)
    cmake -S . -B build-tsan "${common[@]}" -DVPT_SANITIZE=thread >/dev/null
    cmake --build build-tsan -j"$jobs" --target bench_tests
    cd build-tsan
    ctest --output-on-failure --no-tests=error -R '^(CpuChecks|CoreToCore|MemoryLatency|Interference|Wakeup|RunBench)\.'
    ;;
  *)
    echo "usage: $0 [address|thread]" >&2
    exit 2
    ;;
esac
