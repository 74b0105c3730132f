// Resolving a request before the search: the defaults a user left out (vCPU
// counts, the host's reserve, the guest's core kind), the CPUs guests may use
// (--exclude, isolated CPUs), and which L3 groups a guest could have to
// itself. Also the few facts the plan's prose (explain.cpp) asks again.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.hpp"
#include "optimizer/request.hpp"
#include "optimizer/search.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Defaults filled in, usable and isolated CPUs worked out. Throws RequestError
// for a request that cannot be met, naming what would work.
ResolvedRequest resolve(const Topology& topo, const Request& request);

// The most vCPUs that fit on `usable` while the host keeps `reserve` cores.
unsigned max_vcpus(const Topology& topo, const CpuSet& usable, unsigned reserve);
// The core kind (CoreKind::rank) a guest with this preference gets.
unsigned wanted_kind(const Topology& topo, Preference prefer);

// An L3 whose cores are all usable, of one kind and size, on one node and
// package: a block a guest can have to itself.
struct CleanGroup {
  const Cache* l3;
  unsigned cores, threads, kind;
  std::optional<unsigned> node;
  unsigned package;
};
std::vector<CleanGroup> clean_l3_groups(const Topology& topo, const CpuSet& usable);
// "CCXs (L3 groups)" on AMD, where every L3 is one core complex; "L3 groups"
// elsewhere; singular for count 1.
std::string l3_groups_word(const Topology& topo, std::size_t count = 2);

// The NUMA nodes `cpus` lie on.
CpuSet numa_nodes_of(const Topology& topo, const CpuSet& cpus);
// The node whose memory a guest running on `node` is bound to: the node
// itself, or for a node without memory (memory_bytes 0: a CPU-only node) the
// nearest node that has some (by the distances, else the lowest number).
unsigned memory_node_of(const Topology& topo, unsigned node);

}  // namespace vpt
