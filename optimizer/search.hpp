// The plan search: which whole cores each guest gets.
//
// Units are whole cores (a guest never shares a core with the host or another
// guest); the helpers then go where the model says they cost least
// (materialize), so a choice of cores determines the whole layout and its
// cost. Two searches over that space:
//   exact      enumerates equivalence classes of cores (same kind, threads,
//              L2 cluster, L3, NUMA node, package: interchangeable), provably
//              optimal under the model; used when the space is small enough;
//   heuristic  greedy construction by marginal cost, then swaps of cores
//              between guests and host while the cost drops (delta-evaluated),
//              then passes with the helpers held where they were placed, so
//              that the swaps weigh them too.
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
  CpuSet usable;                        // CPUs guests may use (allowed - excluded, inside `isolated` where it fits)
  CpuSet isolated;                      // the kernel's isolated CPUs: not the host's, never a helper's
  CpuSet no_helpers;                    // CPUs helpers never get: excluded | isolated
  std::string isolation_note;           // how the isolated CPUs were used, "" when there are none
  bool isolation_too_small = false;     // the guests did not fit inside them (the note is a warning)
  std::vector<std::string> auto_notes;  // per guest: how --vcpus auto chose its count ("" = given)
};

// The heuristic's bookkeeping: which guest owns each core, and running sums
// that give the change of the layout's cost when one core moves, without
// evaluating the whole layout: the vCPU terms (host-guest and guest-guest
// sharing, a guest's L3/NUMA/kind splits, placement) and, once helpers are
// held where place_helpers put them, the helpers' terms against the vCPUs
// (sharing and distance, both linear in the vCPU set; stacking does not
// change while the helpers stay), and the node bandwidth between guests
// (share_node). Left out: the presented topology and the memory bound beyond
// a node's size, which the block swaps and the exact search weigh in full.
class CoreOwnership {
 public:
  static constexpr int kHost = -1;    // owner of the cores no guest has
  static constexpr int kHelper = -2;  // a core dedicated helpers took: neither the host's nor a guest's
  CoreOwnership(const Topology& topo, const CostModel& model, std::size_t guests);

  // One emulator or I/O thread of `guest`, pinned to the CPU positions `at`.
  struct HeldHelper {
    std::size_t guest = 0;
    std::vector<std::size_t> at;
  };
  // Holds these helpers fixed: their sharing with every vCPU and their
  // distance to their guest's vCPUs join the deltas; `dedicated` cores (the
  // host's before) become kHelper. Replaces the helpers held before.
  void hold_helpers(const std::vector<HeldHelper>& helpers, const std::vector<unsigned>& dedicated);
  // A held helper runs on the core: it stays out of the moves.
  bool holds_helper(unsigned core) const { return holds_helper_[core]; }

  // Change of the cost if `core` (now the host's) joins guest k, or (now
  // guest k's) goes back to the host.
  double delta_add(std::size_t k, unsigned core) const;
  double delta_remove(std::size_t k, unsigned core) const;
  void move(unsigned core, int from, int to);

  int owner(unsigned core) const { return owner_[core]; }
  unsigned threads(std::size_t k) const { return threads_[k]; }
  const std::vector<unsigned>& cores_of(std::size_t k) const { return cores_of_[k]; }
  unsigned core_threads(unsigned core) const { return static_cast<unsigned>(pos_[core].size()); }
  // Cores no guest owns (the host's and the dedicated helpers').
  unsigned host_core_count() const;
  // Sharing (or split) summed over the CPU pairs of two cores.
  double cross(unsigned a, unsigned b, bool split) const;

 private:
  double inner_share(unsigned core) const;
  double inner_split(unsigned core) const;
  // What one vCPU of guest k on CPU position i costs against the held helpers.
  double helper_terms(std::size_t k, std::size_t i) const { return helper_share_[i] + helper_far_[k][i]; }
  // What one vCPU of guest k on CPU position i costs against the other guests' vCPUs on its node (share_node).
  double node_terms(std::size_t k, std::size_t i) const;

  const CostModel& model_;
  std::size_t n_;
  std::vector<int> owner_;                       // per core: guest index, kHost or kHelper
  std::vector<std::vector<std::size_t>> pos_;    // per core: its CPUs' matrix positions
  std::vector<double> host_;                     // per CPU: sharing summed over the host's CPUs
  std::vector<std::vector<double>> guest_;       // per guest, per CPU: sharing summed over its CPUs
  std::vector<double> every_guest_;              // per CPU: guest_ summed over all guests
  std::vector<std::vector<double>> split_;       // per guest, per CPU: split_cost summed over its CPUs
  std::vector<unsigned> threads_;                // per guest: CPUs owned
  std::vector<std::vector<unsigned>> cores_of_;  // per guest: cores owned
  std::vector<double> helper_share_;             // per CPU: a vCPU there, its helper_cost sharing summed over helpers
  std::vector<std::vector<double>> helper_far_;  // per guest, per CPU: helper_cost off_node of its helpers
  std::vector<bool> holds_helper_;               // per core
  std::vector<int> node_of_;                     // per CPU: index in Topology::numa_nodes, -1 = unknown
  std::vector<std::vector<double>> on_node_;     // per guest, per node: its CPUs there
  std::vector<double> every_on_node_;            // per node: on_node_ summed over all guests
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
  ThreadPlacement materialize(const CoreChoice& choice) const;
  double cost(const CoreChoice& choice) const { return model_.total(materialize(choice)); }

  // Exact search; nullopt when the class space exceeds max_candidates.
  std::optional<CoreChoice> exact(std::size_t max_candidates) const;
  CoreChoice heuristic() const;
  // No layout of this request can cost less (pairwise terms are >= 0).
  double lower_bound() const;

 private:
  // What guest k's vCPUs pay at least on `cores`: the placement costs of the
  // cheapest of their CPUs, one vCPU each.
  double guest_bound(std::size_t k, const std::vector<unsigned>& cores) const;
  void place_helpers(ThreadPlacement& layout) const;
  void balance_nodes(CoreChoice& choice, std::size_t guest) const;
  // The improvement pass at package, node, L3 and L2-cluster granularity:
  // exchanges the contents (every guest's cores and the host's) of two blocks
  // of the same shape while that lowers the cost (`cost` is choice's). The
  // core moves see one core at a time, so a guest on nodes 0-1 never reaches
  // the equal nodes 2-3 that leave CPU 0 alone (2x EPYC 7451, 24 vCPUs), nor
  // hands KNL's CPU 0 tile back whole.
  void swap_blocks(CoreChoice& choice, double cost) const;
  // Single core swaps scored by the full cost, on hosts small enough for it
  // (~4e6 CPU-pair operations a round): the deltas leave out the presented topology,
  // so a 3 + 5 split across two L3s never became 4 + 4 (DGX GB10, 8 vCPUs).
  void polish(CoreChoice& choice) const;

  const Topology& topo_;
  const ResolvedRequest& resolved_;
  const CostModel& model_;
  std::vector<unsigned> usable_cores_;
  std::vector<std::vector<unsigned>> classes_;  // interchangeable usable cores, ascending index
};

}  // namespace vpt
