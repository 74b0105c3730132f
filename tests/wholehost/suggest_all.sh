#!/usr/bin/env bash
# Whole-host planning end to end (ctest label wholehost):
#  - offline: four VMs of tests/wholehost (gaming and nas pass a PCI device
#    through, web does not, router is --keep) on a synthetic 8-CPU host with
#    two L3s (hwloc's own `lstopo --input "pack:1 l3:2 core:4 pu:1"`), written
#    with --out-dir; the facts checked come from the written files: dedicated
#    guests' vCPUs on distinct cores, none on the kept guest's cores or its
#    emulator's, the shared guest pinned to CPUs no dedicated vCPU has, the
#    kept guest not written;
#  - through libvirt (its test driver, one process: a node file holding the
#    four domains, web shut off): `suggest --all --keep router --apply` defines
#    three, verifies each, writes the record `restore --all` reads; an unknown
#    --dedicated name and --out with several VMs are one-line errors (exit 2).
#
#   suggest_all.sh VPT_TUNE SOURCE_DIR WORKDIR
set -euo pipefail
VPT=${1:?usage: $0 VPT_TUNE SOURCE_DIR WORKDIR}
SRC=${2:?usage}
WORK=${3:?usage}
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"
lstopo-no-graphics --input "pack:1 l3:2 core:4 pu:1" --of xml host8.xml 2> /dev/null
VMS=("$SRC/tests/wholehost/gaming.xml" "$SRC/tests/wholehost/nas.xml" "$SRC/tests/wholehost/web.xml"
     "$SRC/tests/wholehost/router.xml")

echo "== offline: --xml x4 --keep router --out-dir"
args=()
for vm in "${VMS[@]}"; do args+=(--xml "$vm"); done
"$VPT" suggest --topology host8.xml "${args[@]}" --keep router --out-dir planned > offline.txt
cat offline.txt | head -12
[ ! -e planned/router.xml ] || { echo "FAIL: the kept guest was written"; exit 1; }
"$PY" - planned "$SRC/tests/wholehost/router.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
planned, router = sys.argv[1], sys.argv[2]
def pins(path):
    root = ET.parse(path).getroot()
    vcpu = {int(p.get('vcpu')): p.get('cpuset') for p in root.iter('vcpupin')}
    emu = [p.get('cpuset') for p in root.iter('emulatorpin')]
    return vcpu, emu
def cpus(text):
    out = set()
    for part in text.split(','):
        a, _, b = part.partition('-')
        out |= set(range(int(a), int(b or a) + 1))
    return out
g, _ = pins(f'{planned}/gaming.xml')
n, _ = pins(f'{planned}/nas.xml')
w, w_emu = pins(f'{planned}/web.xml')
r, r_emu = pins(router)
# Synthetic host: one thread per core, so a CPU is a core.
gaming = set().union(*(cpus(c) for c in g.values()))
nas = set().union(*(cpus(c) for c in n.values()))
kept = set().union(*(cpus(c) for c in r.values())) | set().union(*(cpus(c) for c in r_emu))
assert len(g) == 2 and len(n) == 2 and len(w) == 2, (g, n, w)
assert all(len(cpus(c)) == 1 for c in list(g.values()) + list(n.values())), 'dedicated vCPUs get one CPU each'
assert not gaming & nas, f'gaming {gaming} and nas {nas} share CPUs'
assert not (gaming | nas) & kept, f'a dedicated guest on the kept guest\'s CPUs {kept}'
pool = cpus(w[0])
assert all(cpus(c) == pool for c in w.values()) and w_emu == [w[0]], 'the shared guest floats over one pool'
assert not pool & (gaming | nas), f'pool {pool} has dedicated vCPUs'
print('offline facts hold: gaming', sorted(gaming), 'nas', sorted(nas), 'pool', sorted(pool), 'kept', sorted(kept))
PY

