#!/usr/bin/env bash
# Builds the Debian package with cpack, checks it with lintian (no errors), its
# control fields against the binary's real library needs, unpacks it into a
# temporary root and runs the unpacked vpt-tune from there.
#   deb_package_test.sh BUILD_DIR SOURCE_DIR VERSION
set -uo pipefail
build=$(realpath "$1") src=$(realpath "$2") version=$3
. "$(dirname "$0")/help_facts.sh"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
seconds() { echo "$(( $(date +%s%N) / 1000000 ))"; }
timings=""

for tool in cpack dpkg-deb lintian hwloc-calc python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- build ----
start=$(seconds)
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
timings+="cpack $(( $(seconds) - start )) ms; "
deb=$work/out/vpt-tune_${version}_amd64.deb
[[ -f $deb ]] || { ls "$work/out" >&2; echo "FAIL: no $deb" >&2; exit 1; }

# ---- lintian: no errors, no warnings (info tags are listed in packaging/README.md) ----
start=$(seconds)
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1
lintian_rc=$?
timings+="lintian $(( $(seconds) - start )) ms; "
grep -v '^running with root privileges' "$work/lintian.log"
((lintian_rc == 0)) || fail "lintian reports errors or warnings (exit $lintian_rc)"

# ---- control fields ----
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == vpt-tune ]] || fail "Package is '$(field Package)'"
[[ $(field Version) == "$version" ]] || fail "Version is '$(field Version)', the project's is $version"
[[ $(field Architecture) == "$(dpkg --print-architecture)" ]] || fail "Architecture is '$(field Architecture)'"
# Package names of a relation field ("libc6 (>= 2.34), libhwloc15 (>= 2.9.0)"), one a line.
names_in() { tr ',' '\n' <<<"$1" | sed 's/^ *//; s/[ (].*//'; }
depends=$(names_in "$(field Depends)")
# Every library the binary needs (its ELF NEEDED entries, resolved by the
# dynamic linker's cache) must come from a package in Depends.
while read -r lib; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ { print $NF; exit }')
  [[ -n $path ]] || { fail "cannot resolve $lib"; continue; }
  pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
    pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $pkg ]] || { fail "no package owns $path"; continue; }
  grep -qxF "$pkg" <<<"$depends" || fail "$lib ($pkg) is not in Depends: $(field Depends)"
done < <(objdump -p "$build/cli/vpt-tune" | awk '$1 == "NEEDED" { print $2 }')
# fmt is compiled in (fmt::fmt-header-only): Debian 12 has libfmt9, Debian 13
# (Proxmox VE 9) libfmt10 only, so a libfmt dependency breaks one of them
# (issue 21 point 16; ctest -L trixie installs the package on Debian 13).
grep -q '^libfmt' <<<"$depends" && fail "Depends names libfmt (fmt must be header-only): $(field Depends)"
objdump -p "$build/cli/vpt-tune" | grep -q 'NEEDED *libfmt' && fail "vpt-tune links libfmt.so (fmt must be header-only)"
for pkg in libvirt-clients hwloc; do
  grep -qxF "$pkg" <<<"$(names_in "$(field Recommends)")" || fail "$pkg is not in Recommends: $(field Recommends)"
done

# ---- contents ----
root=$work/root
dpkg-deb -x "$deb" "$root"
vpt=$root/usr/bin/vpt-tune
[[ -x $vpt ]] || fail "no /usr/bin/vpt-tune"
[[ -z $(readelf -d "$vpt" | grep -E 'RPATH|RUNPATH') ]] || fail "vpt-tune has an RPATH: $(readelf -d "$vpt" | grep -E 'RPATH|RUNPATH')"
grep -qF "$build" "$vpt" && fail "the packaged binary names the build directory $build"
for page in vpt-tune $(help_subcommands "$build/cli/vpt-tune" | sed 's/^/vpt-tune-/'); do
  gzip -t "$root/usr/share/man/man1/$page.1.gz" 2>/dev/null || fail "no valid /usr/share/man/man1/$page.1.gz"
done
# The in-guest probes, where bench looks for them (bin/../lib/vpt-tune/guest).
probe=$root/usr/lib/vpt-tune/guest/vpt-guest-probe
[[ -x $probe ]] || fail "no /usr/lib/vpt-tune/guest/vpt-guest-probe"
[[ -x $probe ]] && { file "$probe" | grep -q 'statically linked' || fail "vpt-guest-probe is not static: $(file "$probe")"; }
if [[ -f $build/guest/vpt-guest-probe.exe ]]; then
  file "$root/usr/lib/vpt-tune/guest/vpt-guest-probe.exe" | grep -q 'PE32+ executable' ||
    fail "no PE32+ /usr/lib/vpt-tune/guest/vpt-guest-probe.exe"
fi
bash -n "$root/usr/share/bash-completion/completions/vpt-tune" || fail "bash completion missing or broken"
[[ -f $root/usr/share/zsh/vendor-completions/_vpt-tune ]] || fail "no zsh completion"
copyright=$root/usr/share/doc/vpt-tune/copyright
head -1 "$copyright" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
  fail "copyright is not machine-readable (DEP-5)"
# The licence of LICENSE is the one the copyright file gives for Files: *.
grep -qF "$(sed -n '5p' "$src/LICENSE")" "$copyright" || fail "copyright does not carry LICENSE's text"
zcat "$root/usr/share/doc/vpt-tune/changelog.gz" | head -1 | grep -qF "vpt-tune ($version)" ||
  fail "changelog.gz does not start with version $version"

# ---- the unpacked program runs from the temporary root ----
out=$(cd / && env -i PATH=/usr/bin:/bin "$vpt" --version) || fail "unpacked vpt-tune --version failed"
revision=unknown
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then revision=$(git -C "$src" rev-parse --short=12 HEAD); fi
[[ $out == "vpt-tune $version (git "*"$revision"* ]] || [[ $revision == unknown && $out == "vpt-tune $version (git revision unknown)" ]] ||
  fail "--version says '$out', want version $version and revision $revision"
xml=$root/usr/share/doc/vpt-tune/examples/topologies/AMD-19h-Zen4-2xEpyc-9654.xml
json=$(cd / && env -i PATH=/usr/bin:/bin "$vpt" probe --topology "$xml" --json) || fail "unpacked vpt-tune probe failed"
cpus=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["cpus"]))' <<<"$json")
want=$(hwloc-calc --input "$xml" -N pu all)
[[ $cpus == "$want" ]] || fail "probe of the packaged example sees $cpus CPUs, hwloc-calc $want"

# ---- apt accepts it (a simulation: nothing is installed) ----
if [[ $(id -u) == 0 ]]; then
  sim=$(apt-get install -s "$deb" 2>&1) || fail "apt-get install -s: $sim"
  grep -q '^Inst vpt-tune ' <<<"$sim" || fail "apt-get install -s does not install vpt-tune: $sim"
fi

echo "timings: $timings"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes, $(dpkg-deb -c "$deb" | wc -l) entries"
if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
