#!/usr/bin/env bash
# Writes tests/corpus/facts/<name>.facts: the facts the probe tests check, found
# without vpt-tune. hwloc XMLs are read by hwloc's own hwloc-calc and
# lstopo-no-graphics; lscpu listings are read column by column with awk.
#
# Format, one fact per line ('#' starts a comment):
#   source <path below tests/corpus>
#   count <package|numa|core|pu|l2|l3> N
#   package <os_index> <cpus>      numa <os_index> <cpus>
#   core <cpus>    l2 <cpus>    l3 <cpus>          one line per instance
#   kind <cpus> [info=value ...]   hwloc cpukinds, least efficient first (XML only)
#   offline <cpus>                 CPUs the listing shows offline (lscpu only)
#   maxmhz <MHz> <cpus>            online CPUs by their MAXMHZ column (lscpu only)
#   l3size <bytes> <cpus>          CPUs by the L3 size pasted beside the table from
#                                  /sys/devices/system/cpu/cpu*/cache/index3/size (lscpu only)
# <cpus> are OS indices (the numbers libvirt's cpuset= uses), comma-separated, ascending.
#
# Run from anywhere: scripts/gen-corpus-facts.sh   (needs the `hwloc` package)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/tests/corpus
out=$corpus/facts
mkdir -p "$out"

for tool in hwloc-calc lstopo-no-graphics; do
  command -v "$tool" >/dev/null || { echo "gen-corpus-facts: $tool not found (apt-get install hwloc)" >&2; exit 1; }
done

# How many objects of a type; 0 when the topology has no such type (hwloc-calc then fails).
count_of() { hwloc-calc --input "$1" -N "$2" all 2>/dev/null || echo 0; }

# PUs (OS indices, ascending) of one hwloc location such as core:3 or l3cache:0.
pus_of() { hwloc-calc --input "$1" --po -I pu "$2" | tr ',' '\n' | sort -n | paste -sd, -; }

xml_facts() {
  local f=$1 rel=$2 type n i os
  echo "# facts for $rel from $(hwloc-calc --version) (scripts/gen-corpus-facts.sh); do not edit"
  echo "source $rel"
  for type in package numanode core pu l2cache l3cache; do
    n=$(count_of "$f" "$type")
    case $type in numanode) key=numa ;; l2cache) key=l2 ;; l3cache) key=l3 ;; *) key=$type ;; esac
    echo "count $key $n"
  done
  for type in package numanode; do
    n=$(count_of "$f" "$type")
    for ((i = 0; i < n; i++)); do
      os=$(hwloc-calc --input "$f" --po -I "$type" "$type:$i")
      echo "$( [ "$type" = numanode ] && echo numa || echo package) $os $(pus_of "$f" "$type:$i")"
    done
  done
  for type in core l2cache l3cache; do
    n=$(count_of "$f" "$type")
    case $type in l2cache) key=l2 ;; l3cache) key=l3 ;; *) key=$type ;; esac
    for ((i = 0; i < n; i++)); do echo "$key $(pus_of "$f" "$type:$i")"; done
  done
  # "CPU kind #0 efficiency 0 cpuset 0x000ff000" followed by "  Name = Value" info lines.
  lstopo-no-graphics --input "$f" --cpukinds | awk '
    /^CPU kind/ { if (line != "") print line; line = $NF; next }
    /=/ { sub(/^[ \t]+/, ""); gsub(/ = /, "="); gsub(/ /, "_"); line = line " " $0 }
    END { if (line != "") print line }' |
    while read -r mask infos; do
      echo "kind $(pus_of "$f" "$mask")${infos:+ $infos}"
    done
}

