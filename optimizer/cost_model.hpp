// The cost model: how much a layout of guests, helpers (QEMU's emulator and
// I/O threads) and host on the CPUs costs, term by term.
//
// Built once per (Topology, Request) from the weights in weights.hpp. Inside,
// CPU x CPU matrices (Eigen) hold the pairwise costs: sharing (same core /
// L2 / L3) between different parties, and splitting (different L3 / NUMA node
// / core kind) within one guest. Eigen stays in cost_model.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Who runs on the CPUs: the raw material of a Plan before it gets words.
struct ThreadPlacement {
  CpuSet host;                        // the host's CPUs (shared helpers run here too)
  struct Guest {
    std::vector<unsigned> vcpus;      // host CPU of each vCPU
    CpuSet emulator;
    std::vector<CpuSet> iothreads;
    GuestTopology topology;
    CpuSet helper_cpus() const {
      CpuSet set = emulator;
      for (const CpuSet& io : iothreads) set |= io;
      return set;
    }
  };
  std::vector<Guest> guests;
};

// A guest's vCPUs grouped by the host NUMA node they run on, in vCPU order
// (the search orders vCPUs by package, then node, so each node is one run).
// One span with node nullopt when the host does not say where its CPUs are.
struct NodeSpan {
  std::optional<unsigned> node;          // NumaNode::os_index
  std::vector<unsigned> vcpu_indices;    // positions in ThreadPlacement::Guest::vcpus
};
std::vector<NodeSpan> node_spans(const Topology& topo, const std::vector<unsigned>& vcpus);

// Names of the score terms, in the order Score::terms lists them.
namespace term {
inline constexpr const char* kHostGuestSharing = "host_guest_sharing";
inline constexpr const char* kGuestGuestSharing = "guest_guest_sharing";
inline constexpr const char* kHelperSharing = "helper_guest_sharing";
inline constexpr const char* kHelperOffNode = "helper_off_node";
inline constexpr const char* kHelperStacking = "helper_stacking";
inline constexpr const char* kSplitL3 = "guest_split_l3";
inline constexpr const char* kSplitNuma = "guest_split_numa";
inline constexpr const char* kMixedKinds = "guest_mixed_kinds";
inline constexpr const char* kHiddenSmt = "guest_hidden_smt";
inline constexpr const char* kTopologyMismatch = "guest_topology_mismatch";
inline constexpr const char* kCapacity = "guest_capacity";
inline constexpr const char* kGpuLocality = "guest_gpu_locality";
inline constexpr const char* kBootCpu = "guest_boot_cpu";
inline constexpr const char* kNodeSharing = "guest_node_sharing";
inline constexpr const char* kMemoryOverflow = "node_memory_overflow";
}  // namespace term

class CostModel {
 public:
  // Throws RequestError (optimizer.hpp) for a --gpu address the host lacks.
  CostModel(const Topology& topo, const Request& request);
  ~CostModel();
  CostModel(CostModel&&) noexcept;
  CostModel& operator=(CostModel&&) noexcept;

  Score evaluate(const ThreadPlacement& layout) const;
  double total(const ThreadPlacement& layout) const { return evaluate(layout).total; }
  // GiB of guest memory the layout binds to NUMA nodes beyond their size
  // (guests with a known memory, split over their nodes by vCPUs; 0 where
  // node sizes are unknown).
  double memory_overflow_gib(const ThreadPlacement& layout) const;

  // Position of a CPU in the model's matrices (= index in Topology::cpus).
  std::size_t position(unsigned os_index) const;
  std::size_t cpu_count() const;
  // What two CPUs share, the closest level first (the same CPU is the same core).
  enum class Shared : unsigned char { Nothing, L3, L2, Core };
  Shared shared(std::size_t a, std::size_t b) const;
  // Pairwise sharing cost between two CPUs: the weight of what they share, 0 if none.
  double sharing(std::size_t a, std::size_t b) const;
  // The cost of one emulator or I/O thread pinned to the CPU positions `at`
  // (it runs on one of them at a time) for the vCPUs it serves at positions
  // `served`: helper_share_factor x its sharing with every vCPU (the mean over
  // `at` of `vcpu_sharing`, each CPU's summed sharing with all vCPUs) plus
  // helper_off_node x the distance from its nearest CPU to each served vCPU.
  // The one formula for helpers: evaluate() and the search both use it.
  struct HelperCost {
    double sharing = 0;
    double off_node = 0;
    double total() const { return sharing + off_node; }
  };
  HelperCost helper_cost(const std::vector<std::size_t>& at, const std::vector<double>& vcpu_sharing,
                         const std::vector<std::size_t>& served) const;
  // The same cost split by vCPU: for each CPU position v, what one vCPU there
  // adds to `sharing` (a vCPU of any guest) and to `off_node` (a vCPU the
  // thread serves). helper_cost is the sum of these over the vCPUs; the
  // heuristic's delta evaluation adds them one core at a time.
  std::vector<HelperCost> helper_cost_by_vcpu(const std::vector<std::size_t>& at) const;
  // For each CPU position, its sharing() summed over the vCPUs of `layout`.
  std::vector<double> vcpu_sharing(const ThreadPlacement& layout) const;
  // Cost of putting one vCPU of `guest` on CPU position `pos`: capacity + GPU
  // locality + the boot CPU's core.
  double placement_cost(std::size_t guest, std::size_t pos) const;
  // Distance factor between the NUMA nodes of two CPU positions: 0 on one
  // node (or unknown), distance/10 - 1 otherwise (1 at the usual 20).
  double numa_factor(std::size_t a, std::size_t b) const;
  // Cost for one guest of having vCPUs at positions a and b: L3/NUMA split + kind mixing.
  double split_cost(std::size_t a, std::size_t b) const;
  // For each CPU, the sum of sharing() with every CPU (itself included).
  std::vector<double> sharing_row_sums() const;
  const Weights& weights() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vpt
