#!/usr/bin/env bash
# The end-to-end proof on a live VM (issue 7): boots a real 2-vCPU guest under
# libvirt + QEMU (KVM when libvirt can use it, else TCG), pins it badly,
# measures, applies vpt-tune's plan live, checks every thread in /proc and the
# definition, measures again, compares, renders the report; then the failure
# paths: a refused live pin, SIGKILL in the middle of `--apply --live`,
# applying to a shut-off guest.
#
#   live_vm_test.sh VPT_TUNE WORKDIR
#
# Environment: VPT_LIVE_ACCEL=auto|kvm|tcg (default auto), VPT_LIVE_DOMAIN
# (default vpt-live-vm), VPT_LIVE_GUEST_DIR (kernel cache, default
# WORKDIR/guest), VPT_LIVE_DEADLINE_S (default 540: the run stops itself and
# cleans up after that long).
#
# Needs root, a running libvirtd with the QEMU driver (ctest's `libvirtd`
# fixture starts one: tests/virt/libvirtd-fixture.sh), qemu-system-x86,
# busybox-static, gcc with the static libc, python3, and network for the first
# kernel download. Defines only its domain, marked by its <description>, stops
# only what it started, and removes the domain however it ends (even SIGKILL:
# see the janitor below). Keeps before.json, after.json, compare.txt,
# report.html and the logs in WORKDIR.
set -euo pipefail

VPT=$(readlink -f "${1:?usage: $0 VPT_TUNE WORKDIR}")
WORK=${2:?usage: $0 VPT_TUNE WORKDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${VPT_LIVE_DOMAIN:-vpt-live-vm}
ACCEL=${VPT_LIVE_ACCEL:-auto}             # auto | kvm | tcg
DEADLINE_S=${VPT_LIVE_DEADLINE_S:-540}    # below ctest's TIMEOUT, which kills with SIGKILL
URI=qemu:///system
export LIBVIRT_DEFAULT_URI=$URI
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
GUEST=${VPT_LIVE_GUEST_DIR:-$WORK/guest}  # kernel cache, shared by the live tests of a build
RUN=$WORK/run                # console log and command socket of the guest
BACKUPS=$WORK/backups        # vpt-tune's backups of this run only
export VPT_TUNE_BACKUP_DIR=$BACKUPS
CHECK="python3 $HERE/live_check.py"
T0=$(date +%s.%N)
# Every domain this test defines carries this description; a domain of that
# name without it is someone else's and is never touched.
MARK="vpt-tune live test guest (tests/live/live_vm_test.sh); safe to remove"

since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
say() { printf '[%6.1f s] %s\n' "$(since "$T0")" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
virsh() { command virsh -q -c "$URI" "$@"; }
exists() { virsh dominfo "$NAME" >/dev/null 2>&1; }
running() { [ "$(virsh domstate "$NAME" 2>/dev/null)" = running ]; }
inactive_xml() { virsh dumpxml --inactive "$NAME"; }
ours() { virsh desc "$NAME" 2>/dev/null | grep -qF "$MARK"; }
# A long step runs in the background so that a TERM or INT is handled at once
# (bash runs a trap only after the foreground command ends).
step() { "$@" & local pid=$!; BG_PIDS+=("$pid"); wait "$pid"; }

# ---- clean-up: only our domain, only our background processes ----
# Three ways out, all ending with the domain destroyed and undefined:
#  - normal exit or `exit N`: the EXIT trap;
#  - SIGTERM/SIGINT: the trap exits, which runs the EXIT trap;
#  - SIGKILL (ctest's timeout kills that way) cannot be trapped: a janitor
#    process, detached from this one, watches it and cleans up after it. It also
#    enforces DEADLINE_S, so a hung run ends with a clean host before ctest's
#    timeout strikes.
BG_PIDS=()
JANITOR=""
remove_domain() {  # destroy + undefine our domain, if it is ours
  exists && ours || return 0
  # Any active state (running, paused after an emulation failure, ...): destroy.
  virsh destroy "$NAME" >/dev/null 2>&1 || true
  virsh undefine "$NAME" >/dev/null 2>&1 || true
  return 0
}
cleanup() {
  local rc=$?
  trap - TERM INT
  [ -z "$JANITOR" ] || kill "$JANITOR" 2>/dev/null || true
  for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if exists && ours; then
    remove_domain
    say "destroyed and undefined domain '$NAME'"
  fi
  rm -rf "$RUN"
  case $rc in 0) say "PASS (live VM test, $ACCEL_NAME)" ;; 77) ;; *) say "exit $rc" ;; esac
  exit $rc
}
start_janitor() {
  local me=$$
  # setsid: out of ctest's reach; no inherited stdout, or ctest would wait for it.
  setsid bash -c '
    me=$1 deadline=$2 name=$3 mark=$4 uri=$5 run=$6
    end=$(( $(date +%s) + deadline ))
    while kill -0 "$me" 2>/dev/null; do
      if [ "$(date +%s)" -ge "$end" ]; then
        echo "janitor: deadline of ${deadline} s reached: stopping the test (pid $me)"
        kill -TERM "$me" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$me" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$me" 2>/dev/null
        break
      fi
      sleep 0.5
    done
    if virsh -q -c "$uri" desc "$name" 2>/dev/null | grep -qF "$mark"; then
      virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1
      virsh -q -c "$uri" undefine "$name" >/dev/null 2>&1
      rm -rf "$run"
      echo "janitor: the test (pid $me) ended without cleaning up: destroyed and undefined $name"
    fi' janitor "$me" "$DEADLINE_S" "$NAME" "$MARK" "$URI" "$RUN" \
    >> "$WORK/janitor.log" 2>&1 < /dev/null &
  JANITOR=$!
}
ACCEL_NAME=TCG
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- preconditions ----
if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root (libvirt's system daemon, /proc of QEMU's threads)"
  exit 77
