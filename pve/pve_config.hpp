// PveConfig: a Proxmox VE virtual machine's configuration
// (/etc/pve/qemu-server/<VMID>.conf, qm.conf(5)) as vpt-tune reads it, the
// plan merged into it with every line the plan does not own kept byte for
// byte, and what the config implies for the optimizer's request.
//
// Facts about the format and about how qemu-server turns it into a QEMU
// command line, with the upstream files they come from: docs/proxmox-notes.md.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "common/cpuset.hpp"
#include "probe/topology.hpp"

namespace vpt {

// A file that is not a Proxmox VM config, or a value vpt-tune relies on that
// does not parse. Bad input (exit code 2); what() is one line:
// "cannot read Proxmox config 'SOURCE': line N: <problem>".
// The only exception parse_pve_config throws.
class PveConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A disk that gets an I/O thread of its own: qemu-server creates
// "-object iothread,id=<id>" for it, in the order of `iothread_ids`.
struct PveConfig {
  std::string source;                        // file path or name, for messages
  std::optional<unsigned> vmid;              // from a file named <VMID>.conf
  std::string text;                          // the whole file as read

  // The current configuration: every "key: value" line before the first
  // [section] header (snapshots, [PENDING], [special:...]); the last value
  // wins, as in qemu-server.
  std::map<std::string, std::string> options;
  std::vector<std::string> sections;         // section names in file order ("PENDING", snapshot names, ...)
  std::vector<std::string> pending_keys;     // keys set or deleted in [PENDING]
  // The values below (sockets ... hostpci) are those of the VM's next start: the current
  // configuration with [PENDING]'s values and `delete:` applied, as qemu-server starts it.

  // What vpt-tune reads from the current configuration.
  std::string name;                          // name:, "" when absent
  unsigned sockets = 1, cores = 1;           // vCPUs = sockets * cores
  std::optional<unsigned> hotplugged_vcpus;  // vcpus: (vCPUs online at boot when CPU hotplug is on)
  unsigned memory_mib = 512;                 // memory: [current=]N (qemu-server's default 512)
  bool numa = false;                         // numa: 1
  std::map<unsigned, std::string> numa_nodes;  // numa<n>: values
  std::string cpu_type;                      // cpu: [cputype=]<type>; "" = Proxmox's default model
  bool cpu_hotplug = false;                  // hotplug: includes "cpu"
  bool memory_hotplug = false;               // hotplug: includes "memory"
  std::optional<std::string> hugepages;      // hugepages: 2 | 1024 | any
  std::optional<CpuSet> affinity;            // affinity:
  std::string args;                          // args:, "" when absent
  std::optional<std::string> hookscript;     // hookscript: <storage>:snippets/<file>
  std::optional<std::string> lock;           // lock: (backup, migrate, snapshot, ...)
  std::vector<std::string> hostpci;          // PCI addresses "0000:01:00.0" of hostpci<n>: host=, in key order
  std::vector<std::string> hostpci_mappings; // hostpci<n>: mapping= names (resolved on the node only)
  std::vector<std::string> iothread_ids;     // "iothread-virtio0", "iothread-virtioscsi1", ...
  std::vector<std::string> disks_without_iothread;  // virtio/scsi disks that could have one

