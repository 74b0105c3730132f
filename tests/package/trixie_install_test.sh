#!/usr/bin/env bash
# Builds the Debian package with cpack (as deb_package_test.sh does) and hands
# it to scripts/test-trixie-install.sh, which installs it with apt in a Debian 13
# (trixie, Proxmox VE 9's base) root and runs it there. Issue 21 point 16.
#   trixie_install_test.sh BUILD_DIR SOURCE_DIR VERSION
# Exit 77 (skipped) when not root or the Debian archive cannot be reached.
set -uo pipefail
build=$(realpath "$1") src=$(realpath "$2") version=$3

command -v cpack >/dev/null || { echo "cpack is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$SECONDS
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
deb=$work/out/vpt-tune_${version}_$(dpkg --print-architecture).deb
[[ -f $deb ]] || { ls "$work/out" >&2; echo "FAIL: no $deb" >&2; exit 1; }
echo "cpack: $(basename "$deb") in $((SECONDS - start)) s; Depends: $(dpkg-deb -f "$deb" Depends)"

start=$SECONDS
bash "$src/scripts/test-trixie-install.sh" "$deb"
rc=$?
echo "test-trixie-install.sh: exit $rc in $((SECONDS - start)) s"
exit "$rc"
