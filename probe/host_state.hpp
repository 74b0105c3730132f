// Live-host state that matters for pinning, read from /proc and /sys.
// Internal to probe/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "probe/topology.hpp"

namespace vpt {

// Where the live host's files are; tests point these at a fake tree.
struct HostPaths {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string etc = "/etc";
};

// Kernel command line, SMT, hugepage pools, cpufreq, transparent hugepages,
// KVM halt polling, IRQs and their affinity, irqbalance and libvirt's qemu
// hooks. What cannot be read stays empty / nullopt.
HostState read_host_state(const HostPaths& paths = {});
CpuSet read_offline_cpus();
std::optional<unsigned> read_iommu_group(const std::string& pci_address);

// isolcpus= and nohz_full= from a kernel command line. isolcpus flags
// (domain, nohz, managed_irq) are skipped; unparsable lists are left empty.
struct KernelCpuLists {
  CpuSet isolcpus;
  CpuSet nohz_full;
  bool isolcpus_managed_irq = false;  // the managed_irq flag of isolcpus=
};
KernelCpuLists parse_kernel_cmdline(std::string_view cmdline);

// A CPU mask as /proc and irqbalance write it: hex, 32-bit groups separated
// by commas, highest first ("ff000000,00000001" = CPUs 0 and 56-63).
// Unparsable text gives an empty set.
CpuSet parse_cpu_mask(std::string_view hex);

}  // namespace vpt