  unsigned vcpus() const { return sockets * cores; }  // the most vCPUs (QEMU's maxcpus)
  // The vCPUs present at boot: vcpus: where it is set (and valid), else all.
  unsigned online_vcpus() const {
    return hotplugged_vcpus && *hotplugged_vcpus >= 1 && *hotplugged_vcpus <= vcpus() ? *hotplugged_vcpus : vcpus();
  }
};

// Reads a config. A container's config (/etc/pve/lxc: rootfs:, hostname:,
// lxc.* keys ...) is refused as one. `source` names it in errors; a source named "<digits>.conf"
// (any directory) sets vmid. Lines follow qemu-server's parse_vm_config():
// blank lines, '#' description lines, "key: value" lines, "[name]" section
// headers. Any other line, a NUL byte, a file without a single option, or a
// value vpt-tune uses that does not parse (cores: abc, affinity: 3-1, an
// args: with a quote left open, ...)
// throws PveConfigError. Unknown keys are kept and not judged.
PveConfig parse_pve_config(std::string_view text, const std::string& source);

// Reads and parses a file ("-" = standard input), at most kMaxInputBytes
// (common/input_file.hpp). Throws PveConfigError (also for an unreadable or
// oversized file).
PveConfig load_pve_config_file(const std::string& path);

// What the config implies for the optimizer: its name (name:, else "vm<VMID>"),
// its vCPU count (sockets * cores), its I/O thread count (disks with
// iothread=1 that qemu-server gives a thread), and its GPU (the first hostpci
// device the host lists as a GPU, else the first hostpci device).
GuestRequest request_defaults_from(const PveConfig& config, const Topology* host = nullptr);

// ---- The plan in the config --------------------------------------------------

struct PvePatchOptions {
  std::string hookscript;                 // volume to set, "local:snippets/vpt-tune-100.sh"; "" = leave as is
  std::optional<std::string> hugepages;   // "2", "1024" or "any" to set; nullopt = leave as is
};

struct PvePatch {
  std::string text;                       // the new file
  std::vector<std::string> notes;         // what changed and when it takes effect
  std::vector<std::string> warnings;      // what the config cannot express
  // Each key of the current section the patch sets (a value) or removes (nullopt).
  std::map<std::string, std::optional<std::string>> edits;
};

// Merges a guest's plan into the current configuration:
//  - affinity: every CPU the plan gives the VM (vCPUs, emulator, I/O threads),
//    so QEMU is confined from its first instruction (qemu-server starts it
//    under `taskset --cpu-list --all-tasks`);
//  - sockets:/cores: so that qemu-server's own -smp counts the plan's vCPUs
//    (cores = dies x cores x threads per socket); vcpus: stays where the plan
//    is for the vCPUs it puts online and the topology divides the maximum
//    (cores x sockets stays that maximum), else it goes;
//  - args: "-smp N,sockets=S,dies=D,cores=C,threads=T,maxcpus=N" replaces any
//    -smp already there (QEMU merges repeated -smp key by key, so every key
//    qemu-server sets is given) and keeps the rest of args byte for byte; not
//    written while CPU hotplug is on (qemu-server then adds vCPUs as devices
//    with thread-id=0: the topology stays sockets x cores, with a warning);
//  - numa: 1 and numa<n>: cpus=<guest vCPUs>,hostnodes=<node>,memory=<MiB>,
//    policy=bind for every host NUMA node the vCPUs use, when the plan places
//    memory or hugepages are set (policy=preferred where the share exceeds
//    the node's memory); other numa<n> lines go; numa<n> lines that no longer
//    fit the vCPU count go too (noted); a kept line naming a host node the
//    host lacks, or binding more memory than its nodes hold, is refused;
//  - hugepages: when options.hugepages is set;
//  - hookscript: when options.hookscript is set and the VM has no other
//    hookscript (Proxmox runs one per VM: a foreign one is kept, with a warning).
// Only lines of the current section change; a key that is absent is inserted
// where qemu-server would sort it. Patching a patched config with the same
// plan returns it unchanged.
// Throws PveConfigError when the config has pending changes ([PENDING]) to an
// owned key, or RequestError when the plan cannot be expressed (more than 8
// guest NUMA nodes, memory that does not split into the nodes' hugepages).
PvePatch patch_pve_config(const PveConfig& config, const GuestPlan& plan, const Topology& host,
                          const PvePatchOptions& options = {});

// A shared guest of a whole-host plan: only affinity: changes, to `cpus` (the
// pool every thread of the VM floats over). Throws PveConfigError when
// [PENDING] changes affinity.
PvePatch patch_pve_affinity(const PveConfig& config, const CpuSet& cpus);

// The config of a running VM with the patch as qemu-server's `qm set` records it:
// hookscript: in the current section (qemu-server applies it at once), every other
// change in [PENDING] (values; removals as `delete:`), for the next start.
std::string pve_pending_text(const PveConfig& config, const PvePatch& patch);

// The `qm set` command that makes the same change as `patch` (qemu-server then puts
// what it cannot change live into [PENDING] itself): "qm set 101 --affinity 2-9 ...".
std::string pve_qm_set_command(unsigned vmid, const PvePatch& patch);

// What a Proxmox user should do beyond what the patch writes, in place of the
// plan's libvirt advice: CPU type, host isolation (the hookscript's
// --confine-host or kernel parameters), interrupts, hugepages, disks without
// an I/O thread, GPUs given as cluster mappings.
struct PveAdviceContext {
  bool confine_host = false;  // the hookscript confines the host (--confine-host)
  bool hugepages_set = false; // the patch sets hugepages: (--hugepages)
};
std::vector<std::string> pve_advice(const PveConfig& config, const Plan& plan, const Topology& host,
                                    const PveAdviceContext& context);

// The "-smp ..." value vpt-tune writes into args: for a guest topology;
// `maxcpus` (default: the topology's vCPUs) is more where vcpus: keeps some
// vCPUs for hot-plugging, and sets the cores per die.
std::string pve_smp_value(const GuestTopology& topology, std::optional<unsigned> maxcpus = std::nullopt);

// Splits args: like qemu-server (Text::ParseWords::shellwords): words split
// at unquoted blanks, '...' and "..." quoting, backslash escapes.
// Each word keeps where it stands in `args` ([begin, end) byte offsets).
// Throws std::invalid_argument for a quote left open or a final backslash,
// where shellwords returns no words at all (qemu-server then passes none of
// args: to QEMU); parse_pve_config refuses such an args: line.
struct ArgsWord {
  std::string text;
  std::size_t begin = 0, end = 0;
};
std::vector<ArgsWord> split_pve_args(std::string_view args);

}  // namespace vpt
