#!/usr/bin/env bash
# The README's quick start, followed as a newcomer would: the block under
# "<!-- quickstart: ... -->" in README.md runs as it is, line by line, with
# `vpt-tune` on PATH, against a throwaway libvirt domain on qemu:///system.
# Only the first line, VM=win11, names that domain instead.
#
#   readme_quickstart.sh VPT_TUNE README.md WORKDIR
#
# Needs root and a running libvirtd with the QEMU driver (ctest's `libvirtd`
# fixture). Defines only its own domain (marked by its <description>) and
# removes it however the script ends. On a host of 4 cores or fewer the
# default --reserve leaves no core for a guest; there VPT_TUNE_CONFIG sets
# reserve = 0, as the README says a user of such a host does.
set -euo pipefail

VPT=$(readlink -f "${1:?usage: $0 VPT_TUNE README WORKDIR}")
README=$(readlink -f "${2:?usage: $0 VPT_TUNE README WORKDIR}")
WORK=${3:?usage: $0 VPT_TUNE README WORKDIR}
NAME=vpt-quickstart-$$
MARK="vpt-tune README quick start test (tests/cli/readme_quickstart.sh); safe to remove"
URI=qemu:///system
export LIBVIRT_DEFAULT_URI=$URI

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
virsh -q -c "$URI" version >/dev/null 2>&1 || { echo "SKIP: no libvirtd on $URI"; exit 77; }
EMULATOR=$(command -v qemu-system-x86_64) || { echo "SKIP: no qemu-system-x86_64"; exit 77; }

rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/run"
WORK=$(cd "$WORK" && pwd)
cleanup() {
  if virsh -q -c "$URI" desc "$NAME" 2>/dev/null | grep -qF "$MARK"; then
    virsh -q -c "$URI" destroy "$NAME" >/dev/null 2>&1 || true
    virsh -q -c "$URI" undefine "$NAME" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# The block, as the README has it.
awk '/^<!-- quickstart:/ { marked = 1; next }
     marked && /^```/ { if (inside) exit; inside = 1; next }
     inside { print }' "$README" > "$WORK/block.sh"
[ -s "$WORK/block.sh" ] || { echo "FAIL: no quick start block in $README"; exit 1; }
head -1 "$WORK/block.sh" | grep -qx 'VM=win11' || { echo "FAIL: the block does not begin with VM=win11"; exit 1; }
sed -i "1s/.*/VM=$NAME/" "$WORK/block.sh"

# A small guest of the kind the quick start is for: 2 vCPUs, a virtio disk, unpinned.
touch "$WORK/disk.img"
cat > "$WORK/domain.xml" <<XML
<domain type='qemu'>
  <name>$NAME</name>
  <description>$MARK</description>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <cpu mode='host-model'/>
  <devices>
    <emulator>$EMULATOR</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
virsh -q -c "$URI" define "$WORK/domain.xml" >/dev/null

ln -sf "$VPT" "$WORK/bin/vpt-tune"
export PATH="$WORK/bin:$PATH"
export VPT_TUNE_BACKUP_DIR="$WORK/backups"
if [ "$(lscpu -p=core | grep -v '^#' | sort -u | wc -l)" -le 4 ]; then
  printf '[suggest]\nreserve = "0"\n[check]\nreserve = "0"\n[report]\nreserve = "0"\n' > "$WORK/small-host.toml"
  export VPT_TUNE_CONFIG="$WORK/small-host.toml"
fi

echo "== the README's quick start, in $WORK/run"
(cd "$WORK/run" && bash -euxo pipefail "$WORK/block.sh") > "$WORK/quickstart.log" 2>&1 || {
  tail -40 "$WORK/quickstart.log"
  echo "FAIL: a quick start command failed (log: $WORK/quickstart.log)"
  exit 1
}

# What the newcomer should have now, checked from the files and libvirt itself.
for f in before.json after.json post.md; do
  [ -s "$WORK/run/$f" ] || { echo "FAIL: the quick start left no $f"; exit 1; }
done
grep -q '"schema": "vpt-tune/bench/2"' "$WORK/run/before.json" || { echo "FAIL: before.json is no bench file"; exit 1; }
virsh -q -c "$URI" dumpxml --inactive "$NAME" | grep -q "<vcpupin vcpu='1'" ||
  { echo "FAIL: --apply left the domain without vCPU pins"; exit 1; }
grep -q "Summary: " "$WORK/quickstart.log" || { echo "FAIL: compare printed no summary"; exit 1; }
grep -qi "vpt-tune" "$WORK/run/post.md" || { echo "FAIL: post.md is no report"; exit 1; }
# And the undo the README promises.
vpt-tune restore --domain "$NAME" latest > "$WORK/restore.log" 2>&1 || { cat "$WORK/restore.log"; exit 1; }
if virsh -q -c "$URI" dumpxml --inactive "$NAME" | grep -q "<vcpupin"; then
  echo "FAIL: restore latest left the pins"; exit 1
fi
echo "PASS: the README quick start ran as written ($(wc -l < "$WORK/block.sh") lines)"
