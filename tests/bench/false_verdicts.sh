#!/usr/bin/env bash
# How often does `compare` call a change "better" or "worse" when nothing
# changed? Runs `vpt-tune bench --quick` RUNS times on this host with the same
# layout, compares every pair of runs one file a side (i before j), and counts
# the rows whose verdict is better/worse among the rows with a verdict.
#
#   false_verdicts.sh VPT_TUNE WORKDIR RUNS [MAX_RATE [WARMUP]]
#
# Exit 1 when the false-verdict rate exceeds MAX_RATE (default 0.05: one metric
# in twenty). WARMUP runs (default 0) come first and are not compared: the
# first run after other work is slow and different (the kernel compacts memory
# for its huge pages). Prints every false verdict and the rate. The runs stay
# in WORKDIR.
set -euo pipefail
VPT=${1:?usage: $0 VPT_TUNE WORKDIR RUNS [MAX_RATE]}
WORK=${2:?usage}
RUNS=${3:?usage}
MAX=${4:-0.05}
WARMUP=${5:-0}
mkdir -p "$WORK"
rm -f "$WORK"/run-*.json "$WORK"/cmp-*.txt
for i in $(seq 1 "$WARMUP"); do
  "$VPT" bench --quick > /dev/null 2> "$WORK/warmup.log" || { cat "$WORK/warmup.log"; exit 1; }
  echo "warm-up run $i (not compared)"
done
for i in $(seq 1 "$RUNS"); do
  "$VPT" bench --quick --save "$WORK/run-$i.json" --force > "$WORK/run-$i.txt" 2> "$WORK/run-$i.log" \
    || { cat "$WORK/run-$i.log"; exit 1; }
  echo "run $i: $(head -n 1 "$WORK/run-$i.txt")"
done
total=0 false=0
for i in $(seq 1 "$RUNS"); do
  for j in $(seq $((i + 1)) "$RUNS"); do
    "$VPT" compare "$WORK/run-$i.json" "$WORK/run-$j.json" > "$WORK/cmp-$i-$j.txt"
    # Rows end in "verdict (reason)"; the header and warnings do not.
    rows=$(grep -cE '  (better|worse|within noise) \(' "$WORK/cmp-$i-$j.txt" || true)
    bad=$(grep -E '  (better|worse) \(' "$WORK/cmp-$i-$j.txt" || true)
    n=0
    [ -n "$bad" ] && n=$(printf '%s\n' "$bad" | wc -l)
    total=$((total + rows)) false=$((false + n))
    [ -n "$bad" ] && printf '%s\n' "$bad" | sed "s/^/  run $i vs $j: /"
  done
done
rate=$(awk -v f="$false" -v t="$total" 'BEGIN { printf "%.4f", t ? f / t : 0 }')
echo "false verdicts: $false of $total rows with a verdict ($rate; allowed $MAX) over $((RUNS * (RUNS - 1) / 2)) comparisons of $RUNS runs"
awk -v r="$rate" -v m="$MAX" 'BEGIN { exit !(r <= m) }'
