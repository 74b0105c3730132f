#!/usr/bin/env bash
# The in-guest probe through the QEMU guest agent, on a live VM (issue 14):
# boots the live test's busybox guest with Debian's qemu-ga on a virtio-serial
# channel (make-guest.sh --agent), pins it badly, runs `vpt-tune bench --quick
# --domain` (which picks the agent: copies the probe in, runs it, deletes it,
# and samples the vCPU threads' steal meanwhile), applies the plan live, runs
# bench again, and checks that compare calls the in-guest ping-pong and the
# vCPUs' steal better; renders the report. Then the failure path: with qemu-ga
# stopped in the guest, bench warns and falls back within its timeouts.
#
#   live_agent_test.sh VPT_TUNE WORKDIR [GUEST_DIR]
#
# GUEST_DIR caches the kernel and qemu-ga (default WORKDIR/guest). Environment:
# VPT_AGENT_DOMAIN (default vpt-agent-vm), VPT_AGENT_DEADLINE_S (default 300:
# the run stops itself and cleans up after that long, before ctest's timeout).
# Needs root, a running libvirtd with the QEMU driver (ctest's `libvirtd`
# fixture), qemu-system-x86, busybox-static, gcc with the static libc,
# python3, and network for the first downloads. TCG (the live_vm test covers
# the KVM choice). Defines only its domain, marked by its <description>,
# stops only what it started, and removes the domain however it ends but
# SIGKILL. Keeps before.json, after.json, compare.txt, report.html and the
# logs in WORKDIR.
set -euo pipefail

VPT=$(readlink -f "${1:?usage: $0 VPT_TUNE WORKDIR [GUEST_DIR]}")
WORK=${2:?usage: $0 VPT_TUNE WORKDIR [GUEST_DIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${VPT_AGENT_DOMAIN:-vpt-agent-vm}
DEADLINE_S=${VPT_AGENT_DEADLINE_S:-300}
URI=qemu:///system
export LIBVIRT_DEFAULT_URI=$URI
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
GUEST=${3:-$WORK/guest}
RUN=$WORK/run
export VPT_TUNE_BACKUP_DIR=$WORK/backups
CHECK="python3 $HERE/live_check.py"
MARK="vpt-tune agent test guest (tests/live/live_agent_test.sh); safe to remove"
T0=$(date +%s.%N)

since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
say() { printf '[%6.1f s] %s\n' "$(since "$T0")" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
virsh() { command virsh -q -c "$URI" "$@"; }
exists() { virsh dominfo "$NAME" >/dev/null 2>&1; }
ours() { virsh desc "$NAME" 2>/dev/null | grep -qF "$MARK"; }
agent() { virsh qemu-agent-command "$NAME" --timeout 5 "$1" 2>&1; }
guest_sh() {  # runs a shell command in the guest through the agent, prints its output
  local pid i
  pid=$(agent "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"$1\"],\"capture-output\":true}}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"]["pid"])')
  for i in $(seq 1 50); do
    agent "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}" | python3 -c '
import base64, json, sys
r = json.load(sys.stdin)["return"]
if not r["exited"]: sys.exit(1)
print(base64.b64decode(r.get("out-data", "")).decode(), end="")' && return 0
    sleep 0.1
  done
  return 1
}

# ---- clean-up: only our domain, only our processes ----
WATCHDOG=""
cleanup() {
  local rc=$?
  trap - TERM INT
  [ -z "$WATCHDOG" ] || kill "$WATCHDOG" 2>/dev/null || true
  if exists && ours; then
    virsh destroy "$NAME" >/dev/null 2>&1 || true
    virsh undefine "$NAME" >/dev/null 2>&1 || true
    say "destroyed and undefined domain '$NAME'"
  fi
  case $rc in 0) say "PASS (guest agent test)" ;; 77) ;; *) say "exit $rc" ;; esac
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- preconditions ----
if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root (libvirt's system daemon, /proc of QEMU's threads)"
  exit 77
fi
virsh version >/dev/null 2>&1 || fail "cannot reach libvirt at $URI (start it: tests/virt/libvirtd-fixture.sh start DIR)"
for tool in python3 gcc; do command -v $tool >/dev/null || fail "$tool is not installed"; done
ONLINE=$(cat /sys/devices/system/cpu/online)
HOST_CPUS=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import live_check as c; print(len(c.cpus('$ONLINE')))")
[ "$HOST_CPUS" -ge 2 ] || fail "needs 2 online host CPUs (online: $ONLINE)"
BAD_CPU=${ONLINE%%[-,]*}
if exists; then
  ours || fail "domain '$NAME' exists and is not this test's; set VPT_AGENT_DOMAIN"
  virsh destroy "$NAME" >/dev/null 2>&1 || true
  virsh undefine "$NAME" >/dev/null
  say "removed '$NAME' left over from an interrupted run"
