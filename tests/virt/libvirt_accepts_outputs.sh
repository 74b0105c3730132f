#!/usr/bin/env bash
# Every definition `suggest --xml FILE --out OUT` writes is one that libvirt's
# own parser accepts (issue 21, point 8b; the schema alone passed outputs that
# libvirt refuses). For each domain of the corpus that the libvirt here
# accepts, each host and each vCPU count:
#   - suggest exits 0 and `virsh -c test:///default define OUT` succeeds, or
#   - suggest exits 2 with one line on stderr and writes no OUT.
# The test driver runs in-process: no daemon, nothing defined outlives virsh.
#
#   libvirt_accepts_outputs.sh VPT_TUNE CORPUS_DIR DATA_DIR WORKDIR
set -uo pipefail
VPT=${1:?usage: $0 VPT_TUNE CORPUS_DIR DATA_DIR WORKDIR}
CORPUS=${2:?usage}
DATA=${3:?usage}
WORK=${4:?usage}
command -v virsh > /dev/null || { echo "virsh is missing (libvirt-clients)"; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"

define() { virsh -q -c test:///default define "$1" > "$WORK/define.log" 2>&1; }

hosts=("--lscpu $CORPUS/lscpu/intel-core-i7-14700f.txt"
       "--lscpu $CORPUS/lscpu/amd-ryzen7-5800x.txt"
       "--topology $CORPUS/hwloc/AMD-19h-Zen3-2xEpyc-7763.xml"
       "--topology $CORPUS/hwloc/Intel-Haswell-2xXeon-E5-2680v3.xml")
counts=(auto 1 4 12 24)
domains=0 runs=0 defined=0 refused=0 failed=0
for domain in "$CORPUS"/domains/*.xml "$DATA"/domains/*.xml; do
  if ! define "$domain"; then
    echo "skipped $(basename "$domain"): this libvirt refuses the input itself: $(head -c 200 "$WORK/define.log" | tr '\n' ' ')"
    continue
  fi
  domains=$((domains + 1))
  for host in "${hosts[@]}"; do
    for count in "${counts[@]}"; do
      runs=$((runs + 1))
      out="$WORK/out.xml"
      rm -f "$out"
      # shellcheck disable=SC2086
      "$VPT" suggest $host --xml "$domain" --vcpus "$count" --out "$out" > "$WORK/stdout" 2> "$WORK/stderr"
      rc=$?
      what="$(basename "$domain") on ${host##*/} with --vcpus $count"
      if [ "$rc" = 0 ]; then
        if define "$out"; then
          defined=$((defined + 1))
        else
          echo "FAIL: $what: libvirt refuses the output: $(head -c 300 "$WORK/define.log" | tr '\n' ' ')"
          cp "$out" "$WORK/refused-$runs.xml"
          failed=$((failed + 1))
        fi
      elif [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/stderr")" = 1 ] && [ ! -e "$out" ]; then
        refused=$((refused + 1))
      else
        echo "FAIL: $what: exit $rc, $(wc -l < "$WORK/stderr") lines on stderr: $(head -c 300 "$WORK/stderr")"
        failed=$((failed + 1))
      fi
    done
  done
done
echo "$domains domains, $runs runs: $defined outputs libvirt accepts, $refused clean refusals, $failed failures"
[ "$domains" -ge 10 ] || { echo "FAIL: fewer than 10 domains were checked"; exit 1; }
[ "$defined" -ge $((runs / 2)) ] || { echo "FAIL: fewer than half the runs wrote a definition"; exit 1; }
[ "$failed" = 0 ]
