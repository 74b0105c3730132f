// The optimizer's entry point: Topology + Request -> Plan.
#pragma once

#include <stdexcept>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Options that would make a refused request work, for the CLI to turn into
// the next command: the user's own command line with these options set
// ("--vcpus 2 --reserve 0"), followed by `effect` ("plans anyway (...)").
struct RetryOptions {
  std::vector<std::pair<std::string, std::string>> set;  // option, value
  std::string effect;
};

// An impossible or malformed request (too many vCPUs, unknown GPU, ...).
// what() is one line for the user and says what would work instead; where
// other option values would work, retry() names them.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  RequestError(const std::string& message, RetryOptions retry)
      : std::runtime_error(message), retry_(std::move(retry)) {}
  const RetryOptions& retry() const { return retry_; }

 private:
  RetryOptions retry_;
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
// The memory a guest's plan binds to host NUMA nodes (its NUMA cells, or the
// one node of its numatune), by node; empty when it binds none or the guest's
// memory is unknown.
std::map<unsigned, std::uint64_t> bound_memory(const GuestPlan& plan, const GuestRequest& guest);

// Throws RequestError.
Plan make_plan(const Topology& topo, const Request& request, const SearchLimits& limits = {});

}  // namespace vpt