fi
virsh version >/dev/null 2>&1 || fail "cannot reach libvirt at $URI (start it: tests/virt/libvirtd-fixture.sh start DIR)"
for tool in python3 gcc setsid; do command -v $tool >/dev/null || fail "$tool is not installed"; done
ONLINE=$(cat /sys/devices/system/cpu/online)
HOST_CPUS=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import live_check as c; print(len(c.cpus('$ONLINE')))")
[ "$HOST_CPUS" -ge 2 ] || fail "needs 2 online host CPUs (online: $ONLINE)"
BAD_CPU=${ONLINE%%[-,]*}

# KVM when libvirt can run a KVM guest (scripts/setup-libvirt-host.sh makes
# /dev/kvm usable by QEMU's user) on hardware virtualization, else TCG.
# VPT_LIVE_ACCEL=tcg forces TCG, so the path of machines without KVM stays
# tested; with VPT_LIVE_SKIP_IF_TCG_ANYWAY=1 such a forced run is skipped where
# auto picks TCG too (the default run already covers it).
KVM_WHY=""
kvm_usable() {
  if ! virsh domcapabilities --virttype kvm 2>/dev/null | grep -q '<domain>kvm</domain>'; then
    KVM_WHY="libvirt cannot run KVM guests here (no /dev/kvm, or QEMU's user cannot open it: scripts/setup-libvirt-host.sh)"
    return 1
  fi
  # A /dev/kvm served by kvm_pvm (no VT-x/AMD-V: PVM, as on this project's CI
  # machines) runs only PVM-enabled guest kernels at speed; it emulates an
  # ordinary kernel, which needs minutes to boot and then stops on an
  # emulation failure (docs/live-vm-proof.md). Firmware-only guests, as in
  # the libvirtd tests, do run under it.
  if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
    KVM_WHY="/dev/kvm is PVM (kvm_pvm, no hardware virtualization), which cannot boot Debian's guest kernel (docs/live-vm-proof.md)"
    return 1
  fi
}
case $ACCEL in
  auto) if kvm_usable; then ACCEL=kvm; else ACCEL=tcg; fi ;;
  kvm) kvm_usable || fail "VPT_LIVE_ACCEL=kvm: $KVM_WHY" ;;
  tcg)
    if [ "${VPT_LIVE_SKIP_IF_TCG_ANYWAY:-0}" = 1 ] && ! kvm_usable; then
      say "SKIPPED: TCG forced, but the default live test runs under TCG here anyway: $KVM_WHY"
      exit 77
    fi
    KVM_WHY="TCG forced (VPT_LIVE_ACCEL=tcg)" ;;
  *) fail "VPT_LIVE_ACCEL must be auto, kvm or tcg, not '$ACCEL'" ;;
