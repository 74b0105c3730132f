#include "optimizer/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "optimizer/optimizer.hpp"
#include "optimizer/resolve.hpp"

namespace vpt {

struct CostModel::Impl {
  const Topology* topo = nullptr;
  Weights weights;
  std::size_t n = 0;
  // What each pair of CPUs shares (Shared, as a byte): the weights turn it
  // into `share`, so a weight per level is one field and one line.
  Eigen::Matrix<unsigned char, Eigen::Dynamic, Eigen::Dynamic> level;
  Eigen::MatrixXd share;   // between different parties; diagonal = same CPU
  Eigen::MatrixXd split;   // within one guest: L3 split + NUMA split + kind mixing
  Eigen::MatrixXd capacity;  // guests x CPUs: kind / vcache preference
  Eigen::MatrixXd gpu;       // guests x CPUs: off the GPU's NUMA node
  std::vector<double> boot;  // per CPU: boot_cpu when it is on the core of CPU 0
  std::vector<std::optional<std::uint64_t>> memory;  // per guest: its memory, where known
  std::vector<unsigned> os_of;  // position -> os index
  std::map<unsigned, std::size_t> pos_of;

  Impl(const Topology& t, const Request& request) : topo(&t), weights(request.weights), n(t.cpus.size()) {
    for (std::size_t i = 0; i < n; ++i) {
      os_of.push_back(t.cpus[i].os_index);
      pos_of[t.cpus[i].os_index] = i;
    }
    for (const GuestRequest& guest : request.guests) memory.push_back(guest.memory_bytes);
    build_pair_matrices();
    build_placement_costs(request);
    // The boot CPU's core costs boot_cpu; on a host with several L3s, the
    // rest of its L3 a quarter of that: the host's own work gathers around
    // CPU 0 (its reserve, timekeeping, interrupts by default), so between
    // plans that are otherwise equal a guest takes another L3.
    boot.assign(n, 0.0);
    if (const LogicalCpu* cpu0 = find_cpu(t, 0)) {
      const bool several_l3 = caches_at_level(t, 3).size() > 1;
      for (std::size_t i = 0; i < n; ++i) {
        if (t.cpus[i].core == cpu0->core) boot[i] = weights.boot_cpu;
        else if (several_l3 && cpu0->l3 && t.cpus[i].l3 == cpu0->l3) boot[i] = weights.boot_cpu / 4;
      }
    }
  }

  // Per-CPU group indices; the split terms are counted from these groups.
  std::vector<int> l3_of, numa_of, kind_of;  // -1 = unknown
  bool l3_known = false;
  std::vector<std::vector<double>> numa_factor;  // by numa_nodes position

