// The plan search: which whole cores each guest gets.
//
// Units are whole cores (a guest never shares a core with the host or another
// guest); the helpers' placement follows from the guests' cores by a fixed
// rule (materialize), so a choice of cores determines the whole layout and
// its cost. Two searches over that space:
//   exact      enumerates equivalence classes of cores (same kind, threads,
//              L2 cluster, L3, NUMA node, package: interchangeable), provably
//              optimal under the model; used when the space is small enough;
//   heuristic  greedy construction by marginal cost, then swaps of cores
//              between guests and host while the cost drops (delta-evaluated).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "optimizer/cost_model.hpp"

namespace vpt {

struct CoreChoice {
  std::vector<std::vector<unsigned>> guest_cores;  // Core::index per guest
  friend bool operator==(const CoreChoice&, const CoreChoice&) = default;
};

// The request after defaults are resolved: concrete vCPU counts and reserve.
struct ResolvedRequest {
  Request request;                      // guests[i].vcpus all set
  unsigned reserve_cores = 0;           // whole cores the host keeps, at least
  CpuSet usable;                        // CPUs guests may use (allowed - excluded)
  std::vector<std::string> auto_notes;  // per guest: how --vcpus auto chose its count ("" = given)
};

class Search {
 public:
  Search(const Topology& topo, const ResolvedRequest& resolved, const CostModel& model);

  // Cores guests may take: every CPU usable.
  const std::vector<unsigned>& usable_cores() const { return usable_cores_; }
  // Every guest has enough threads, minimally; cores distinct and usable; the
  // host keeps its reserve.
  bool feasible(const CoreChoice& choice) const;
  // The whole layout a choice implies: vCPU order, guest topology, helpers, host.
  Layout materialize(const CoreChoice& choice) const;
  double cost(const CoreChoice& choice) const { return model_.total(materialize(choice)); }

  // Exact search; nullopt when the class space exceeds max_candidates.
  std::optional<CoreChoice> exact(std::size_t max_candidates) const;
  CoreChoice heuristic() const;
  // No layout of this request can cost less (pairwise terms are >= 0).
  double lower_bound() const;

 private:
  void place_helpers(Layout& layout) const;
  void balance_nodes(CoreChoice& choice, std::size_t guest) const;

  const Topology& topo_;
  const ResolvedRequest& resolved_;
  const CostModel& model_;
  std::vector<unsigned> usable_cores_;
  std::vector<std::vector<unsigned>> classes_;  // interchangeable usable cores, ascending index
};

}  // namespace vpt
