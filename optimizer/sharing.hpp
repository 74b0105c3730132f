// What two sets of CPUs share: the same core, an L2, an L3. One analysis for
// every place that says it: the plan's warnings (explain.cpp) and the
// report's private/shared verdicts (report/report.cpp), so that the two never
// disagree (docs/report-notes.md, "What each guest shares").
#pragma once

#include <string>
#include <vector>

#include "common/cpuset.hpp"
#include "probe/topology.hpp"

namespace vpt {

struct SharedPart {
  int level = 1;        // 1: a core (its L1 and execution units), 2: an L2, 3: an L3
  CpuSet cpus;          // the core's or the cache's CPUs
  std::string what;     // "core 3 (CPUs 3,19)", "L3 #0 (CPUs 0-15)"
};

// Every core, L2 and L3 that holds CPUs of both `a` and `b`, from the most to
// the least harmful: cores, then L2s, then L3s. A cache within one core is
// that core's (level 1), not listed again. A CPU in both sets shares its core:
// a host that runs on the guest's own CPUs (--reserve 0) shares every level.
std::vector<SharedPart> shared_between(const Topology& topo, const CpuSet& a, const CpuSet& b);

// Whether `a` and `b` share anything at `level` or below (a shared core is a
// shared L2 and L3 too: the caches hold whole cores).
bool shares_at(const std::vector<SharedPart>& parts, int level);

}  // namespace vpt