echo "== offline: --report draws the whole host (HTML and a Markdown post)"
"$VPT" suggest --topology host8.xml "${args[@]}" --keep router --report host.html > report.txt
"$VPT" suggest --topology host8.xml "${args[@]}" --keep router --report host.md > /dev/null
grep -q "wrote the whole-host report to host.html" report.txt || { echo "FAIL: no report line"; exit 1; }
"$PY" - host.html host.md <<'PY'
import sys, html
page, post = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert page.lstrip().lower().startswith('<!doctype html'), page[:60]
for text in (page, post):
    t = html.unescape(text)
    # Every VM of tests/wholehost by the role its definition gives it.
    for name in ('gaming', 'nas', 'router (kept)', 'web'):
        assert name in t, name
    # The kept guest is left as defined: no XML is offered for it.
    assert "XML for 'router (kept)'" not in t
    assert 'left as defined (--keep)' in t
assert page.count('<pre id="xml-') == 2, 'XML for gaming and nas only'
print('whole-host report names every guest; the kept one gets no XML')
PY
set +e
"$VPT" suggest --topology host8.xml --xml "$SRC/tests/wholehost/gaming.xml" --report one.html > err.txt 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "for one VM use \`vpt-tune report\`" err.txt || { echo "FAIL: --report for one VM: rc $rc"; cat err.txt; exit 1; }

echo "== offline: clean existing pins are kept (gaming pinned to CPUs 5,4 on the second L3), --replan plans anew"
# host8.xml: L3 #0 holds CPUs 0-3, L3 #1 CPUs 4-7 (lstopo's synthetic order); CPU 0's L3 is the host's.
sed "s|  <vcpu placement='static'>2</vcpu>|  <vcpu placement='static'>2</vcpu>\n  <cputune>\n    <vcpupin vcpu='0' cpuset='5'/>\n    <vcpupin vcpu='1' cpuset='4'/>\n  </cputune>|" \
  "$SRC/tests/wholehost/gaming.xml" > gaming-pinned.xml
grep -q "cpuset='5'" gaming-pinned.xml
"$VPT" suggest --topology host8.xml --xml gaming-pinned.xml --xml "$SRC/tests/wholehost/nas.xml" \
  --xml "$SRC/tests/wholehost/web.xml" --out-dir kept-pins > kept.txt
grep -q "'gaming' keeps its vCPU pins, CPUs 4-5" kept.txt || { echo "FAIL: clean pins not kept"; cat kept.txt; exit 1; }
"$PY" - kept-pins <<'PY'
import sys, xml.etree.ElementTree as ET
d = sys.argv[1]
def vcpus(name):
    return {int(p.get('vcpu')): p.get('cpuset') for p in ET.parse(f'{d}/{name}.xml').getroot().iter('vcpupin')}
g, n = vcpus('gaming'), vcpus('nas')
assert sorted(g.values()) == ['4', '5'], g
assert not set(n.values()) & {'4', '5'}, n
print('kept pins hold: gaming', g, 'nas', n)
PY
"$VPT" suggest --topology host8.xml --xml gaming-pinned.xml --xml "$SRC/tests/wholehost/nas.xml" --replan > replan.txt
! grep -q "keeps its vCPU pins" replan.txt || { echo "FAIL: --replan kept the pins"; exit 1; }

echo "== libvirt test driver: --all --keep router --apply"
{
  echo "<node>"
  for vm in "${VMS[@]}"; do
    if [ "$(basename "$vm")" = web.xml ]; then  # defined, not running
      sed "s|<domain type='kvm'>|<domain type='kvm' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>|; s|</domain>|  <test:runstate>5</test:runstate>\n</domain>|" "$vm"
    else
      cat "$vm"
    fi
  done
  echo "</node>"
} > node.xml
URI="test://$WORK/node.xml"
"$VPT" suggest --all -c "$URI" --topology host8.xml --keep router --apply --backup-dir backups > apply.txt
tail -n 12 apply.txt
for vm in gaming nas web; do
  grep -q "^--- $vm (current definition)" apply.txt || { echo "FAIL: no diff for $vm"; exit 1; }
done
grep -q "^domain 'router': kept as defined (--keep)" apply.txt || { echo "FAIL: router not kept"; exit 1; }
grep -q "^undo all of it: vpt-tune restore --all --backup-dir backups" apply.txt || { echo "FAIL: no undo line"; exit 1; }
ls backups/whole-host.*.tsv > /dev/null
[ "$(wc -l < backups/whole-host.*.tsv)" -eq 3 ] || { echo "FAIL: the record should list 3 domains"; exit 1; }

