#!/bin/sh
# Builds the live-test guest into OUTDIR: a kernel taken out of Debian's cloud
# kernel package (downloaded, never installed) and a small initramfs with
# busybox-static, the project's /init and its static in-guest probe.
#
#   make-guest.sh OUTDIR           -> OUTDIR/vmlinuz, OUTDIR/initramfs.gz
#   make-guest.sh OUTDIR --agent   -> OUTDIR/vmlinuz, OUTDIR/initramfs-agent.gz: the same
#                                     plus Debian's qemu-ga (from the qemu-guest-agent
#                                     package, downloaded, never installed), the shared
#                                     libraries it needs (this host's: Debian 12 too) and the
#                                     virtio modules of the kernel, for a guest agent on a
#                                     virtio-serial channel (tests/live/live_agent_test.sh)
#
# The kernel (and the agent's files) are cached in OUTDIR (a rerun only repacks
# the initramfs, ~1 s). Needs: apt-get, dpkg-deb, gcc with the static libc
# (libc6-dev), busybox-static.
set -eu
out=${1:?usage: $0 OUTDIR [--agent]}
agent=${2:-}
case $agent in ""|--agent) ;; *) echo "usage: $0 OUTDIR [--agent]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { echo "make-guest: $*"; }

# The virtio modules qemu-ga's port needs, in load order.
virtio_modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console"
have_modules() { for m in $virtio_modules; do [ -s "$out/modules/$m.ko" ] || return 1; done; }

# ---- kernel ----
if [ ! -s "$out/vmlinuz" ] || { [ -n "$agent" ] && ! have_modules; }; then
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$kpkg" ] || { say "cannot find Debian's cloud kernel package (apt-cache depends linux-image-cloud-amd64; run apt-get update?)"; exit 1; }
  dl=$(mktemp -d "$out/kernel.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  say "downloading $kpkg (the package only; nothing is installed)"
  # apt-get download writes into the current directory; as root it warns that
  # the _apt user cannot write there, which is harmless.
  (cd "$dl" && apt-get download -q "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  deb=$(ls "$dl"/*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { say "cannot download $kpkg"; exit 1; }
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dl" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*' \
    './lib/modules/*/kernel/drivers/char/virtio_console.ko'
  mkdir -p "$out/modules"
  for m in $virtio_modules; do find "$dl/lib/modules" -name "$m.ko" -exec cp {} "$out/modules/" \; ; done
  k=$(ls "$dl"/boot/vmlinuz-* | head -n 1)
  cp "$k" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
  basename "$k" | sed 's/^vmlinuz-//' > "$out/kernel-version"
  rm -rf "$dl"
  trap - EXIT
  say "kernel $(cat "$out/kernel-version") -> $out/vmlinuz"
fi

# ---- initramfs ----
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { say "busybox is not installed (scripts/install-deps.sh installs busybox-static)"; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  say "$busybox is dynamically linked: install busybox-static"; exit 1
fi
root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest/init" "$root/init"
chmod 755 "$root/init"
gcc -O2 -std=c11 -static -pthread -Wall -Wextra -Werror -o "$root/bin/vpt-guest-probe" "$here/../../guest/vpt-guest-probe.c"
strip "$root/bin/vpt-guest-probe"
image=initramfs.gz
if [ -n "$agent" ]; then
  image=initramfs-agent.gz
  if [ ! -x "$out/qemu-ga" ]; then
    dl=$(mktemp -d "$out/agent.XXXXXX")
    trap 'rm -rf "$dl" "$root"' EXIT
    say "downloading qemu-guest-agent (the package only; nothing is installed)"
    (cd "$dl" && apt-get download -q qemu-guest-agent 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    deb=$(ls "$dl"/*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || { say "cannot download qemu-guest-agent"; exit 1; }
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dl" ./usr/sbin/qemu-ga
    cp "$dl/usr/sbin/qemu-ga" "$out/qemu-ga.tmp" && mv "$out/qemu-ga.tmp" "$out/qemu-ga"
    rm -rf "$dl"
    trap 'rm -rf "$root"' EXIT
  fi
  mkdir -p "$root/usr/sbin" "$root/lib/modules" "$root/etc" "$root/var/run"
  cp "$out/qemu-ga" "$root/usr/sbin/qemu-ga"
  cp "$out"/modules/*.ko "$root/lib/modules/"
  echo "$virtio_modules" > "$root/lib/modules/load-order"
  # Its libraries, at the paths the dynamic loader looks in (this host is Debian 12 too).
  for lib in $(ldd "$out/qemu-ga" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  # What guest-get-osinfo reports.
  printf 'ID=vpt-live\nNAME="vpt-tune live-test guest"\nPRETTY_NAME="vpt-tune live-test guest (busybox, qemu-ga %s)"\nVERSION_ID=1\n' \
    "$("$out/qemu-ga" --version 2>/dev/null | awk '{print $NF; exit}')" > "$root/etc/os-release"
fi
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$out/$image.tmp"
mv "$out/$image.tmp" "$out/$image"
rm -rf "$root"
trap - EXIT
say "initramfs $(wc -c < "$out/$image") bytes -> $out/$image"
