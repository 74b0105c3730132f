// Topology: the host model every other module works from.
//
// A plain value, whatever the source (live host through hwloc, an hwloc XML
// export, or pasted `lscpu -e` text). CPUs are named by their OS index, the
// number libvirt's cpuset="..." uses. Everything the source did not say is
// std::nullopt or an empty list, never a guess.
//
// Lookups are free functions below the types (like hwloc's helper.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cpuset.hpp"

namespace vpt {

enum class TopologySource { LiveHost, HwlocXml, LscpuText };
std::string_view to_string(TopologySource source);

enum class CacheType { Unified, Data, Instruction };

// One cache instance and the exact CPUs sharing it.
struct Cache {
  int level = 0;                          // 1, 2, 3 (4 where a machine has one)
  CacheType type = CacheType::Unified;
  unsigned index = 0;                     // unique among caches of the same level and type,
                                          // numbered in order of their first CPU
  std::optional<std::uint64_t> size_bytes;
  CpuSet cpus;

  bool operator==(const Cache&) const = default;
};

// A kind of core (hwloc cpukinds): Intel P/E, ARM big/LITTLE, AMD Zen5/Zen5c.
// Kinds are ordered from the most efficient (rank 0) to the most performant.
struct CoreKind {
  unsigned rank = 0;                      // index in Topology::kinds; higher = more performant
  std::string name;                       // "P-core", "E-core", "Cortex-X925", "performance", ...
  CpuSet cpus;
  std::optional<unsigned> max_mhz;        // highest max frequency among merged kinds
  std::optional<unsigned> linux_capacity; // Linux's cpu_capacity, 1024 = the biggest core
  std::string core_type;                  // hwloc's CoreType / CPUPart info, "" when unknown

  bool operator==(const CoreKind&) const = default;
};

struct Core {
  unsigned index = 0;                     // machine-wide, in order of first CPU
  CpuSet cpus;                            // its hardware threads (SMT siblings)
  unsigned package = 0;                   // Package::os_index
  unsigned kind = 0;                      // CoreKind::rank

  bool operator==(const Core&) const = default;
};

struct LogicalCpu {
  unsigned os_index = 0;                  // libvirt cpuset number
  unsigned core = 0;                      // Core::index
  unsigned package = 0;                   // Package::os_index
  std::optional<unsigned> numa;           // NumaNode::os_index
  std::optional<unsigned> l1d, l1i, l2, l3;  // Cache::index at that level; nullopt = none or unknown
  unsigned kind = 0;                      // CoreKind::rank

  bool operator==(const LogicalCpu&) const = default;
};

struct Package {
  unsigned os_index = 0;
  CpuSet cpus;
  std::string cpu_model;                  // "AMD EPYC 9654 96-Core Processor", "" when unknown

  bool operator==(const Package&) const = default;
};

struct NumaNode {
  unsigned os_index = 0;                  // the number numatune nodeset="..." uses
  CpuSet cpus;
  std::optional<std::uint64_t> memory_bytes;

  bool operator==(const NumaNode&) const = default;
};

// A PCI device a user may pass through or that does I/O for a guest.
struct PciDevice {
  enum class Class { Gpu, Nvme, Network, Storage, Accelerator, Other };
  std::string address;                    // "0000:01:00.0"
  Class device_class = Class::Other;
  std::uint16_t vendor_id = 0, device_id = 0;
  std::string name;                       // vendor/device name where the source had it
  std::vector<std::string> os_devices;    // "eth0", "nvme0n1", "cuda0", ...
  CpuSet local_cpus;                      // CPUs close to the device (empty when unknown)
  std::optional<unsigned> numa;           // nearest NUMA node
  std::optional<unsigned> iommu_group;    // live host only

  bool operator==(const PciDevice&) const = default;
};
std::string_view to_string(PciDevice::Class device_class);

struct HugepagePool {
  std::uint64_t page_bytes = 0;
  std::optional<unsigned> numa;           // nullopt = the system-wide pool
  std::uint64_t total = 0, free = 0;

