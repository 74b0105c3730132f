// Host confinement: one model for the libvirt hook (virt/hook_script.hpp) and
// the Proxmox VE hookscript (pve/hookscript.hpp). While planned guests run,
// the host's own processes stay on the CPUs every one of them leaves the
// host; docs/host-confinement.md says why each rule is there.
#pragma once

#include <string_view>

namespace vpt {

// POSIX shell functions both hook scripts include (checked with dash -n and
// shellcheck by their tests):
//  - confine_host KEY CPUS PIDFILE: records that guest KEY (whose QEMU
//    writes PIDFILE) leaves the host CPUS, then sets the host's cgroups to
//    the CPUs every live record leaves it;
//  - release_host KEY: forgets KEY and sets the host to what the other live
//    records leave it or, when none is left, puts back the values the host's
//    cgroups had before the first confinement.
// A record counts while its QEMU runs (PIDFILE names a live process) or for
// VPT_CONFINE_GRACE_S seconds (120) after it was written (QEMU is starting):
// a guest whose stop hook never ran (a live migration, a failed start) stops
// counting by itself. The host's cgroups: with systemd, AllowedCPUs= of
// system.slice, user.slice, init.scope and of the units `guest_units` prints
// (the including script defines it: Proxmox VMs that nothing plans), plus
// the cpuset.cpus of the cgroups systemd does not own (Proxmox's lxc and
// lxc.monitor); without systemd, cpuset.cpus of every cgroup but libvirt's
// machine groups. Never qemu.slice or machine.slice as a whole: cgroup v2
// cpusets are hierarchical, so that would shrink the planned guests too.
// Needs from the including script: say, STATE_DIR, SYSTEMD_RUN, SYSTEMCTL,
// ALL_CPUS and guest_units. Environment overrides for tests: VPT_CGROUP_ROOT,
// VPT_PROC, VPT_CONFINE_GRACE_S.
std::string_view host_confinement_shell();

}  // namespace vpt