  void build_pair_matrices() {
    const Weights& w = weights;
    l3_of.resize(n);
    numa_of.resize(n);
    kind_of.resize(n);
    const std::size_t nodes = topo->numa_nodes.size();
    // split_numa per pair of nodes: distance 10 local, 20 remote -> 1x, 32 -> 2.2x.
    numa_factor.assign(nodes, std::vector<double>(nodes, 1.0));
    for (std::size_t a = 0; a < nodes; ++a)
      for (std::size_t b = 0; b < nodes; ++b)
        numa_factor[a][b] = a == b ? 0.0
                            : topo->numa_distances.empty()
                                ? 1.0
                                : std::max(topo->numa_distances[a][b] / 10.0 - 1.0, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const LogicalCpu& cpu = topo->cpus[i];
      l3_of[i] = cpu.l3 ? static_cast<int>(*cpu.l3) : -1;
      numa_of[i] = -1;
      for (std::size_t k = 0; k < nodes; ++k)
        if (cpu.numa && topo->numa_nodes[k].os_index == *cpu.numa) numa_of[i] = static_cast<int>(k);
      kind_of[i] = static_cast<int>(cpu.kind);
    }
    l3_known = !caches_at_level(*topo, 3).empty();
    // Plain int arrays: the n x n loop below is the cost model's hottest code.
    std::vector<int> core_of(n), l2_of(n);
    for (std::size_t i = 0; i < n; ++i) {
      const LogicalCpu& cpu = topo->cpus[i];
      core_of[i] = static_cast<int>(cpu.core);
      l2_of[i] = cpu.l2 ? static_cast<int>(*cpu.l2) : -1;
    }
    level.resize(n, n);
    share.resize(n, n);
    split.resize(n, n);
    const double weight_of[] = {0.0, w.share_l3, w.share_l2, w.share_core};  // by Shared
    // Column by column: Eigen is column-major, so the writes stay sequential.
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < n; ++i) {
        Shared s = Shared::Nothing;
        if (core_of[i] == core_of[j]) s = Shared::Core;  // also the diagonal: the same CPU
        else if (l2_of[i] >= 0 && l2_of[i] == l2_of[j]) s = Shared::L2;
        else if (l3_of[i] >= 0 && l3_of[i] == l3_of[j]) s = Shared::L3;
        level(i, j) = static_cast<unsigned char>(s);
        share(i, j) = weight_of[static_cast<int>(s)];
        split(i, j) = pair_split(i, j);
      }
    }
  }

  double pair_split_l3(std::size_t i, std::size_t j) const {
    return l3_known && l3_of[i] != l3_of[j] ? weights.split_l3 : 0.0;
  }
  // Distance factor of two CPUs' nodes; different packages count as at least
  // one hop, also where one NUMA node spans both (node interleaving, exports
  // without per-socket nodes, `lscpu` with NODE 0 everywhere): crossing the
  // socket costs ~200 ns whatever the firmware calls the memory.
  double node_factor(std::size_t i, std::size_t j) const {
    const double packages = topo->cpus[i].package != topo->cpus[j].package ? 1.0 : 0.0;
    if (numa_of[i] >= 0 && numa_of[j] >= 0) return std::max(numa_factor[numa_of[i]][numa_of[j]], packages);
    return packages;
  }
  // A helper's sharing: helper_share_factor x the mean over its pin `at` of
  // what each of those CPUs shares with the vCPUs counted (`sharing_of(x)`):
  // it runs on one CPU of its pin at a time.
  template <typename SharingOf>
  double helper_sharing(const std::vector<std::size_t>& at, SharingOf sharing_of) const {
    double sum = 0;
    for (std::size_t x : at) sum += sharing_of(x);
    return weights.helper_share_factor * sum / static_cast<double>(at.size());
  }
  // A helper runs on one CPU of its pin at a time; the scheduler keeps it near its work.
  double nearest_node_factor(const std::vector<std::size_t>& at, std::size_t v) const {
    double nearest = std::numeric_limits<double>::infinity();
    for (std::size_t x : at) nearest = std::min(nearest, node_factor(x, v));
    return nearest;
  }
  double pair_split_numa(std::size_t i, std::size_t j) const { return weights.split_numa * node_factor(i, j); }
  double pair_mixed(std::size_t i, std::size_t j) const { return kind_of[i] != kind_of[j] ? weights.mix_kinds : 0.0; }
  double pair_split(std::size_t i, std::size_t j) const {
    return pair_split_l3(i, j) + pair_split_numa(i, j) + pair_mixed(i, j);
  }

  void build_placement_costs(const Request& request) {
    const std::size_t guests = request.guests.size();
    capacity = Eigen::MatrixXd::Zero(guests, n);
    gpu = Eigen::MatrixXd::Zero(guests, n);
    const double kinds = static_cast<double>(topo->kinds.size());
    CpuSet vcache;  // CPUs on L3s with 3D V-Cache (probe/topology.hpp)
    for (const Cache* l3 : vcache_l3s(*topo)) vcache |= l3->cpus;
    for (std::size_t g = 0; g < guests; ++g) {
      const GuestRequest& guest = request.guests[g];
      std::optional<unsigned> gpu_node;
      if (guest.gpu) {
        const PciDevice* found = find_pci(*topo, *guest.gpu);
        if (!found) {
          std::vector<std::string> known;
          for (const PciDevice& dev : topo->pci)
            if (dev.device_class == PciDevice::Class::Gpu) known.push_back(dev.address);
          throw RequestError(fmt::format("cannot find GPU '{}' on this host: {}", *guest.gpu,
                                         known.empty() ? std::string("the host model lists no GPU")
                                                       : fmt::format("its GPUs are {}", fmt::join(known, ", "))));
        }
        gpu_node = found->numa;
      }
      // A vCPU off the preferred kind costs at least the mixing it could
      // cause (one pair with each other vCPU): a guest too large for its kind
      // then takes all of that kind before the next, instead of moving to a
      // slower kind whole to avoid mixing (Ryzen AI 9 HX 370, 12 vCPUs: the 4
      // Zen 5 cores and 2 Zen 5c ones, not 6 Zen 5c; docs/optimizer-notes.md).
      const double others = guest.vcpus ? std::max(0.0, static_cast<double>(*guest.vcpus) - 1.0) : 0.0;
      const double wrong_kind_cost = weights.wrong_kind + weights.mix_kinds * others;
      for (std::size_t i = 0; i < n; ++i) {
        const LogicalCpu& cpu = topo->cpus[i];
        double cost = 0.0;
        if (kinds > 1) {  // vcache keeps the performance kind first, then the V-Cache L3s
          double wanted = guest.prefer == Preference::Efficiency ? 0.0 : kinds - 1.0;
          cost += wrong_kind_cost * std::abs(wanted - cpu.kind) / (kinds - 1.0);
        }
        if (guest.prefer == Preference::VCache && !vcache.contains(cpu.os_index)) cost += weights.small_l3;
        capacity(g, i) = cost;
        if (gpu_node && cpu.numa && *cpu.numa != *gpu_node) gpu(g, i) = weights.off_gpu_node;
      }
    }
  }

  Eigen::VectorXd indicator(const CpuSet& set) const {
    Eigen::VectorXd v = Eigen::VectorXd::Zero(n);
    for (unsigned os : set) {
      auto it = pos_of.find(os);
      if (it != pos_of.end()) v(it->second) = 1.0;
    }
    return v;
  }

  // Per CPU position: its sharing summed over the vCPUs `vcpus` counts.
  std::vector<double> sharing_with(const Eigen::VectorXd& vcpus) const {
    const Eigen::VectorXd sums = share * vcpus;
    return {sums.data(), sums.data() + sums.size()};
  }

  Eigen::VectorXd indicator(const std::vector<unsigned>& cpus) const {
    Eigen::VectorXd v = Eigen::VectorXd::Zero(n);
    for (unsigned os : cpus) v(pos_of.at(os)) += 1.0;
    return v;
  }
};

