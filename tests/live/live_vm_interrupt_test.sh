#!/usr/bin/env bash
# The live test stopped from outside leaves nothing behind: runs
# live_vm_test.sh until its guest is up, then stops it three ways and checks
# that its domain is destroyed and undefined and its QEMU gone:
#   TERM      (a user's kill, Ctrl-C's INT alike): the test's own trap;
#   KILL      (what ctest's timeout sends; cannot be trapped): the janitor;
#   deadline  (VPT_LIVE_DEADLINE_S reached): the janitor stops the run.
#
#   live_vm_interrupt_test.sh VPT_TUNE WORKDIR [GUEST_DIR]
set -euo pipefail
VPT=${1:?usage: $0 VPT_TUNE WORKDIR [GUEST_DIR]}
WORK=${2:?usage: $0 VPT_TUNE WORKDIR [GUEST_DIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
export VPT_LIVE_GUEST_DIR=${3:-$WORK/guest}
export VPT_LIVE_DOMAIN=vpt-live-vm-interrupted
URI=qemu:///system
T0=$(date +%s.%N)
say() { printf '[%6.1f s] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN { printf "%.1f", a - b }')" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
state() { virsh -q -c "$URI" domstate "$VPT_LIVE_DOMAIN" 2>/dev/null || echo absent; }

if [ "$(id -u)" -ne 0 ]; then say "SKIPPED: needs root"; exit 77; fi

# CASE SIGNAL [DEADLINE_S]: start a run, wait for its guest, stop it, check the host is clean.
stop_case() {
  local label=$1 sig=$2 deadline=${3:-540} pid i qemu=""
  VPT_LIVE_DEADLINE_S=$deadline bash "$HERE/live_vm_test.sh" "$VPT" "$WORK/$label" > "$WORK/$label.log" 2>&1 &
  pid=$!
  i=0
  until grep -q "guest ready" "$WORK/$label.log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 1200 ] || { cat "$WORK/$label.log"; kill -KILL "$pid"; fail "$label: the guest did not come up in 120 s"; }
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$label.log"; fail "$label: the live test ended before its guest was up"; }
    sleep 0.1
  done
  qemu=$(cat "/run/libvirt/qemu/$VPT_LIVE_DOMAIN.pid" 2>/dev/null || true)
  [ "$(state)" = running ] || fail "$label: the domain is not running ($(state))"
  if [ "$sig" != none ]; then
    sleep 1  # into the first bench
    kill "-$sig" "$pid"
  fi
  local t_stop
  t_stop=$(date +%s)
  { wait "$pid"; } 2>/dev/null || true
  # The janitor (KILL, deadline) notices within half a second; allow libvirt time to tear down.
  i=0
  while [ "$(state)" != absent ]; do
    i=$((i + 1))
    [ $i -le 600 ] || { cat "$WORK/$label.log" "$WORK/$label/janitor.log" 2>/dev/null; fail "$label: domain still $(state) 60 s after the stop"; }
    sleep 0.1
  done
  [ -z "$qemu" ] || ! kill -0 "$qemu" 2>/dev/null || fail "$label: QEMU (pid $qemu) still runs"
  [ ! -e "$WORK/$label/run" ] || fail "$label: the guest's run directory is left"
  local how
  how=$(grep -ho "janitor: [^:]*" "$WORK/$label/janitor.log" 2>/dev/null | head -n 1 || true)
  say "$label: domain gone $(( $(date +%s) - t_stop )) s after the stop, QEMU gone (${how:-the trap of the test})"
}

stop_case term TERM
stop_case kill KILL
stop_case deadline none 15
grep -q "deadline of 15 s reached" "$WORK/deadline/janitor.log" || fail "deadline: the janitor did not stop the run"
say "PASS (interrupted live tests leave no domain, no QEMU, no run directory)"
