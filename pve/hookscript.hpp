// The Proxmox VE hookscript vpt-tune writes for one VM: a self-contained POSIX
// shell script (dash, busybox sh) that pins the VM's QEMU threads after it
// starts, so a node the VM migrates to needs the script, not vpt-tune.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"
#include "common/cpuset.hpp"
#include "pve/pve_config.hpp"

namespace vpt {

// What the hookscript does for one VM; also what `bench --vmid` checks against.
struct PveHookPlan {
  unsigned vmid = 0;
  std::string vm_name;                    // for the script's comments
  std::vector<unsigned> vcpus;            // host CPU of vCPU i ("CPU i/KVM" thread)
  CpuSet emulator;                        // every thread that is neither a vCPU nor an I/O thread
  std::vector<std::string> iothread_ids;  // qemu-server's iothread object ids, "iothread-virtio0", ...
  std::vector<CpuSet> iothreads;          // CPUs of iothread_ids[i]
  CpuSet host;                            // CPUs the host keeps
  bool confine_host = false;              // pre-start/post-stop: AllowedCPUs= of the host's slices
  bool strict = false;                    // pre-start refuses a node without the planned CPUs (else: unpinned, warned)

  CpuSet all_cpus() const;                // every CPU the VM may use (the config's affinity:)
};

// The hook plan for a guest's plan and its config: the plan's I/O thread i
// goes to the config's i-th iothread (qemu-server creates them in that
// order); iothreads beyond the plan's count share the plan's I/O thread CPUs
// (the emulator's when it has none).
PveHookPlan make_pve_hook_plan(unsigned vmid, const PveConfig& config, const GuestPlan& guest, const CpuSet& host_cpus,
                               bool confine_host);

// The script. Proxmox calls it as `SCRIPT VMID PHASE`:
//  - pre-start: checks taskset is there and every planned CPU is online on
//    this node; when not, logs a warning and lets the VM start unpinned (so
//    HA recovery onto such a node works), or with `strict` exits 1 (Proxmox
//    then does not start the VM). With confine_host, confines the host
//    (confine_host of common/host_confinement.hpp, the model the libvirt hook
//    shares): AllowedCPUs= of system.slice, user.slice, init.scope and the
//    scopes of running VMs nothing plans (no vpt-tune hookscript, no
//    affinity:), cpuset.cpus of lxc and lxc.monitor; with several confining
//    VMs running, to what all of them leave the host.
//  - post-start: waits (VPT_PVE_WAIT_S, default 30 s) for the PID file
//    RUN_DIR/VMID.pid of a live QEMU whose command line names it, and for its
//    vCPU threads; pins "CPU n/KVM" (or /TCG) to vcpus[n], each I/O thread
//    (thread ids from QMP query-iothreads through socat: qemu-server's
//    iothread names are longer than a thread name holds) to its CPUs, and
//    every other thread to the emulator's CPUs with `taskset -pc`; reads each
//    thread's Cpus_allowed_list back from /proc and logs what it did to
//    stderr and syslog (logger). Exits 0 even when the VM is gone or the
//    wait times out (Proxmox would only warn). Pins nothing, with a log line,
//    when the QEMU cannot be the plan's: threads without names
//    (debug-threads=off) or another vCPU count (a QEMU started from the config
//    before the plan), or when this node lacks the planned CPUs.
//  - post-stop: with confine_host, releases: what the other running
//    confining VMs leave the host, or the values it had before the first
//    confinement (a VM whose QEMU is gone stops counting by itself, so a
//    post-stop that never ran cannot leave the host confined).
//  - pre-stop, other phases, another VMID: exit 0, nothing done.
// Running it twice gives the same result. Environment overrides for tests and
// odd nodes: VPT_PVE_RUN_DIR (/var/run/qemu-server), VPT_PVE_CONF_DIR
// (/etc/pve/qemu-server), VPT_PVE_WAIT_S (30),
// VPT_STATE_DIR (/run/vpt-tune), VPT_ONLINE_CPUS (file with the online list,
// /sys/devices/system/cpu/online), VPT_SYSTEMD_RUN (/run/systemd/system: its
// existence means systemd runs), VPT_SYSTEMCTL (systemctl), VPT_SOCAT (socat).
std::string pve_hookscript(const PveHookPlan& plan);

// Reads the plan back from a script pve_hookscript() wrote. `source` names it
// in errors. Throws PveConfigError for any other file.
PveHookPlan read_pve_hookscript(std::string_view script, const std::string& source);

}  // namespace vpt