esac
if [ "$ACCEL" = kvm ]; then
  DOMAIN_TYPE=kvm ACCEL_NAME=KVM CPU_MODE=host-passthrough
else
  DOMAIN_TYPE=qemu ACCEL_NAME=TCG CPU_MODE=maximum
fi
say "accelerator: $ACCEL_NAME (<domain type='$DOMAIN_TYPE'>, vCPU threads 'CPU n/$ACCEL_NAME'; the plan gives <cpu mode='$CPU_MODE'>)${KVM_WHY:+; $KVM_WHY}"

if exists; then
  ours || fail "domain '$NAME' exists and is not a vpt-tune live test guest; set VPT_LIVE_DOMAIN"
  remove_domain
  say "removed '$NAME' left over from an interrupted run"
fi
rm -rf "$RUN" "$BACKUPS" "$WORK"/*.json "$WORK"/*.txt "$WORK"/*.xml "$WORK"/*.log "$WORK"/report.html
mkdir -p "$RUN"
start_janitor

# ---- 1. the guest ----
say "building the guest (kernel cached in $GUEST)"
sh "$HERE/make-guest.sh" "$GUEST" > "$WORK/make-guest.log" 2>&1 || { cat "$WORK/make-guest.log"; fail "make-guest.sh"; }
gcc -shared -fPIC -O2 -o "$WORK/kill-point.so" "$HERE/kill-point.c" -ldl
sed -e "s|@NAME@|$NAME|g; s|@BAD_CPU@|$BAD_CPU|g; s|@KERNEL@|$GUEST/vmlinuz|; s|@INITRD@|$GUEST/initramfs.gz|" \
    -e "s|@CONSOLE@|$RUN/console.log|; s|@CHANNEL@|$RUN/cmd.sock|; s|@TYPE@|$DOMAIN_TYPE|; s|@MARK@|$MARK|" \
    "$HERE/domain.xml.in" > "$WORK/bad.xml"
virsh define "$WORK/bad.xml" >/dev/null
inactive_xml > "$WORK/old.xml"   # the bad layout as libvirt writes it: the "old" definition below

start_guest() {
  : > "$RUN/console.log" 2>/dev/null || true
  virsh start "$NAME" >/dev/null
  local i=0
  until grep -q VPT-GUEST-READY "$RUN/console.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 600 ] || { cat "$RUN/console.log"; fail "the guest did not print its ready marker within 60 s"; }
    sleep 0.1
  done
  grep -q 'VPT-GUEST-READY cpus=2 ' "$RUN/console.log" || fail "the guest did not bring up 2 CPUs: $(grep VPT-GUEST-READY "$RUN/console.log")"
}
say "starting '$NAME' with vCPUs 0-1, the emulator and iothread 1 all on host CPU $BAD_CPU"
start_guest
QEMU_PID=$(cat /run/libvirt/qemu/"$NAME".pid)
say "guest ready: $(grep VPT-GUEST-READY "$RUN/console.log"); QEMU pid $QEMU_PID"
grep -qx "CPU 0/$ACCEL_NAME" /proc/"$QEMU_PID"/task/*/comm \
  || fail "no QEMU thread 'CPU 0/$ACCEL_NAME': $(cat /proc/"$QEMU_PID"/task/*/comm | grep '^CPU' | tr '\n' ' ')"

# ---- 2. before ----
say "vpt-tune bench --quick --domain $NAME --save before.json"
step "$VPT" bench --quick --domain "$NAME" --save "$WORK/before.json" --force > "$WORK/bench-before.txt" 2> "$WORK/bench-before.log" \
  || { cat "$WORK/bench-before.log"; fail "bench before"; }
