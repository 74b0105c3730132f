#!/usr/bin/env bash
# check, pve and the domain model do not link libvirt: an executable made of
# them links (no vir* symbol is missing) and, linked with --no-as-needed so
# that every library on its link line shows, needs no libvirt shared library.
#   link_guard_test.sh BUILD_DIR
set -uo pipefail
build=$1
out=$(cmake --build "$build" --target vpt_link_guard 2>&1) || { echo "FAIL: vpt_link_guard does not link: $out" >&2; exit 1; }
guard=$(find "$build/tests" -maxdepth 1 -name vpt_link_guard -type f | head -1)
[[ -x $guard ]] || { echo "FAIL: no vpt_link_guard in $build/tests" >&2; exit 1; }
needed=$(ldd "$guard") || { echo "FAIL: ldd $guard" >&2; exit 1; }
if grep -q 'libvirt' <<<"$needed"; then
  echo "FAIL: check/pve/virt need libvirt:" >&2
  grep libvirt <<<"$needed" >&2
  exit 1
fi
echo "vpt_check, vpt_pve and vpt_virt link without libvirt ($(grep -c '=>' <<<"$needed") shared libraries)"