echo "== errors"
set +e
"$VPT" suggest --all -c "$URI" --topology host8.xml --dedicated nosuch > err.txt 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -q "no such VM" err.txt || { echo "FAIL: rc $rc"; cat err.txt; exit 1; }
set +e
"$VPT" suggest --topology host8.xml "${args[@]}" --out x.xml > err.txt 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "use --out-dir" err.txt || { echo "FAIL: --out with several VMs: rc $rc"; cat err.txt; exit 1; }
echo "== Proxmox VE: --pve-dir (a node's configs from tests/corpus/proxmox and data/proxmox)"
mkdir -p node
for f in "$SRC"/tests/corpus/proxmox/*.conf "$SRC"/data/proxmox/*.conf; do
  id=$(basename "$f" .conf); id=${id%%-*}
  cp "$f" "node/$id.conf"
done
TR="$SRC/tests/corpus/lscpu/amd-threadripper-pro-7965wx.txt"
# 110 has a pending numa0 the plan would set: the whole plan is refused, nothing written.
set +e
"$VPT" suggest --pve-dir node --lscpu "$TR" --out-dir pve-out > pve.txt 2> pve.err; rc=$?
set -e
[ "$rc" -eq 2 ] && [ ! -e pve-out ] && [ "$(wc -l < pve.err)" -eq 1 ] && grep -q "VM 110: .*\[PENDING\].*numa0" pve.err \
  || { echo "FAIL: a pending clash should refuse the plan: rc $rc"; cat pve.err; exit 1; }
rm node/110.conf
"$VPT" suggest --pve-dir node --lscpu "$TR" --out-dir pve-out > pve.txt
head -n 20 pve.txt
grep -q "^skipped: VM 114: locked (backup)" pve.txt || { echo "FAIL: the locked VM was not skipped"; exit 1; }
grep -q "^skipped: .*200.conf.*container" pve.txt || { echo "FAIL: the container config was not skipped"; exit 1; }
"$PY" - node pve-out <<'PY'
import os, re, sys
node, out = sys.argv[1], sys.argv[2]
def current(path):  # the current section's key: value lines
    keys = {}
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('['): break
        m = re.match(r'^([a-z0-9_-]+): (.*)$', line)
        if m: keys[m.group(1)] = m.group(2)
    return keys
def cpus(text):
    s = set()
    for part in text.split(','):
        a, _, b = part.partition('-'); s |= set(range(int(a), int(b or a) + 1))
    return s
dedicated, shared = {}, {}
for name in sorted(os.listdir(out)):
    if not name.endswith('.conf'): continue
    vmid = name[:-5]
    before, after = current(f'{node}/{name}'), current(f'{out}/{name}')
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if os.path.exists(f'{out}/vpt-tune-{vmid}.sh'):
        assert after['hookscript'].endswith(f'snippets/vpt-tune-{vmid}.sh'), (vmid, after.get('hookscript'))
        hostpci = sorted(v for k, v in before.items() if k.startswith('hostpci'))
        dedicated[vmid] = (cpus(after['affinity']), hostpci)
    else:
        assert changed <= {'affinity'}, (vmid, changed)  # a shared VM: only its affinity
        shared[vmid] = cpus(after['affinity'])
assert dedicated and shared, (dedicated, shared)
pools = set(map(frozenset, shared.values()))
assert len(pools) == 1, pools
# Dedicated VMs that pass through different devices never share a CPU's vCPUs with
# each other beyond the host's helper CPUs, which every affinity includes: compare
# what is left after removing the pool (the host's CPUs).
pool = set(next(iter(pools)))
ids = sorted(dedicated)
for i, a in enumerate(ids):
    for b in ids[i + 1:]:
        devs_a = {d.split(',')[0] for d in dedicated[a][1]}; devs_b = {d.split(',')[0] for d in dedicated[b][1]}
        if devs_a & devs_b: continue  # one device: never together, may share
        overlap = (dedicated[a][0] - pool) & (dedicated[b][0] - pool)
        assert not overlap, (a, b, overlap)
print('Proxmox facts hold: dedicated', {k: sorted(v[0]) for k, v in dedicated.items()}, 'pool', sorted(pool))
PY
echo "whole-host: all checks passed"
