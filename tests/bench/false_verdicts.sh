#!/usr/bin/env bash
# How often does `compare` call a change "better" or "worse" when nothing
# changed? Runs `vpt-tune bench --quick` several times on this host with the
# same layout and compares them.
#
#   false_verdicts.sh VPT_TUNE WORKDIR RUNS [MAX_RATE [WARMUP [MODE]]]
#
# MODE pairs (the default): every pair of runs, one file a side (i before j).
#   This measures the host as much as compare: a shared VM whose outer
#   hypervisor moves a vCPU or whose L3 neighbour wakes up between two runs
#   really changed, and no statistic on one run a side can tell (docs/bench-notes.md).
# MODE interleaved: RUNS must be 10; the runs are split into two sides of five
#   by three interleaved patterns (ABABABABAB, ABBAABBAAB, AABBAABBAB) and each
#   split is compared with --before/--after, five files a side: the workflow
#   the README recommends for a verdict that holds. Interleaving puts a step or
#   a drift of the host on both sides alike, so here "nothing changed" holds by
#   construction and every better/worse row is compare's own false verdict.
#   The pairwise rate of the same runs is printed too, for information.
#
# Exit 1 when the asserted false-verdict rate exceeds MAX_RATE (default 0.05:
# one metric in twenty). WARMUP runs (default 0) come first and are not
# compared: the first run after other work is slow and different (the kernel
# compacts memory for its huge pages). Prints every false verdict and the rate.
# The runs stay in WORKDIR.
set -euo pipefail
VPT=${1:?usage: $0 VPT_TUNE WORKDIR RUNS [MAX_RATE [WARMUP [pairs|interleaved]]]}
WORK=${2:?usage}
RUNS=${3:?usage}
MAX=${4:-0.05}
WARMUP=${5:-0}
MODE=${6:-pairs}
PATTERNS=(ABABABABAB ABBAABBAAB AABBAABBAB)
case $MODE in
  pairs) ;;
  interleaved) [ "$RUNS" -eq 10 ] || { echo "interleaved mode needs RUNS=10" >&2; exit 2; } ;;
  *) echo "MODE must be pairs or interleaved, not '$MODE'" >&2; exit 2 ;;
esac
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

# count_verdicts FILE LABEL: adds the file's rows to total/false, prints false rows.
total=0 false=0
count_verdicts() {
  # Rows end in "verdict (reason)"; the header and warnings do not.
  local rows bad n=0
  rows=$(grep -cE '  (better|worse|within noise) \(' "$1" || true)
  bad=$(grep -E '  (better|worse) \(' "$1" || true)
  [ -n "$bad" ] && n=$(printf '%s\n' "$bad" | wc -l)
  total=$((total + rows)) false=$((false + n))
  if [ -n "$bad" ] && [ "${QUIET:-0}" = 0 ]; then printf '%s\n' "$bad" | sed "s/^/  $2: /"; fi
  return 0
}
rate() { awk -v f="$1" -v t="$2" 'BEGIN { printf "%.4f", t ? f / t : 0 }'; }

pairs() {
  for i in $(seq 1 "$RUNS"); do
    for j in $(seq $((i + 1)) "$RUNS"); do
      "$VPT" compare "$WORK/run-$i.json" "$WORK/run-$j.json" > "$WORK/cmp-$i-$j.txt"
      count_verdicts "$WORK/cmp-$i-$j.txt" "run $i vs $j"
    done
  done
}

if [ "$MODE" = pairs ]; then
  pairs
  r=$(rate "$false" "$total")
  echo "false verdicts: $false of $total rows with a verdict ($r; allowed $MAX) over $((RUNS * (RUNS - 1) / 2)) comparisons of $RUNS runs"
  awk -v r="$r" -v m="$MAX" 'BEGIN { exit !(r <= m) }'
  exit
fi

for p in "${PATTERNS[@]}"; do
  args=()
  for i in $(seq 1 "$RUNS"); do
    case ${p:$((i - 1)):1} in
      A) args+=(--before "$WORK/run-$i.json") ;;
      B) args+=(--after "$WORK/run-$i.json") ;;
    esac
  done
  "$VPT" compare "${args[@]}" > "$WORK/cmp-$p.txt"
  count_verdicts "$WORK/cmp-$p.txt" "split $p"
done
asserted_false=$false asserted_total=$total
r=$(rate "$false" "$total")
total=0 false=0
QUIET=1 pairs
echo "for information, one file a side: $false of $total rows called better/worse ($(rate "$false" "$total")) over $((RUNS * (RUNS - 1) / 2)) pairs (the host's own changes between runs count here)"
echo "false verdicts: $asserted_false of $asserted_total rows with a verdict ($r; allowed $MAX) over ${#PATTERNS[@]} interleaved 5-vs-5 splits of $RUNS runs"
awk -v r="$r" -v m="$MAX" 'BEGIN { exit !(r <= m) }'