$CHECK guest "$WORK/before.json" 30 || { cat "$WORK/bench-before.txt"; fail "no usable in-guest ping-pong before"; }

# ---- 3. plan and apply live ----
# On a 2- or 3-CPU host the guest's 2 vCPUs leave no whole core to the host:
# the request must let the host share (--reserve 0), and the plan must say so.
SUGGEST=(suggest --domain "$NAME")
[ "$HOST_CPUS" -ge 4 ] || SUGGEST+=(--reserve 0)
"$VPT" "${SUGGEST[@]}" --json > "$WORK/plan.json" 2> "$WORK/plan.log" || { cat "$WORK/plan.log"; fail "suggest --json"; }
say "plan: $($CHECK plan "$WORK/plan.json")"
say "vpt-tune ${SUGGEST[*]} --apply --live"
step "$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt"; fail "apply --live"; }
grep -q "running guest pinned and verified" "$WORK/apply.txt" || { cat "$WORK/apply.txt"; fail "apply did not pin the running guest"; }
if [ "$HOST_CPUS" -lt 4 ]; then
  grep -q "host keeps no CPU of its own" "$WORK/apply.txt" || { cat "$WORK/apply.txt"; fail "no warning that the host shares its CPUs"; }
  say "applied; the plan warns: $(grep -o "the host keeps no CPU of its own[^:]*" "$WORK/apply.txt" | head -n 1)"
fi

say "every QEMU thread in /proc/$QEMU_PID/task/*/status against the plan:"
$CHECK threads "$QEMU_PID" "$WORK/plan.json" || fail "a thread does not run where the plan says"
inactive_xml > "$WORK/new.xml"
say "the definition (virsh dumpxml --inactive) against the plan:"
$CHECK xml "$WORK/new.xml" "$WORK/plan.json" || fail "the definition does not hold the plan's pins"
grep -q "<cpu mode='$CPU_MODE'" "$WORK/new.xml" || fail "the definition has no <cpu mode='$CPU_MODE'> ($ACCEL_NAME guest)"

# ---- 4. after, compare, report ----
say "vpt-tune bench --quick --domain $NAME --save after.json"
step "$VPT" bench --quick --domain "$NAME" --save "$WORK/after.json" --force > "$WORK/bench-after.txt" 2> "$WORK/bench-after.log" \
  || { cat "$WORK/bench-after.log"; fail "bench after"; }
$CHECK guest "$WORK/after.json" 30 || { cat "$WORK/bench-after.txt"; fail "no usable in-guest ping-pong after"; }
say "vpt-tune compare --detail before.json after.json"
"$VPT" compare --detail "$WORK/before.json" "$WORK/after.json" > "$WORK/compare.txt" || { cat "$WORK/compare.txt"; fail "compare"; }
grep -E '^(metric|guest_)' "$WORK/compare.txt"
grep -E '^guest_c2c vCPU 0 <-> 1, round trip .* better \(' "$WORK/compare.txt" >/dev/null \
  || fail "compare does not call the in-guest ping-pong better"
# The review of the booted guest, live host checks included; a Linux guest gets no Hyper-V finding.
say "vpt-tune check --domain $NAME --json"
"$VPT" check --domain "$NAME" "${SUGGEST[@]:3}" --json > "$WORK/check.json" 2> "$WORK/check.log" || { cat "$WORK/check.log"; fail "check"; }
REVIEW=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); ids = [f["id"] for f in j["findings"]]
assert j["schema"] == "vpt-tune/check/1" and j["host"]["live_state"], "no live host checks"
assert not [i for i in ids if i.startswith("hyperv")], ids
print(j["counts"], " ".join(ids))' "$WORK/check.json") || fail "check --json: $(cat "$WORK/check.json")"
say "check: $REVIEW"
if "$VPT" report --help >/dev/null 2>&1; then
  say "vpt-tune report --plan plan.json --before before.json --after after.json --findings check.json --out report.html"
  "$VPT" report --plan "$WORK/plan.json" --before "$WORK/before.json" --after "$WORK/after.json" --findings "$WORK/check.json" \
    --out "$WORK/report.html" --force > "$WORK/report.log" 2>&1 || { cat "$WORK/report.log"; fail "report"; }
  grep -qi '<html' "$WORK/report.html" || fail "report.html is not HTML"
  grep -q 'guest_c2c vCPU 0 &lt;-&gt; 1' "$WORK/report.html" || fail "report.html has no in-guest ping-pong row"
  grep -q '<section id="review">' "$WORK/report.html" || fail "report.html has no review section"
  say "report: $(wc -c < "$WORK/report.html") bytes"
