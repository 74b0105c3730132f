#include "optimizer/sharing.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace vpt {

std::vector<SharedPart> shared_between(const Topology& topo, const CpuSet& a, const CpuSet& b) {
  std::vector<SharedPart> found;
  for (const Core& core : topo.cores)
    if (core.cpus.intersects(a) && core.cpus.intersects(b))
      found.push_back({1, core.cpus, fmt::format("core {} (CPUs {})", core.index, core.cpus)});
  for (int level : {2, 3})
    for (const Cache* cache : caches_at_level(topo, level))
      if (cache->cpus.intersects(a) && cache->cpus.intersects(b)) {
        bool within_one_core = false;
        for (const Core& core : topo.cores) within_one_core |= core.cpus.contains(cache->cpus);
        if (!within_one_core)
          found.push_back({level, cache->cpus, fmt::format("L{} #{} (CPUs {})", cache->level, cache->index, cache->cpus)});
      }
  return found;
}

bool shares_at(const std::vector<SharedPart>& parts, int level) {
  return std::any_of(parts.begin(), parts.end(), [&](const SharedPart& p) { return p.level <= level; });
}

}  // namespace vpt