# lscpu -e: header "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE ...", then one row per CPU.
# A core is a (SOCKET, CORE) pair; caches are identified by their id in the L1d:L1i:L2:L3 field.
lscpu_facts() {
  local f=$1 rel=$2
  echo "# facts for $rel from its own columns with awk (scripts/gen-corpus-facts.sh); do not edit"
  echo "source $rel"
  awk '
    function add(map, key, cpu,   had) { had = key in map; map[key] = had ? map[key] "," cpu : cpu }
    function count(map,   k, n) { n = 0; for (k in map) n++; return n }
    function ascending(list,   a, n, i, j, t, out) {  # "10,0,1" -> "0,1,10"
      n = split(list, a, ",")
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      out = a[1]; for (i = 2; i <= n; i++) out = out "," a[i]; return out
    }
    # The table header, not a line of plain `lscpu` above it ("CPU op-mode(s): ...", "CPU family: 25").
    !header && $1 == "CPU" && / SOCKET / {
      header = 1; ncol = NF
      for (i = 1; i <= NF; i++) {
        if ($i == "NODE") cn = i; else if ($i == "SOCKET") cs = i; else if ($i == "CORE") cc = i
        else if ($i == "ONLINE") co = i; else if ($i == "MAXMHZ") cm = i; else if ($i ~ /:/) {
          ck = i; nlev = split($i, lev, ":")
          for (j = 1; j <= nlev; j++) { if (lev[j] == "L2") l2i = j; if (lev[j] == "L3") l3i = j }
        }
      }
      next
    }
    header && $1 ~ /^[0-9]+$/ {
      if ((co && $co != "yes") || $cs == "-" || $cc == "-") { add(off, "x", $1); next }
      pus++
      add(pkg, $cs, $1); add(core, $cs ":" $cc, $1)
      if (cn && $cn != "-") add(numa, $cn, $1)
      split($ck, id, ":")
      if (l2i && id[l2i] != "" && id[l2i] != "-") add(l2, id[l2i], $1)
      if (l3i && id[l3i] != "" && id[l3i] != "-") add(l3, id[l3i], $1)
      if (cm && $cm != "-") add(mhz, $cm, $1)
    }
    # "/sys/devices/system/cpu/cpu7/cache/index3/size:98304K" (sysfs prints KiB with a K)
    /^\/sys\/devices\/system\/cpu\/cpu[0-9]+\/cache\/index3\/size:[0-9]+K$/ {
      split($0, part, "/"); cpu = substr(part[6], 4)
      split($0, kv, ":"); kib = substr(kv[2], 1, length(kv[2]) - 1)
      add(l3size, kib * 1024, cpu)
    }
    END {
      print "count package " count(pkg); print "count numa " count(numa); print "count core " count(core)
      print "count pu " pus; print "count l2 " count(l2); print "count l3 " count(l3)
      for (k in pkg) print "package " k " " pkg[k]
      for (k in numa) print "numa " k " " numa[k]
      for (k in core) print "core " core[k]
      for (k in l2) print "l2 " l2[k]
      for (k in l3) print "l3 " l3[k]
      if ("x" in off) print "offline " off["x"]
      for (k in mhz) print "maxmhz " k " " mhz[k]
      for (k in l3size) print "l3size " k " " ascending(l3size[k])
    }' "$f" |
    # Stable order for review: counts first, then each kind of line sorted by its first CPU.
    awk '{ split($NF, c, ","); printf "%d\t%s\t%08d\t%s\n", ($1 == "count") ? 0 : 1, ($1 == "count") ? "" : $1, ($1 == "count") ? NR : c[1], $0 }' |
    sort -t$'\t' -k1,1n -k2,2 -k3,3n | cut -f4
}

# The optimizer's expert cases also use listings built from published layouts
# (tests/optimizer/machines, see its README); their facts sit next to them.
machines=$root/tests/optimizer/machines
mkdir -p "$machines/facts"
for f in "$machines"/*.txt; do
  name=$(basename "$f" .txt)
  lscpu_facts "$f" "machines/$name.txt" > "$machines/facts/$name.facts"
done

n=0
while IFS= read -r f; do
  rel=${f#"$corpus"/}
  name=$(basename "$f"); name=${name%.*}
  case $f in
    *.xml) xml_facts "$f" "$rel" > "$out/$name.facts" ;;
    *.txt) lscpu_facts "$f" "$rel" > "$out/$name.facts" ;;
  esac
  n=$((n + 1))
done < <(find "$corpus/hwloc" "$corpus/hwloc-xml-parser" "$corpus/lscpu" \( -name '*.xml' -o -name '*.txt' \) | sort)
echo "gen-corpus-facts: wrote $n files to ${out#"$root"/}"