  bool operator==(const HugepagePool&) const = default;
};

// How a CPU's frequency is chosen (cpufreq).
struct CpuFrequencyPolicy {
  std::string driver;                     // scaling_driver: "intel_pstate", "amd-pstate-epp", "acpi-cpufreq"
  std::string governor;                   // scaling_governor: "performance", "powersave", "schedutil"
  std::string epp;                        // energy_performance_preference; "" when the driver has none

  bool operator==(const CpuFrequencyPolicy&) const = default;
};

// One interrupt line (/proc/irq/N, /sys/kernel/irq/N).
struct IrqLine {
  unsigned irq = 0;
  std::string actions;                    // its handlers: "nvme0q1", "vfio-msix[0](0000:01:00.0)"; "" = unused
  CpuSet affinity;                        // smp_affinity_list: the CPUs it may be delivered to
  std::optional<bool> managed;            // affinity managed by the kernel (debugfs); nullopt = unknown
  std::string device;                     // PCI address whose MSI or INTx line it is; "" = none known

  bool operator==(const IrqLine&) const = default;
};

// A running irqbalance daemon.
struct IrqbalanceDaemon {
  int pid = 0;
  // IRQBALANCE_BANNED_CPULIST (or _CPUS) in its environment; nullopt = not
  // set, when irqbalance bans the isolcpus= and nohz_full= CPUs (irqbalance(1)).
  std::optional<CpuSet> banned;

  bool operator==(const IrqbalanceDaemon&) const = default;
};

// What the running kernel was told; known only for the live host.
struct HostState {
  bool known = false;                     // false for XML / lscpu sources
  CpuSet isolcpus;                        // isolcpus= (domain/managed_irq flags dropped)
  bool isolcpus_managed_irq = false;      // isolcpus=managed_irq,...
  CpuSet nohz_full;
  std::optional<bool> smt_active;         // /sys/devices/system/cpu/smt/active
  std::vector<HugepagePool> hugepages;
  std::string kernel;                     // uname release
  std::string hostname;
  std::map<unsigned, CpuFrequencyPolicy> cpufreq;  // CPU -> policy; empty without cpufreq
  std::string thp_enabled, thp_defrag;    // transparent hugepages: "always", "madvise", "never"; "" = unknown
  std::optional<std::uint64_t> kvm_halt_poll_ns;  // /sys/module/kvm/parameters; nullopt = kvm not loaded
  std::optional<IrqbalanceDaemon> irqbalance;     // nullopt = not running
  std::vector<IrqLine> irqs;              // sorted by number
  std::vector<std::string> libvirt_qemu_hooks;    // "qemu" and the files of qemu.d/ in /etc/libvirt/hooks

  bool operator==(const HostState&) const = default;
};

struct Topology {
  TopologySource source = TopologySource::LiveHost;
  std::string source_name;                // file path, "-" for stdin, "this host"
  std::string cpu_model;                  // first package's model, "" when unknown
  std::string cpu_vendor;                 // "GenuineIntel", "AuthenticAMD", "" when unknown
  std::optional<unsigned> cpu_family;     // x86 family (25 = AMD Zen 3/4, 26 = Zen 5), nullopt when unknown
  std::vector<std::string> cpu_flags;     // feature flags (lscpu's Flags:, /proc/cpuinfo), sorted; empty = unknown

  std::vector<LogicalCpu> cpus;           // online CPUs, sorted by os_index
  CpuSet offline_cpus;                    // listed by the source but offline
  std::vector<Core> cores;                // sorted by index
  std::vector<Package> packages;          // sorted by os_index
  std::vector<NumaNode> numa_nodes;       // sorted by os_index
  // numa_distances[i][j]: relative latency from numa_nodes[i] to numa_nodes[j]
  // (10 = local, as in ACPI SLIT). Empty when the source had none.
  std::vector<std::vector<double>> numa_distances;
  std::vector<Cache> caches;              // all levels, sorted by (level, type, index)
  std::vector<CoreKind> kinds;            // at least one; sorted by rank
  std::vector<PciDevice> pci;
  HostState host;

