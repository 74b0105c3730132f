#include "optimizer/existing_pins.hpp"

#include <fmt/format.h>

#include "optimizer/optimizer.hpp"

namespace vpt {

namespace {

PinsReview not_kept(CpuSet cpus, std::string why) { return {false, std::move(cpus), std::move(why)}; }

}  // namespace

PinsReview review_existing_pins(const Topology& topo, const std::map<unsigned, CpuSet>& pins, unsigned vcpus,
                                const CpuSet& isolated) {
  CpuSet cpus;
  for (const auto& [vcpu, set] : pins) cpus |= set;
  if (pins.empty()) return not_kept(cpus, "no vCPU is pinned");
  for (unsigned v = 0; v < vcpus; ++v) {
    auto it = pins.find(v);
    if (it == pins.end()) return not_kept(cpus, fmt::format("vCPU {} has no pin", v));
    if (it->second.size() != 1) return not_kept(cpus, fmt::format("vCPU {} floats over CPUs {}", v, it->second));
  }
  CpuSet seen;
  for (const auto& [vcpu, set] : pins) {
    if (vcpu >= vcpus) continue;  // a pin for a vCPU beyond the count changes nothing
    if (seen.intersects(set)) return not_kept(cpus, fmt::format("two vCPUs share CPU {}", set));
    seen |= set;
  }
  cpus = seen;
  const CpuSet online = all_cpus(topo);
  if (!online.contains(cpus)) return not_kept(cpus, fmt::format("{} {} not online", cpu_list_phrase(cpus - online), (cpus - online).size() == 1 ? "is" : "are"));
  for (unsigned cpu : cpus)
    if (!cpus.contains(smt_siblings(topo, cpu)))
      return not_kept(cpus, fmt::format("CPU {} shares its core with {} outside the pins", cpu,
                                        cpu_list_phrase(smt_siblings(topo, cpu) - cpus)));
  bool host_has_core = false;
  for (const Core& core : topo.cores) host_has_core |= !core.cpus.intersects(cpus);
  if (!host_has_core) return not_kept(cpus, "they leave the host no whole core");
  if (!isolated.empty()) {
    if (!isolated.contains(cpus))
      return not_kept(cpus, fmt::format("{} {} outside the isolated CPUs {}", cpu_list_phrase(cpus - isolated),
                                        (cpus - isolated).size() == 1 ? "is" : "are", isolated));
    return {true, cpus, fmt::format("one CPU per vCPU on whole cores inside the isolated CPUs {}", isolated)};
  }
  const unsigned first = online.first();
  if (cpus.intersects(smt_siblings(topo, first)))
    return not_kept(cpus, fmt::format("they take the core of CPU {}, where the host's own work runs", first));
  const CpuSet host_l3 = cpus_sharing_cache(topo, first, 3);
  if (!host_l3.empty() && host_l3 != online && cpus.intersects(host_l3))
    return not_kept(cpus, fmt::format("{} {} the host's L3 (CPUs {}) while other L3s exist", cpu_list_phrase(cpus & host_l3),
                                      (cpus & host_l3).size() == 1 ? "shares" : "share",
                                      host_l3));
  return {true, cpus,
          host_l3 == online || host_l3.empty() ? "one CPU per vCPU on whole cores, off the host's core"
                                               : "one CPU per vCPU on whole cores, no L3 shared with the host"};
}

}  // namespace vpt
