// The optimizer's entry point: Topology + Request -> Plan.
#pragma once

#include <stdexcept>

#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "probe/topology.hpp"

namespace vpt {

// An impossible or malformed request (too many vCPUs, unknown GPU, ...).
// what() is one line for the user and says what would work instead.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SearchLimits {
  // Exact search enumerates equivalence classes of cores; above this many
  // candidate layouts it switches to the heuristic with local improvement.
  std::size_t max_exact_candidates = 200'000;
};

// The CPUs set aside for guests: `requested` (--isolated) and the live host's
// isolcpus= and nohz_full=, limited to its online CPUs.
CpuSet isolated_cpus(const Topology& topo, const CpuSet& requested);
// "CPU 3" or "CPUs 3-5": a set named in a sentence.
std::string cpu_list_phrase(const CpuSet& cpus);

// Throws RequestError.
Plan make_plan(const Topology& topo, const Request& request, const SearchLimits& limits = {});

}  // namespace vpt
