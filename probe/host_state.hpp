// Live-host state that matters for pinning, read from /proc and /sys.
// Internal to probe/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "probe/topology.hpp"

namespace vpt {

HostState read_host_state();
CpuSet read_offline_cpus();
std::optional<unsigned> read_iommu_group(const std::string& pci_address);

// isolcpus= and nohz_full= from a kernel command line. isolcpus flags
// (domain, nohz, managed_irq) are skipped; unparsable lists are left empty.
struct KernelCpuLists {
  CpuSet isolcpus;
  CpuSet nohz_full;
};
KernelCpuLists parse_kernel_cmdline(std::string_view cmdline);

}  // namespace vpt