  // Problems with what the source said, in words for the user ("no cache
  // information: sharing unknown"). The model never invents what is missing.
  std::vector<std::string> warnings;

  bool operator==(const Topology&) const = default;
};

// ---- Lookups --------------------------------------------------------------

const LogicalCpu* find_cpu(const Topology& topo, unsigned os_index);
// The PCI device at `address` ("0000:01:00.0", or "01:00.0" in domain 0, any
// case), nullptr when the host model lacks it.
const PciDevice* find_pci(const Topology& topo, std::string_view address);
CpuSet all_cpus(const Topology& topo);          // online CPUs
CpuSet smt_siblings(const Topology& topo, unsigned os_index);  // CPUs of its core, itself included
std::vector<const Cache*> caches_at_level(const Topology& topo, int level);  // data/unified only
// CPUs that share cache `level` with `os_index` (itself included); empty when unknown.
CpuSet cpus_sharing_cache(const Topology& topo, unsigned os_index, int level);
// Cache instances of `level` shared by more than one core: L2 clusters (Intel
// E-cores, Bulldozer modules, KNL tiles) and L3 groups (AMD CCX/CCD).
std::vector<const Cache*> multi_core_caches(const Topology& topo, int level);
// Largest cache level known on this machine (0 when none).
int deepest_cache_level(const Topology& topo);
unsigned threads_per_core_max(const Topology& topo);
bool has_smt(const Topology& topo);
bool is_amd(const Topology& topo);
// Whether the CPU has feature flag `flag` ("topoext"); nullopt when the source
// listed no flags (hwloc exports, `lscpu -e` alone).
std::optional<bool> has_cpu_flag(const Topology& topo, std::string_view flag);

// AMD 3D V-Cache (X3D parts, Milan-X, Genoa-X): 64 MiB of SRAM stacked on a
// CCD's 32 MiB L3, so a V-Cache CCD has 96 MiB while a plain Zen CCD or CCX
// has at most 32 MiB. Recognised by that absolute size, never as "the larger
// L3": a Ryzen AI 9 HX 370's 16 MiB Zen 5 L3 beside its 8 MiB Zen 5c one is no
// V-Cache, and some parts stack it on every CCD (docs/optimizer-notes.md).
inline constexpr std::uint64_t kVCacheMinL3Bytes = std::uint64_t{64} << 20;
bool is_vcache_l3(const Topology& topo, const Cache& l3);
// The V-Cache L3s (empty when none, or when the source gave no L3 sizes).
std::vector<const Cache*> vcache_l3s(const Topology& topo);
// Whether the source gave the size of every L3 (hwloc always does; `lscpu -e`
// only with the sysfs sizes pasted beside it).
bool l3_sizes_known(const Topology& topo);
// "1 P-core", "8 P-cores", "4 performance cores", "2 Cortex-X925 cores",
// "12 cores" (a kind named "core"): `count` cores of kind rank `kind`, for text.
std::string count_of_cores(const Topology& topo, unsigned kind, unsigned count);
// The same without the count: "P-cores", "performance cores", "cores".
std::string cores_of_kind(const Topology& topo, unsigned kind, unsigned count = 2);
// The machine the model describes, for messages: "this host" (probed live),
// "the pasted machine" (read from standard input), "the machine in 'FILE'".
std::string machine_words(const Topology& topo);

// The largest host vpt-tune models: planning is quadratic in CPUs (4096 CPUs
// take 0.4 s and 280 MB to plan, 16384 take 19 s and 4 GB), and no Linux
// build runs more than 8192 (x86 MAXSMP) on hosts anyone passes a GPU through on.
inline constexpr unsigned kMaxCpus = 4096;

// Fills the derived fields (LogicalCpu cache/core/kind indices, Core::kind) from
// cores, caches and kinds, renumbers caches and cores in order of their first
// CPU, and checks the model is consistent (at most kMaxCpus CPUs). Sources call it last.
// Throws std::runtime_error describing an inconsistency.
void finish_topology(Topology& topo);

}  // namespace vpt