CostModel::CostModel(const Topology& topo, const Request& request) : impl_(std::make_unique<Impl>(topo, request)) {}
CostModel::~CostModel() = default;
CostModel::CostModel(CostModel&&) noexcept = default;
CostModel& CostModel::operator=(CostModel&&) noexcept = default;

std::size_t CostModel::position(unsigned os_index) const { return impl_->pos_of.at(os_index); }
std::size_t CostModel::cpu_count() const { return impl_->n; }
CostModel::Shared CostModel::shared(std::size_t a, std::size_t b) const {
  return static_cast<Shared>(impl_->level(a, b));
}
double CostModel::sharing(std::size_t a, std::size_t b) const { return impl_->share(a, b); }

CostModel::HelperCost CostModel::helper_cost(const std::vector<std::size_t>& at, const std::vector<double>& vcpu_sharing,
                                             const std::vector<std::size_t>& served) const {
  HelperCost cost;
  if (at.empty()) return cost;
  cost.sharing = impl_->helper_sharing(at, [&](std::size_t x) { return vcpu_sharing[x]; });
  for (std::size_t v : served) cost.off_node += impl_->weights.helper_off_node * impl_->nearest_node_factor(at, v);
  return cost;
}

std::vector<CostModel::HelperCost> CostModel::helper_cost_by_vcpu(const std::vector<std::size_t>& at) const {
  std::vector<HelperCost> by_vcpu(impl_->n);
  if (at.empty()) return by_vcpu;
  for (std::size_t v = 0; v < impl_->n; ++v) {
    by_vcpu[v].sharing = impl_->helper_sharing(at, [&](std::size_t x) { return impl_->share(x, v); });
    by_vcpu[v].off_node = impl_->weights.helper_off_node * impl_->nearest_node_factor(at, v);
  }
  return by_vcpu;
}

std::vector<double> CostModel::vcpu_sharing(const ThreadPlacement& layout) const {
  Eigen::VectorXd all = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(impl_->n));
  for (const ThreadPlacement::Guest& guest : layout.guests) all += impl_->indicator(guest.vcpus);
  return impl_->sharing_with(all);
}
double CostModel::placement_cost(std::size_t guest, std::size_t pos) const {
  return impl_->capacity(guest, pos) + impl_->gpu(guest, pos) + impl_->boot[pos];
}
double CostModel::numa_factor(std::size_t a, std::size_t b) const { return impl_->node_factor(a, b); }
double CostModel::split_cost(std::size_t a, std::size_t b) const { return impl_->split(a, b); }
std::vector<double> CostModel::sharing_row_sums() const {
  Eigen::VectorXd sums = impl_->share.rowwise().sum();
  return {sums.data(), sums.data() + sums.size()};
}
const Weights& CostModel::weights() const { return impl_->weights; }

