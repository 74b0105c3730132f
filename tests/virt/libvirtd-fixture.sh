#!/bin/sh
# Starts (or reuses) a system libvirtd with the QEMU driver for the "libvirtd"
# tests, and stops only what it started. No systemd needed (see
# shared notes live-vm.md): the libvirt-qemu user, the log directory, then
# virtlogd and libvirtd as daemons.
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

case "$action" in
  start)
    if ! getent passwd libvirt-qemu >/dev/null; then
      getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
      useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
      say "created user libvirt-qemu"
    fi
    mkdir -p /var/log/libvirt/qemu
    start_daemon virtlogd
    start_daemon libvirtd
    i=0
    until virsh -q -c qemu:///system version >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -le 300 ] || { say "qemu:///system does not answer"; exit 1; }
      sleep 0.1
    done
    say "qemu:///system answers"
    ;;
  stop)
    stop_daemon libvirtd
    stop_daemon virtlogd
    ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