else
  say "SKIPPED: this vpt-tune has no 'report' subcommand yet"
fi

# ---- 5. a refused live pin changes nothing ----
# A plan for a bigger host names CPUs this one lacks: refused before anything changes.
reset_to_bad() {  # the old definition and the bad live pins
  virsh define "$WORK/old.xml" >/dev/null
  for v in 0 1; do virsh vcpupin "$NAME" $v "$BAD_CPU" --live >/dev/null; done
  virsh emulatorpin "$NAME" "$BAD_CPU" --live >/dev/null
  virsh iothreadpin "$NAME" 1 "$BAD_CPU" --live >/dev/null
  cmp -s <(inactive_xml) "$WORK/old.xml" || fail "re-defining bad.xml does not give the old definition back"
}
live_pins() {  # one line: vCPU, emulator and iothread pins of the running guest
  echo "$(virsh vcpupin "$NAME" --live | awk 'NF { printf "vCPU %s on %s, ", $1, $2 }')emulator on" \
       "$(virsh emulatorpin "$NAME" --live | awk 'NF { print $NF }')$(virsh iothreadinfo "$NAME" --live | awk 'NF { printf ", iothread %s on %s", $1, $2 }')"
}
say "failure path: a plan with CPUs the host lacks, on the running guest"
reset_to_bad
rm -rf "$BACKUPS"
live_before=$(live_pins)
# (vCPUs on CPUs 186 and 378 of a 384-CPU EPYC: no test machine has those.)
BIG=$HERE/../../data/topologies/AMD-19h-Zen4-2xEpyc-9654.xml
set +e
"$VPT" suggest --domain "$NAME" --topology "$BIG" --vcpus 2 --cpus 186-191,378-383 --apply --live > "$WORK/refused.txt" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || { cat "$WORK/refused.txt"; fail "a plan with CPUs the host lacks was applied"; }
grep -q "which host '$URI' does not have" "$WORK/refused.txt" || { cat "$WORK/refused.txt"; fail "not refused for the missing CPUs"; }
say "refused (exit $rc): $(grep '^vpt-tune:' "$WORK/refused.txt")"
cmp -s <(inactive_xml) "$WORK/old.xml" || fail "the refused plan changed the definition"
[ "$(live_pins)" = "$live_before" ] || fail "the refused plan changed the running guest's pins: $(live_pins) vs $live_before"
[ -z "$(ls -A "$BACKUPS" 2>/dev/null)" ] || fail "the refused plan wrote a backup"
say "definition byte for byte the old one, live pins unchanged ($live_before), no backup written"