std::vector<NodeSpan> node_spans(const Topology& topo, const std::vector<unsigned>& vcpus) {
  std::vector<NodeSpan> spans;
  for (unsigned i = 0; i < vcpus.size(); ++i) {
    std::optional<unsigned> node = find_cpu(topo, vcpus[i])->numa;
    auto span = std::find_if(spans.begin(), spans.end(), [&](const NodeSpan& s) { return s.node == node; });
    if (span == spans.end()) span = spans.insert(spans.end(), NodeSpan{node, {}});
    span->vcpu_indices.push_back(i);
  }
  return spans;
}

double CostModel::memory_overflow_gib(const ThreadPlacement& layout) const {
  const Impl& m = *impl_;
  if (m.topo->numa_nodes.size() < 2) return 0.0;  // one node: nothing is bound
  std::map<unsigned, double> bound;               // memory node -> bytes
  for (std::size_t k = 0; k < layout.guests.size() && k < m.memory.size(); ++k) {
    const auto& vcpus = layout.guests[k].vcpus;
    if (!m.memory[k] || vcpus.empty()) continue;
    // One cell per node its vCPUs run on, sized as the plan's cells are (size_numa_cells).
    std::vector<NumaCell> cells;
    for (const NodeSpan& span : node_spans(*m.topo, vcpus)) {
      if (!span.node) continue;
      NumaCell cell;
      cell.cell = static_cast<unsigned>(cells.size());
      for (unsigned i : span.vcpu_indices) cell.vcpus.insert(i);
      cell.host_node = memory_node_of(*m.topo, *span.node);
      cells.push_back(std::move(cell));
    }
    size_numa_cells(cells, *m.memory[k]);
    for (const NumaCell& cell : cells) bound[cell.host_node] += static_cast<double>(cell.memory_bytes.value_or(0));
  }
  double over = 0.0;
  for (const auto& [node, bytes] : bound) {
    auto it = std::find_if(m.topo->numa_nodes.begin(), m.topo->numa_nodes.end(),
                           [&](const NumaNode& n) { return n.os_index == node; });
    if (it != m.topo->numa_nodes.end() && it->memory_bytes && *it->memory_bytes > 0)
      over += std::max(0.0, bytes - static_cast<double>(*it->memory_bytes));
  }
  return over / static_cast<double>(std::uint64_t{1} << 30);
}

