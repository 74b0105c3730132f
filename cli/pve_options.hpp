// Proxmox VE VMs on the command line: where the config comes from (--vmid N on
// a node, --pve-config FILE anywhere), what to do with a plan for it (the
// diff, --out, --hookscript-out, --apply, --live), and the glue that lets
// `restore` and `bench` take --vmid.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include <CLI/App.hpp>

#include "bench/bench.hpp"
#include "cli/domain_options.hpp"
#include "cli/host_options.hpp"
#include "cli/request_options.hpp"
#include "pve/hookscript.hpp"
#include "pve/pve_node.hpp"

namespace vpt::cli {

struct PveOptions {
  unsigned vmid = 0;                       // --vmid N (0 = none); the config is /etc/pve/qemu-server/N.conf
  std::string config_file;                 // --pve-config FILE: a copy of a config ('-' = standard input)
  std::string hookscript_out;              // --hookscript-out FILE
  std::string snippets_storage = "local";  // --snippets-storage NAME: where --apply installs the hookscript
  bool confine_host = false;               // --confine-host: the hookscript confines the host while the VM runs
  bool strict = false;                     // --strict: pre-start refuses a node without the planned CPUs
  std::string hugepages;                   // --hugepages 2|1024|any ("" = leave as it is)
};

// --vmid, --pve-config, --hookscript-out, --snippets-storage, --confine-host,
// --hugepages on `suggest`, which also has the domain options: --out,
// --apply, --live and --backup-dir then act on the Proxmox config.
void add_pve_options(CLI::App& command, PveOptions& options);

// True when --vmid or --pve-config names a Proxmox VM.
bool has_pve_vm(const PveOptions& options);

// `suggest` for a Proxmox VM: the request's defaults from its config, the
// plan, the plan text with Proxmox advice, the config's diff and notes; then
// --out, --hookscript-out, --apply (backup, write, install the hookscript,
// read back) and --live (run the hookscript's post-start now, check every
// thread in /proc). With `json`, the plan JSON goes to standard output and
// the rest to standard error.
void run_pve_suggest(const PveOptions& pve, const DomainOptions& actions, const HostOptions& host,
                     const RequestOptions& request, const CLI::App& command, bool json);

// --live for a dedicated VM: the installed hookscript's post-start on its
// running QEMU, then every thread checked in /proc against `plan`. A VM that
// does not run here, or runs another vCPU count than the plan, gets a note
// instead. Throws PveApplyError when /proc shows a thread elsewhere.
void pin_running_pve_vm(std::ostream& out, const PveNode& node, unsigned vmid, const std::string& script,
                        const PveHookPlan& plan);

// --live for a shared VM: every thread of its running QEMU on `cpus` (what
// qemu-server's start does for affinity:), checked in /proc. Nothing when it
// does not run here. Throws PveApplyError when a thread cannot be moved.
void confine_running_pve_vm(std::ostream& out, const PveNode& node, unsigned vmid, const CpuSet& cpus);

// `restore --vmid N [BACKUP|latest]`: lists the config backups of VM N, or
// writes one back.
void run_pve_restore(unsigned vmid, const std::string& backup, const std::string& backup_dir);

// A Proxmox VE VM as `bench --vmid N` measures it: a read-only view of its
// QEMU process (bench/bench.hpp qemu_process_view) holding the pins its
// vpt-tune hookscript planned (else its affinity, for every thread), its name,
// and the process from its PID file with the I/O threads QMP names.
struct PveMeasuredVm {
  std::unique_ptr<Hypervisor> connection;
  std::string name;
  QemuProcess process;
};

// Throws BenchInputError when the VM does not run here.
PveMeasuredVm open_pve_vm(unsigned vmid);

}  // namespace vpt::cli
