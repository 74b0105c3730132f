// Request: what the user asks the optimizer for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/weights.hpp"
#include "common/cpuset.hpp"

namespace vpt {

// Where QEMU's emulator thread and I/O threads run.
enum class HelperPlacement {
  Shared,     // on the CPUs the host keeps (default; docs/optimizer-notes.md)
  Dedicated,  // on CPUs of their own, kept off the host and the guests
};

// Which core kind or L3 a guest's vCPUs should get.
enum class Preference {
  Performance,  // the most performant core kind (P-cores on hybrid hosts)
  Efficiency,   // the most efficient kind (E-cores)
  VCache,       // the L3s with 3D V-Cache (X3D parts, probe/topology.hpp)
};

struct GuestRequest {
  std::string name = "guest";
  std::optional<unsigned> vcpus;       // nullopt = auto: the largest clean set
  unsigned iothreads = 1;
  HelperPlacement helpers = HelperPlacement::Shared;
  Preference prefer = Preference::Performance;
  std::optional<std::string> gpu;      // PCI address: keep the guest on its NUMA node
  std::optional<std::uint64_t> memory_bytes;  // the guest's memory, to size NUMA cells (nullopt = unknown)
  bool hugepages = false;              // its memory is already backed by hugepages: no advice to add them
  std::vector<std::string> notes;      // said with the plan: why the request differs from what was asked
};

struct Request {
  std::vector<GuestRequest> guests;    // at least one
  // Whole cores the host keeps. nullopt = the default rule: at least two
  // cores and never less than one whole L2 group. 0 = the host keeps nothing
  // of its own (tiny hosts; the plan then warns about sharing).
  std::optional<unsigned> reserve_cores;
  CpuSet allowed;                      // --cpus: only these CPUs (empty = all online)
  CpuSet excluded;                     // --exclude: never these CPUs (vCPUs nor helpers)
  // The kernel's isolated CPUs (isolcpus=/nohz_full=, or --isolated offline),
  // besides the live host's own (Topology::host): what the user set aside for
  // guests. vCPUs go inside where they fit; the host and helpers stay outside.
  CpuSet isolated;
  Weights weights;
};

}  // namespace vpt
