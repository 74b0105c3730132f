// make_plan: resolve the request's defaults (resolve.cpp), search
// (search.cpp), and put the winning placement into words (explain.cpp).
#include "optimizer/optimizer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "optimizer/cost_model.hpp"
#include "optimizer/explain.hpp"
#include "optimizer/resolve.hpp"
#include "optimizer/search.hpp"

namespace vpt {

namespace {

constexpr double kEpsilon = 1e-6;

// One cell per host node the guest runs on, its memory split by vCPUs.
std::vector<NumaCell> numa_cells(const Topology& topo, const std::vector<unsigned>& vcpus,
                                 std::optional<std::uint64_t> memory_bytes) {
  std::vector<NodeSpan> spans = node_spans(topo, vcpus);
  std::vector<NumaCell> cells;
  // No cells unless every vCPU's node is known (a damaged export can leave
  // CPUs without one; found by tests/fuzz/hwloc_xml_fuzz.cpp).
  if (spans.size() < 2 || std::any_of(spans.begin(), spans.end(), [](const NodeSpan& s) { return !s.node; }))
    return cells;
  for (std::size_t c = 0; c < spans.size(); ++c) {
    NumaCell cell;
    cell.cell = static_cast<unsigned>(c);
    for (unsigned i : spans[c].vcpu_indices) cell.vcpus.insert(i);
    cell.host_node = memory_node_of(topo, *spans[c].node);
    cells.push_back(std::move(cell));
  }
  if (memory_bytes) size_numa_cells(cells, *memory_bytes);
  return cells;
}

}  // namespace

std::map<unsigned, std::uint64_t> bound_memory(const GuestPlan& plan, const GuestRequest& guest) {
  std::map<unsigned, std::uint64_t> mine;
  if (!plan.numa_cells.empty()) {
    for (const NumaCell& cell : plan.numa_cells)
      if (cell.memory_bytes) mine[cell.host_node] += *cell.memory_bytes;
  } else if (plan.memory_nodes.size() == 1 && guest.memory_bytes) {
    mine[plan.memory_nodes.first()] = *guest.memory_bytes;
  }
  return mine;
}

std::string cpu_list_phrase(const CpuSet& cpus) {
  return fmt::format("{} {}", cpus.size() == 1 ? "CPU" : "CPUs", cpus);
}

CpuSet isolated_cpus(const Topology& topo, const CpuSet& requested) {
  return (requested | (topo.host.known ? topo.host.isolcpus | topo.host.nohz_full : CpuSet{})) & all_cpus(topo);
}

Plan make_plan(const Topology& topo, const Request& request, const SearchLimits& limits) {
  ResolvedRequest resolved = resolve(topo, request);
  CostModel model(topo, resolved.request);
  Search search(topo, resolved, model);

  Plan plan;
  // Exact search costs one full evaluation per candidate: keep it to ~1e8 CPU-pair operations.
  const std::size_t n = topo.cpus.size();
  const std::size_t affordable = std::max<std::size_t>(2000, 100'000'000 / std::max<std::size_t>(1, n * n));
  std::optional<CoreChoice> choice = search.exact(std::min(limits.max_exact_candidates, affordable));
  if (choice) {
    plan.optimal = true;
    plan.search = "exact: every distinct choice of cores was scored";
  } else {
    choice = search.heuristic();
    plan.search = "heuristic: greedy construction, then core swaps while the cost dropped";
  }
  if (!search.feasible(*choice))
    throw RequestError("cannot find a layout for this request: lower the vCPU counts or --reserve");
  ThreadPlacement layout = search.materialize(*choice);
  plan.score = model.evaluate(layout);
  if (!plan.optimal && plan.score.total <= search.lower_bound() + kEpsilon) {
    plan.optimal = true;
    plan.search += "; optimal, as its cost equals the lower bound";
  }

  for (std::size_t k = 0; k < layout.guests.size(); ++k) {
    const ThreadPlacement::Guest& lg = layout.guests[k];
    GuestPlan guest;
    guest.name = resolved.request.guests[k].name;
    guest.vcpus = lg.vcpus;
    guest.emulator = lg.emulator;
    guest.iothreads = lg.iothreads;
    guest.topology = lg.topology;
    if (topo.numa_nodes.size() > 1)
      for (unsigned node : numa_nodes_of(topo, guest.vcpu_cpus())) guest.memory_nodes.insert(memory_node_of(topo, node));
    guest.numa_cells = numa_cells(topo, guest.vcpus, resolved.request.guests[k].memory_bytes);
    guest.cache_passthrough = true;
    // AMD guests see SMT siblings only with topoext, which every Zen CPU has;
    // requiring it where the host's flags lack it would keep the guest from starting.
    guest.require_topoext = is_amd(topo) && has_cpu_flag(topo, "topoext").value_or(true);
    plan.guests.push_back(std::move(guest));
  }
  const bool host_has_own = layout.host != all_cpus(topo);
  plan.host = layout.host;
  plan.isolate = host_has_own ? all_cpus(topo) - layout.host : CpuSet{};
  plan.irq_affinity = layout.host;
  describe(topo, resolved, layout, plan);
  return plan;
}

}  // namespace vpt
