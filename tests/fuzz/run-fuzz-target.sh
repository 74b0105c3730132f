#!/usr/bin/env bash
# One fuzz target's ctest run (-DVPT_FUZZ=ON): replay the regression inputs,
# then fuzz for SECONDS on the seeds. New inputs go to WORK/corpus, a finding
# to WORK/ (crash-*, timeout-*, oom-*): copy it to tests/fuzz/regressions/NAME.
#   run-fuzz-target.sh BINARY SECONDS WORK REGRESSIONS DICT SEED...
set -euo pipefail
binary=$1 seconds=$2 work=$3 regressions=$4 dict=$5
shift 5
mkdir -p "$work/corpus"
here=$(cd "$(dirname "$0")" && pwd)
# Readable stack traces (Debian's llvm-16), and leaks of system libraries not counted.
if [ -x /usr/lib/llvm-16/bin/llvm-symbolizer ]; then export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer; fi
export LSAN_OPTIONS="suppressions=$here/../sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
  "$binary" "$regressions"/*
fi
options=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
         -artifact_prefix="$work/")
if [ -n "$dict" ]; then options+=(-dict="$dict"); fi
exec "$binary" "${options[@]}" "$work/corpus" "$@"
