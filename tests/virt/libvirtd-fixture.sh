#!/bin/sh
# Starts (or reuses) a system libvirtd with the QEMU driver for the "libvirtd"
# tests, and stops only what it started. No systemd needed
# (docs/libvirt-notes.md): scripts/setup-libvirt-host.sh (the libvirt-qemu
# user, the log directory, /dev/kvm's permissions), then virtlogd and libvirtd
# as daemons, then a check that a define is quick.
#
#   libvirtd-fixture.sh start STATE_DIR    exit 0 when qemu:///system answers
#   libvirtd-fixture.sh stop STATE_DIR     stops the daemons `start` started, by PID
set -eu
action=${1:?usage: $0 start|stop STATE_DIR}
state=${2:?usage: $0 start|stop STATE_DIR}
mkdir -p "$state"

say() { echo "libvirtd-fixture: $*"; }

alive() {  # PID: running and not a zombie
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]
}

pid_of() { cat "/run/$1.pid" 2>/dev/null || true; }

start_daemon() {  # NAME: start it unless it runs; record the PID when we started it
  if alive "$(pid_of "$1")"; then
    say "$1 already runs (pid $(pid_of "$1")): using it, will not stop it"
    return 0
  fi
  command -v "$1" >/dev/null 2>&1 || { say "$1 is not installed (scripts/install-deps.sh installs it)"; exit 1; }
  "$1" -d
  i=0
  while ! alive "$(pid_of "$1")"; do
    i=$((i + 1)); [ $i -le 100 ] || { say "$1 did not start"; exit 1; }
    sleep 0.1
  done
  pid_of "$1" > "$state/$1.started"
  say "started $1 (pid $(pid_of "$1"))"
}

stop_daemon() {
  [ -f "$state/$1.started" ] || return 0
  pid=$(cat "$state/$1.started")
  rm -f "$state/$1.started"
  alive "$pid" || return 0
  kill "$pid"
  i=0
  while alive "$pid"; do  # PID 1 may reap slowly: a zombie counts as gone
    i=$((i + 1)); [ $i -le 100 ] || { say "$1 (pid $pid) did not stop"; return 1; }
    sleep 0.1
  done
  say "stopped $1 (pid $pid)"
}

# One define + undefine of a trivial domain takes ~20 ms. When libvirt
# re-probes QEMU's capabilities on every call (its cache sees /dev/kvm change
# because QEMU, run as libvirt-qemu, cannot open it) it takes 30-100 s, and
# every test would run into its timeout: fail here, at once, naming the cause.
check_define_speed() {
  name=vpt-fixture-probe-$$
  xml=$state/$name.xml
  printf '%s\n' "<domain type='qemu'><name>$name</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>" \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>" > "$xml"
  t0=$(date +%s%N)
  ok=1
  timeout -k 1 10 virsh -q -c qemu:///system define "$xml" >/dev/null 2>&1 || ok=0
  t1=$(date +%s%N)
  timeout -k 1 60 virsh -q -c qemu:///system undefine "$name" >/dev/null 2>&1 || true
  rm -f "$xml"
  ms=$(( (t1 - t0) / 1000000 ))
  if [ $ok -eq 0 ] || [ $ms -gt 5000 ]; then
    say "FAIL: one 'virsh define' of a trivial domain took $ms ms (expected well under a second)"
    say "likely cause: libvirt re-probes QEMU's capabilities on every call because QEMU, run as" \
        "libvirt-qemu, cannot open /dev/kvm ($(ls -l /dev/kvm 2>/dev/null || echo 'no /dev/kvm');" \
        "libvirt-qemu's groups: $(id -nG libvirt-qemu 2>/dev/null || echo 'no such user'))"
    say "fix: run scripts/setup-libvirt-host.sh as root (group kvm, mode 0660, libvirt-qemu in group kvm), then restart libvirtd"
    exit 1
  fi
  say "one define + undefine of a trivial domain: $ms ms"
}

# What libvirt runs a guest under: KVM when domcapabilities for kvm answers.
accel() {
  if ! virsh -q -c qemu:///system domcapabilities --virttype kvm 2>/dev/null | grep -q '<domain>kvm</domain>'; then
    echo "TCG (KVM is not usable here)"
  elif [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
    echo "KVM, served by kvm_pvm (PVM: no hardware virtualization; firmware-only guests run, an ordinary guest kernel does not, so the live test uses TCG)"
  else
    echo "KVM (<domain type='kvm'> is usable)"
  fi
}

case "$action" in
  start)
    # The libvirt-qemu user, the log directory and /dev/kvm's permissions.
    sh "$(dirname "$0")/../../scripts/setup-libvirt-host.sh"
    start_daemon virtlogd
    start_daemon libvirtd
    i=0
    until virsh -q -c qemu:///system version >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -le 300 ] || { say "qemu:///system does not answer"; exit 1; }
      sleep 0.1
    done
    say "qemu:///system answers"
    check_define_speed
    say "guests run under $(accel)"
    ;;
  stop)
    stop_daemon libvirtd
    stop_daemon virtlogd
    ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