fi
# Stops this run (and so cleans up) before ctest's timeout would SIGKILL it.
# Its output goes nowhere (ctest waits for every holder of the test's output),
# and killing it kills its sleep.
( exec >/dev/null 2>&1; sleep "$DEADLINE_S" & s=$!; trap 'kill $s; exit 0' TERM; wait $s; kill -TERM $$ ) &
WATCHDOG=$!
rm -rf "$RUN" "$WORK"/*.json "$WORK"/*.txt "$WORK"/*.log "$WORK"/*.xml "$WORK"/report.html "$WORK/backups"
mkdir -p "$RUN"

# ---- 1. the guest, with qemu-ga ----
say "building the guest with qemu-ga (kernel and qemu-ga cached in $GUEST)"
sh "$HERE/make-guest.sh" "$GUEST" --agent > "$WORK/make-guest.log" 2>&1 || { cat "$WORK/make-guest.log"; fail "make-guest.sh --agent"; }
sed -e "s|@NAME@|$NAME|g; s|@BAD_CPU@|$BAD_CPU|g; s|@KERNEL@|$GUEST/vmlinuz|; s|@INITRD@|$GUEST/initramfs-agent.gz|" \
    -e "s|@CONSOLE@|$RUN/console.log|; s|@CHANNEL@|$RUN/cmd.sock|; s|@MARK@|$MARK|" "$HERE/agent-domain.xml.in" > "$WORK/bad.xml"
virsh define "$WORK/bad.xml" >/dev/null
say "starting '$NAME' with vCPUs 0-1, the emulator and iothread 1 all on host CPU $BAD_CPU"
virsh start "$NAME" >/dev/null
i=0
until grep -q VPT-GUEST-READY "$RUN/console.log" 2>/dev/null; do
  i=$((i + 1)); [ $i -le 600 ] || { cat "$RUN/console.log"; fail "the guest did not print its ready marker within 60 s"; }
  sleep 0.1
done
grep -q 'VPT-GUEST-AGENT port=' "$RUN/console.log" || { cat "$RUN/console.log"; fail "qemu-ga did not start in the guest"; }
i=0
until agent '{"execute":"guest-ping"}' | grep -q '"return"'; do
  i=$((i + 1)); [ $i -le 60 ] || fail "the guest agent does not answer guest-ping: $(agent '{"execute":"guest-ping"}')"
  sleep 0.5
done
say "guest ready: $(grep VPT-GUEST-READY "$RUN/console.log"); $(grep VPT-GUEST-AGENT "$RUN/console.log"); agent answers"
say "the guest agent says: $(agent '{"execute":"guest-get-osinfo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"].get("pretty-name"))')"

# ---- 2. before: bench through the agent ----
bench() {  # NAME.json: bench --quick --domain through the agent
  "$VPT" bench --quick --domain "$NAME" --save "$WORK/$1.json" --force > "$WORK/bench-$1.txt" 2> "$WORK/bench-$1.log" \
    || { cat "$WORK/bench-$1.log"; fail "bench $1"; }
  grep -q "through the guest agent" "$WORK/bench-$1.log" || { cat "$WORK/bench-$1.log"; fail "bench $1 did not use the guest agent"; }
  $CHECK agent "$WORK/$1.json" 5 || { cat "$WORK/bench-$1.txt"; fail "no usable in-guest results through the agent ($1)"; }
  # The probe and its private directory were deleted from the guest.
  left=$(guest_sh "ls -d /tmp/vpt-guest-probe* 2>/dev/null | wc -l") || fail "cannot list /tmp in the guest"
  [ "$left" -eq 0 ] || fail "the in-guest probe was left in the guest's /tmp ($left entries)"
}
say "vpt-tune bench --quick --domain $NAME --save before.json (channel: auto)"
bench before

# ---- 3. plan and apply live ----
SUGGEST=(suggest --domain "$NAME")
[ "$HOST_CPUS" -ge 4 ] || SUGGEST+=(--reserve 0)
say "vpt-tune ${SUGGEST[*]} --apply --live"
"$VPT" "${SUGGEST[@]}" --json > "$WORK/plan.json" 2> "$WORK/plan.log" || { cat "$WORK/plan.log"; fail "suggest --json"; }
"$VPT" "${SUGGEST[@]}" --apply --live > "$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt"; fail "apply --live"; }
grep -q "running guest pinned and verified" "$WORK/apply.txt" || { cat "$WORK/apply.txt"; fail "apply did not pin the running guest"; }
QEMU_PID=$(cat /run/libvirt/qemu/"$NAME".pid)
$CHECK threads "$QEMU_PID" "$WORK/plan.json" > "$WORK/threads.txt" || { cat "$WORK/threads.txt"; fail "a thread does not run where the plan says"; }
say "applied: $($CHECK plan "$WORK/plan.json")"

# ---- 4. after, compare, report ----
say "vpt-tune bench --quick --domain $NAME --save after.json"
bench after
say "vpt-tune compare --detail before.json after.json"
"$VPT" compare --detail "$WORK/before.json" "$WORK/after.json" > "$WORK/compare.txt" || { cat "$WORK/compare.txt"; fail "compare"; }
grep -E '^(metric|guest_|steal)' "$WORK/compare.txt"
grep -E '^guest_c2c vCPU 0 <-> 1, round trip .* better \(' "$WORK/compare.txt" >/dev/null \
  || fail "compare does not call the in-guest ping-pong better"
# On a quiet host the bad layout's steal drops with p < 0.01 (README: 21.7% -> 2.8%). Another
# process on the host's two CPUs adds steal of its own after the plan too (a niced fuzzer was
# enough: 20.9% -> 13.5%, "within noise"), so then a drop is required, not its significance, and
# the log says why; "worse" or no drop always fails.
steal_row=$(grep -E '^steal, all vCPUs, guest busy \(in-guest probe\) ' "$WORK/compare.txt") \
  || fail "compare has no steal row for the vCPUs while the probe ran"
if ! grep -q ' better (' <<<"$steal_row"; then
  grep -qE ' -[0-9.]+( pp|%) .* within noise \(' <<<"$steal_row" \
    || fail "compare does not call the vCPUs' steal while the probe ran better, and it did not drop"
  say "WARNING: the steal drop is not significant: other work ran on this host meanwhile (load: $(cut -d' ' -f1-3 /proc/loadavg))"
fi
say "vpt-tune report --plan plan.json --before before.json --after after.json --out report.html"
"$VPT" report --plan "$WORK/plan.json" --before "$WORK/before.json" --after "$WORK/after.json" \
  --out "$WORK/report.html" --force > "$WORK/report.log" 2>&1 || { cat "$WORK/report.log"; fail "report"; }
grep -q 'steal, all vCPUs, guest busy' "$WORK/report.html" || fail "report.html has no steal row"
grep -q 'guest_wakeup p99, all vCPUs' "$WORK/report.html" || fail "report.html has no in-guest wake-up row"

# ---- 5. failure path: the agent stops answering ----
say "failure path: qemu-ga stopped in the guest; bench falls back to the serial channel, then, without it, to host-side checks"
agent '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","sleep 0.5; killall qemu-ga"]}}' >/dev/null
sleep 2
t=$(date +%s.%N)
"$VPT" bench --quick --domain "$NAME" --save "$WORK/no-agent.json" --force > "$WORK/bench-no-agent.txt" 2> "$WORK/bench-no-agent.log" \
  || { cat "$WORK/bench-no-agent.log"; fail "bench without an agent"; }
took=$(since "$t")
grep -q "using the serial channel instead" "$WORK/bench-no-agent.txt" || { cat "$WORK/bench-no-agent.txt"; fail "no fallback to the serial channel"; }
python3 -c "import json; g = json.load(open('$WORK/no-agent.json'))['guest']; assert g['channel'] == 'serial', g['channel']" \
  || fail "the fallback run did not go through the serial channel"
"$VPT" bench --quick --domain "$NAME" --guest-channel agent --save "$WORK/agent-only.json" --force \
  > "$WORK/bench-agent-only.txt" 2> "$WORK/bench-agent-only.log" || { cat "$WORK/bench-agent-only.log"; fail "bench --guest-channel agent"; }
grep -q "in-guest probe not run through the guest agent: .*is qemu-guest-agent installed and running" "$WORK/bench-agent-only.txt" \
  || { cat "$WORK/bench-agent-only.txt"; fail "no warning that the agent does not answer"; }
say "without qemu-ga: fell back to the serial channel ($took s); --guest-channel agent warns: $(grep -o 'in-guest probe not run through the guest agent: [^(]*' "$WORK/bench-agent-only.txt" | head -n 1)"