# ---- 6. SIGKILL in the middle of --apply --live ----
# At each libvirt call that changes something (kill-point.so), then at random
# moments. After each kill the definition must be the old or the new one, byte
# for byte, and `restore latest` must give the old one back.
kill_case() {  # LABEL, then how: "at FUNCTION:N:before|after" or "after SECONDS"
  local label=$1 how=$2 arg=$3 rc state
  reset_to_bad
  rm -rf "$BACKUPS"
  set +e
  # (The braces' 2>/dev/null keeps bash's "Killed" job notices out of the log.)
  if [ "$how" = at ]; then
    { VPT_KILL_AT=$arg LD_PRELOAD="$WORK/kill-point.so" "$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/kill.log" 2>&1; } 2>/dev/null
    rc=$?
  else
    "$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/kill.log" 2>&1 &
    local pid=$!
    BG_PIDS+=("$pid")
    sleep "$arg"
    kill -KILL "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    rc=$?
  fi
  set -e
  inactive_xml > "$WORK/killed.xml"
  if cmp -s "$WORK/killed.xml" "$WORK/old.xml"; then state=old
  elif cmp -s "$WORK/killed.xml" "$WORK/new.xml"; then state=new
  else diff "$WORK/old.xml" "$WORK/killed.xml" | head -20; fail "$label: the definition is neither the old nor the new one"; fi
  local backups=0
  [ -d "$BACKUPS" ] && backups=$(find "$BACKUPS" -name "$NAME.*.xml" | wc -l)
  local restored="no backup (nothing was changed)"
  if [ "$backups" -gt 0 ]; then
    "$VPT" restore --domain "$NAME" latest > "$WORK/restore.log" 2>&1 || { cat "$WORK/restore.log"; fail "$label: restore latest"; }
    cmp -s <(inactive_xml) "$WORK/old.xml" || fail "$label: restore latest did not give the old definition back"
    restored="restore latest -> old"
  else
    [ $state = old ] || fail "$label: the definition changed but no backup was written"
  fi
  [ $rc -eq 137 ] && rc=SIGKILL || rc="exit $rc (finished before the kill)"
  printf '  %-34s %-30s definition %-3s  %s\n' "$label" "$rc" "$state" "$restored"
  KILL_STATES+=("$state")
}
KILL_STATES=()
say "failure path: SIGKILL in the middle of --apply --live"
kill_case "before define (backup written)" at virDomainDefineXML:1:before
kill_case "right after define" at virDomainDefineXML:1:after
kill_case "after the emulator pin" at virDomainPinEmulator:1:after
kill_case "after the iothread pin" at virDomainPinIOThread:1:after
kill_case "after the first vCPU pin" at virDomainPinVcpuFlags:1:after
# Random moments over one apply's duration.
reset_to_bad
t_start=$(date +%s.%N)
"$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/timed.log" 2>&1
APPLY_S=$(since "$t_start")
for i in 1 2 3 4 5 6; do
  d=$(python3 -c "import random; print(round(random.uniform(0, $APPLY_S), 3))")
  kill_case "at $d s of a $(printf %.3f "$APPLY_S") s run" after "$d"
done
# A killed run leaves the running guest's pins half done at worst; running
# the command again finishes them.
reset_to_bad
{ VPT_KILL_AT=virDomainPinVcpuFlags:1:after LD_PRELOAD="$WORK/kill-point.so" "$VPT" "${SUGGEST[@]}" --apply --live >/dev/null 2>&1; } 2>/dev/null || true
"$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/rerun.txt" 2>&1 || { cat "$WORK/rerun.txt"; fail "apply after a kill"; }
$CHECK threads "$QEMU_PID" "$WORK/plan.json" > "$WORK/rerun-threads.txt" || { cat "$WORK/rerun-threads.txt"; fail "rerun after a kill left wrong pins"; }
say "after a kill between vCPU pins, running the command again pins every thread as planned"

# ---- 7. applying to a shut-off guest changes only the definition ----
say "failure path: --apply --live on the shut-off guest"
virsh destroy "$NAME" >/dev/null
virsh define "$WORK/old.xml" >/dev/null
"$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/shutoff.txt" 2>&1 || { cat "$WORK/shutoff.txt"; fail "apply to the shut-off guest"; }
grep -q "is not running: --live has nothing to pin" "$WORK/shutoff.txt" || { cat "$WORK/shutoff.txt"; fail "no note that the guest is off"; }
[ "$(virsh domstate "$NAME")" = "shut off" ] || fail "the guest was started"
$CHECK xml <(inactive_xml) "$WORK/plan.json" >/dev/null || fail "the shut-off guest's definition does not hold the plan"
say "definition updated, guest still shut off: $(grep -o "is not running[^;]*" "$WORK/shutoff.txt")"

say "kill results: ${KILL_STATES[*]}"