Score CostModel::evaluate(const ThreadPlacement& layout) const {
  const Impl& m = *impl_;
  const Weights& w = m.weights;
  const std::size_t guests = layout.guests.size();
  std::vector<Eigen::VectorXd> g(guests);
  std::vector<std::vector<std::size_t>> pos(guests);  // matrix position of each vCPU
  Eigen::VectorXd all_guests = Eigen::VectorXd::Zero(m.n);
  for (std::size_t k = 0; k < guests; ++k) {
    g[k] = m.indicator(layout.guests[k].vcpus);
    all_guests += g[k];
    for (unsigned os : layout.guests[k].vcpus) pos[k].push_back(m.pos_of.at(os));
  }
  const Eigen::VectorXd h = m.indicator(layout.host);
  const std::vector<double> share_all = m.sharing_with(all_guests);  // per CPU: sharing with every vCPU

  double host_guest = 0, guest_guest = 0, helpers = 0, off_node = 0, stacking = 0, split_l3 = 0, split_numa = 0,
         mixed = 0, hidden = 0, mismatch = 0, capacity = 0, gpu = 0, boot = 0;
  std::vector<std::set<unsigned>> helper_cores;  // cores of every helper thread of every guest
  for (std::size_t k = 0; k < guests; ++k) {
    const ThreadPlacement::Guest& guest = layout.guests[k];
    const Eigen::VectorXd share_g = m.share * g[k];
    // Where the host keeps no CPU of its own it runs on the guest's: the
    // overlap counts through share's diagonal (same CPU = same core).
    host_guest += h.dot(share_g);
    for (std::size_t l = k + 1; l < guests; ++l) guest_guest += w.guest_neighbour_factor * g[l].dot(share_g);

    // Helper threads, each measured against every vCPU of its guest.
    std::vector<const CpuSet*> threads = {&guest.emulator};
    for (const CpuSet& io : guest.iothreads) threads.push_back(&io);
    for (const CpuSet* thread : threads) {
      if (thread->empty()) continue;
      std::set<unsigned> cores;
      std::vector<std::size_t> at;
      for (unsigned os : *thread) {
        at.push_back(m.pos_of.at(os));
        cores.insert(m.topo->cpus[at.back()].core);
      }
      const HelperCost cost = helper_cost(at, share_all, pos[k]);
      helpers += cost.sharing;
      off_node += cost.off_node;
      helper_cores.push_back(std::move(cores));
    }

    const auto& p = pos[k];
    const GuestTopology& t = guest.topology;
    const std::size_t die_size = t.cores * t.threads, socket_size = die_size * t.dies;
    for (std::size_t a = 0; a < p.size(); ++a)
      for (std::size_t b = a + 1; b < p.size(); ++b) {
        const std::size_t i = p[a], j = p[b];
        split_l3 += m.pair_split_l3(i, j);
        split_numa += m.pair_split_numa(i, j);
        mixed += m.pair_mixed(i, j);
        if (die_size == 0) continue;
        // What the guest is told against where the two vCPUs are.
        if (a / die_size == b / die_size && m.l3_known && m.l3_of[i] != m.l3_of[j]) mismatch += w.topology_mismatch;
        else if (a / socket_size == b / socket_size && m.topo->cpus[i].package != m.topo->cpus[j].package)
          mismatch += w.topology_mismatch;
      }
    capacity += m.capacity.row(static_cast<Eigen::Index>(k)).dot(g[k]);
    gpu += m.gpu.row(static_cast<Eigen::Index>(k)).dot(g[k]);
    for (std::size_t i : p) boot += m.boot[i];
    // SMT siblings both used by the guest but presented as separate cores.
    if (t.threads == 1) {
      std::map<unsigned, unsigned> per_core;
      for (std::size_t i : p) ++per_core[m.topo->cpus[i].core];
      for (auto& [core, count] : per_core) hidden += w.hidden_smt * count * (count - 1) / 2.0;
    }
  }
  for (std::size_t a = 0; a < helper_cores.size(); ++a)
    for (std::size_t b = a + 1; b < helper_cores.size(); ++b)
      if (std::any_of(helper_cores[a].begin(), helper_cores[a].end(),
                      [&](unsigned core) { return helper_cores[b].count(core) > 0; }))
        stacking += w.stack_helpers;

  // Node bandwidth between guests, and memory bound beyond a node's size.
  double node_sharing = 0, overflow = 0;
  {
    std::vector<std::map<int, double>> per_node(guests);  // guest -> node -> vCPUs
    for (std::size_t k = 0; k < guests; ++k)
      for (std::size_t i : pos[k]) per_node[k][m.numa_of[i]] += 1.0;
    for (std::size_t k = 0; k < guests; ++k)
      for (std::size_t l = k + 1; l < guests; ++l)
        for (const auto& [node, count] : per_node[k])
          if (node >= 0)
            if (auto it = per_node[l].find(node); it != per_node[l].end()) node_sharing += w.share_node * count * it->second;
    overflow = memory_overflow_gib(layout);
    overflow *= w.node_memory_overflow;
  }

  Score score;
  auto add = [&](const char* name, double value, const char* what) {
    score.terms.push_back(ScoreTerm{name, value, what});
    score.total += value;
  };
  add(term::kHostGuestSharing, host_guest, "host CPUs sharing a core, L2 or L3 with a guest's vCPUs");
  add(term::kGuestGuestSharing, guest_guest, "vCPUs of different guests sharing a core, L2 or L3");
  add(term::kHelperSharing, helpers, "emulator and I/O threads sharing a core, L2 or L3 with vCPUs");
  add(term::kHelperOffNode, off_node, "emulator and I/O threads on another NUMA node than their guest's vCPUs");
  add(term::kHelperStacking, stacking, "pairs of emulator/I-O threads pinned to the same host core");
  add(term::kSplitL3, split_l3, "pairs of one guest's vCPUs on different L3 caches");
  add(term::kSplitNuma, split_numa, "pairs of one guest's vCPUs on different NUMA nodes or packages");
  add(term::kMixedKinds, mixed, "pairs of one guest's vCPUs on different core kinds");
  add(term::kHiddenSmt, hidden, "SMT siblings given to a guest as separate cores");
  add(term::kTopologyMismatch, mismatch,
      "vCPU pairs the guest is told share a die (L3) or socket that do not on the host");
  add(term::kCapacity, capacity, "vCPUs on a core kind or L3 other than the preferred one");
  add(term::kGpuLocality, gpu, "vCPUs off the NUMA node of the guest's GPU");
  add(term::kBootCpu, boot, "vCPUs on the core (or L3) of CPU 0, the boot CPU the host keeps for timekeeping");
  add(term::kNodeSharing, node_sharing, "pairs of vCPUs of different guests on one NUMA node (its memory bandwidth)");
  add(term::kMemoryOverflow, overflow, "guest memory bound to a NUMA node beyond its size, in GiB");
  return score;
}

}  // namespace vpt
