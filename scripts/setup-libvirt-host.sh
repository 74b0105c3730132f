#!/bin/sh
# Makes this machine able to run libvirt's QEMU driver the way a standard
# Debian system with libvirt-daemon-system would, without systemd or udevd.
# Idempotent; prints only what it changed. Run as root (scripts/install-deps.sh
# --all and the libvirtd test fixture call it).
#
#  - the user and group libvirt runs QEMU as (libvirt-qemu), which libvirt's
#    QEMU driver needs to exist ("Failed to parse user 'libvirt-qemu'");
#  - libvirt's log directory (libvirtd -d exits at once without it);
#  - where /dev/kvm exists: what Debian's udev rule and libvirt-daemon-system
#    do (group kvm, mode 0660, libvirt-qemu in group kvm). Without it QEMU run
#    as libvirt-qemu cannot open /dev/kvm, and libvirt re-probes QEMU's
#    capabilities on almost every call (30-100 s a `virsh define`); see
#    docs/libvirt-notes.md. Never world-writable. Without /dev/kvm nothing
#    changes and guests run under TCG.
set -eu
say() { echo "setup-libvirt-host: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (it creates a system user and sets /dev/kvm's group); skipped"
  exit 0
fi

if ! getent group libvirt-qemu >/dev/null; then
  groupadd -r libvirt-qemu
  say "created group libvirt-qemu"
fi
if ! getent passwd libvirt-qemu >/dev/null; then
  useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  say "created user libvirt-qemu"
fi
mkdir -p /var/log/libvirt/qemu

if [ ! -c /dev/kvm ]; then
  exit 0  # no KVM: TCG
fi
if ! getent group kvm >/dev/null; then
  groupadd -r kvm
  say "created group kvm"
fi
if ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx kvm; then
  usermod -a -G kvm libvirt-qemu
  say "added libvirt-qemu to group kvm"
fi
# udev's rule for the node (50-udev-default.rules: GROUP="kvm", MODE="0660");
# there is no udevd here to apply it.
if [ "$(stat -c %G /dev/kvm)" != kvm ]; then
  chgrp kvm /dev/kvm
  say "/dev/kvm: group kvm"
fi
mode=$(stat -c %a /dev/kvm)
if [ "$mode" != 660 ]; then
  chmod 0660 /dev/kvm
  say "/dev/kvm: mode 0660 (was 0$mode)"
fi
