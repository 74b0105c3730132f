#!/usr/bin/env bash
# Installs a vpt-tune .deb with apt in a Debian 13 (trixie) root — the base of
# Proxmox VE 9 — so its Depends are resolved against trixie's archive for real,
# then runs the installed program there. Issue 21 point 16: the package must
# install on Debian 12 and 13 alike.
#   scripts/test-trixie-install.sh DEB_PATH
#
# The pristine trixie root (debootstrap --variant=minbase, ~1-2 min and ~200 MB
# the first time) is cached in $VPT_TRIXIE_ROOT (default
# /var/cache/vpt-tune-trixie-root) and rebuilt when it is broken, not trixie,
# or older than $VPT_TRIXIE_MAX_AGE_DAYS (default 30). Each run works on a copy
# of it that is removed afterwards, so every run starts from minbase and apt
# has to resolve every Depends again. $VPT_TRIXIE_MIRROR overrides the archive
# (default http://deb.debian.org/debian).
#
# Needs root (debootstrap, chroot, mount; sudo -n is used when available).
# Exit status: 0 passed, 1 failed, 77 skipped (no root, or the archive cannot
# be reached), 2 usage.
set -euo pipefail

usage() { echo "usage: $0 DEB_PATH" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
deb=$(realpath -e "$1") || { echo "trixie: no such package: $1" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
lscpu_file=$src/data/lscpu/intel-core-i7-14700f.txt
domain_file=$src/data/domains/win11-gaming.xml
for f in "$lscpu_file" "$domain_file"; do [[ -f $f ]] || { echo "trixie: missing input $f" >&2; exit 2; }; done

if [[ $(id -u) != 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -n --preserve-env=VPT_TRIXIE_ROOT,VPT_TRIXIE_MIRROR,VPT_TRIXIE_MAX_AGE_DAYS "$0" "$deb"
  fi
  echo "trixie: SKIP: needs root (debootstrap, chroot, mount) and sudo -n is not available"
  exit 77
fi

cache=${VPT_TRIXIE_ROOT:-/var/cache/vpt-tune-trixie-root}
cache=${cache%/}
mirror=${VPT_TRIXIE_MIRROR:-http://deb.debian.org/debian}
max_age_days=${VPT_TRIXIE_MAX_AGE_DAYS:-30}
stamp_name=.vpt-tune-trixie-root
ms() { echo $(( $(date +%s%N) / 1000000 )); }
step() { echo "trixie: $*"; }
die() { echo "trixie: FAIL: $*" >&2; exit 1; }

# ---- the archive must be reachable, or the test is skipped ----
fetch_ok() {
  if command -v curl >/dev/null; then curl -fsS --max-time 20 -o /dev/null "$1"
  elif command -v wget >/dev/null; then wget -q -T 20 -t 1 -O /dev/null "$1"
  else timeout 25 python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read()' "$1"
  fi
}
if ! fetch_ok "$mirror/dists/trixie/InRelease" 2>/dev/null; then
  echo "trixie: SKIP: cannot reach $mirror (dists/trixie/InRelease); the Debian 13 install test needs the archive"
  exit 77
fi

# ---- debootstrap, a version that knows trixie (Debian 12's does) ----
if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
    { timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq --no-install-recommends debootstrap; } ||
    die "cannot install debootstrap"
fi
[[ -e /usr/share/debootstrap/scripts/trixie ]] ||
  die "debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null) does not know trixie (/usr/share/debootstrap/scripts/trixie)"

# ---- mounts under a root: list, unmount, and never delete a root that still has one ----
mounts_under() {  # mount points at or below $1, deepest first
  awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' /proc/self/mountinfo | sort -r
}
unmount_all() {
  local m
  while read -r m; do
    [[ -n $m ]] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done < <(mounts_under "$1")
}
remove_root() {
  [[ -n $1 && $1 != / && -d $1 ]] || return 0
  unmount_all "$1"
  [[ -z $(mounts_under "$1") ]] || die "$1 still has mounts ($(mounts_under "$1" | tr '\n' ' ')); not removing it"
  rm -rf --one-file-system "$1"
}

# ---- the cached pristine root: reuse it when sound, otherwise build it ----
root_ok() {
  local r=$1 codename=""
  [[ -f $r/$stamp_name && -f $r/etc/os-release && -x $r/usr/bin/apt-get && -x $r/usr/bin/dpkg ]] || return 1
  # shellcheck disable=SC1091
  codename=$(. "$r/etc/os-release" && echo "${VERSION_CODENAME:-}")
  [[ $codename == trixie ]] || return 1
  [[ -z $(find "$r/$stamp_name" -mtime "+$max_age_days" 2>/dev/null) ]] || return 1
  [[ -z $(mounts_under "$r") ]] || return 1
  [[ -z $(chroot "$r" /usr/bin/dpkg --audit 2>&1) ]] || return 1
  chroot "$r" /usr/bin/apt-get --version >/dev/null 2>&1
}
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock -w 1200 9 || die "another run holds $cache.lock"
# Copies left by runs that were killed (SIGKILL skips the cleanup): their owner is gone.
for stale in "$cache".run.*; do
  [[ -d $stale ]] || continue
  owner=$(cat "$stale/.vpt-tune-run-pid" 2>/dev/null || true)
  if [[ -z $owner ]] || ! kill -0 "$owner" 2>/dev/null; then
    step "removing $stale, left by a run that was killed"
    remove_root "$stale"
  fi
done
if root_ok "$cache"; then
  step "reusing the Debian 13 root $cache (built $(cat "$cache/$stamp_name"))"
else
  [[ -e $cache ]] && step "the cached root $cache is unusable (broken, not trixie, or older than $max_age_days days): rebuilding it"
  remove_root "$cache"
  fresh=$cache.new
  remove_root "$fresh"
  step "debootstrap --variant=minbase trixie $fresh $mirror (timeout 900 s)"
  start=$(ms)
  if ! timeout 900 debootstrap --variant=minbase trixie "$fresh" "$mirror" >"$cache.debootstrap.log" 2>&1; then
    tail -n 30 "$cache.debootstrap.log" >&2
    [[ -f $fresh/debootstrap/debootstrap.log ]] && tail -n 30 "$fresh/debootstrap/debootstrap.log" >&2
    remove_root "$fresh"
    die "debootstrap failed (log: $cache.debootstrap.log)"
  fi
  unmount_all "$fresh"  # debootstrap leaves nothing mounted, but make sure before moving it
  chroot "$fresh" /usr/bin/apt-get clean
  date -u +%Y-%m-%dT%H:%M:%SZ >"$fresh/$stamp_name"
  mv "$fresh" "$cache"
  step "debootstrap took $(( $(ms) - start )) ms; the root holds $(du -sh --one-file-system "$cache" | cut -f1)"
fi

# ---- a throwaway copy of the root for this run ----
work=$(mktemp -d "$cache.run.XXXXXX")
echo $$ >"$work/.vpt-tune-run-pid"
cleanup() {
  local rc=$?
  unmount_all "$work"
  remove_root "$work" || rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$(ms)
cp -a "$cache/." "$work/"
flock -u 9  # the pristine root is no longer read
step "copied the root to $work ($(( $(ms) - start )) ms)"
cp -L /etc/resolv.conf "$work/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$work/proc"
mount -t sysfs sysfs "$work/sys"  # for `vpt-tune probe` on the live host (hwloc reads /sys)
[[ -c $work/dev/null ]] || mount --bind /dev "$work/dev"
in_root() { chroot "$work" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }

mkdir -p "$work/root/vpt"
cp "$deb" "$lscpu_file" "$domain_file" "$work/root/vpt/"
pkg=/root/vpt/$(basename "$deb")
lscpu=/root/vpt/$(basename "$lscpu_file")
domain=/root/vpt/$(basename "$domain_file")
# shellcheck disable=SC1091
step "$(. "$work/etc/os-release" && echo "$PRETTY_NAME"), package $(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"

# ---- apt resolves the package's Depends against trixie and installs it ----
start=$(ms)
update_ok=no
for _ in 1 2; do
  if timeout 300 chroot "$work" /usr/bin/apt-get update -q >"$work/apt-update.log" 2>&1; then update_ok=yes; break; fi
  sleep 5
done
[[ $update_ok == yes ]] || { tail -n 20 "$work/apt-update.log" >&2; die "apt-get update in the trixie root"; }
step "apt-get update ok ($(( $(ms) - start )) ms)"
start=$(ms)
if ! timeout 600 chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
     apt-get install -y --no-install-recommends "$pkg" >"$work/apt-install.log" 2>&1; then
  cat "$work/apt-install.log" >&2
  die "apt-get install $(basename "$deb") in Debian 13: apt refused it (Depends not installable there?)"
fi
installed=$(grep -c '^Setting up ' "$work/apt-install.log" || true)
step "apt-get install --no-install-recommends ok ($(( $(ms) - start )) ms, $installed packages set up)"
recommends=$(dpkg-deb -f "$deb" Recommends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | grep . || true)
for r in $recommends; do
  candidate=$(in_root apt-cache policy "$r" | awk '/Candidate:/ { print $2 }')
  [[ -n $candidate && $candidate != "(none)" ]] || die "Recommends $r has no candidate in Debian 13"
done
[[ -n $recommends ]] && step "Recommends available in Debian 13: $(tr '\n' ' ' <<<"$recommends")"

# Every shared library the installed program needs resolves in the root.
if [[ $(head -c 4 "$work/usr/bin/vpt-tune" | od -An -c | tr -d ' ') == 177ELF ]]; then
  missing=$(in_root ldd /usr/bin/vpt-tune 2>&1 | grep 'not found' || true)
  [[ -z $missing ]] || die "libraries not found in Debian 13: $missing"
  step "ldd /usr/bin/vpt-tune: every library resolves ($(in_root ldd /usr/bin/vpt-tune | wc -l) entries)"
fi

# ---- the installed program runs ----
# `check` exits 0 whatever it finds and 2 on bad input (cli/check_command.cpp),
# so every command below must exit 0.
failures=0
run_step() {
  local name=$1 out rc t
  shift
  t=$(ms)
  set +e
  out=$(cd "$work" && timeout 120 chroot "$work" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 "$@" 2>&1)
  rc=$?
  set -e
  if ((rc != 0)); then
    echo "trixie: FAIL: $name: exit $rc" >&2
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /' >&2
    failures=$((failures + 1))
  elif [[ -z $out ]]; then
    echo "trixie: FAIL: $name: no output" >&2
    failures=$((failures + 1))
  else
    step "ok: $name ($(( $(ms) - t )) ms, $(printf '%s\n' "$out" | wc -l) lines: $(printf '%s\n' "$out" | head -n 1 | cut -c1-70))"
  fi
}
run_step "vpt-tune --version" vpt-tune --version
run_step "vpt-tune probe --lscpu" vpt-tune probe --lscpu "$lscpu"
run_step "vpt-tune suggest --lscpu --vcpus 8" vpt-tune suggest --lscpu "$lscpu" --vcpus 8
run_step "vpt-tune check --xml --lscpu" vpt-tune check --xml "$domain" --lscpu "$lscpu"
run_step "vpt-tune probe (live host through /sys)" vpt-tune probe

if ((failures)); then die "$failures command(s) failed in Debian 13"; fi
step "PASS: $(basename "$deb") installs with apt on Debian 13 and runs"
