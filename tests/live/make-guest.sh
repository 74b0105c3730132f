#!/bin/sh
# Builds the live-test guest into OUTDIR: a kernel taken out of Debian's cloud
# kernel package (downloaded, never installed) and a small initramfs with
# busybox-static, the project's /init and its static in-guest probe.
#
#   make-guest.sh OUTDIR      -> OUTDIR/vmlinuz, OUTDIR/initramfs.gz
#
# The kernel is cached in OUTDIR (a rerun only repacks the initramfs, ~1 s).
# Needs: apt-get, dpkg-deb, gcc with the static libc (libc6-dev), busybox-static.
set -eu
out=${1:?usage: $0 OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { echo "make-guest: $*"; }

# ---- kernel ----
if [ ! -s "$out/vmlinuz" ]; then
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
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dl" --wildcards './boot/vmlinuz-*'
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
gcc -O2 -static -pthread -Wall -Wextra -Werror -o "$root/bin/vpt-guest-probe" "$here/guest/vpt-guest-probe.c"
strip "$root/bin/vpt-guest-probe"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$out/initramfs.gz.tmp"
mv "$out/initramfs.gz.tmp" "$out/initramfs.gz"
rm -rf "$root"
trap - EXIT
say "initramfs $(wc -c < "$out/initramfs.gz") bytes -> $out/initramfs.gz"
