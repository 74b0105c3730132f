// The plan in words: which CPUs each guest got and why, what it shares and
// with whom, the warnings and the advice (explain.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "optimizer/cost_model.hpp"
#include "optimizer/plan.hpp"
#include "optimizer/search.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Fills plan.explanation, plan.warnings and plan.advice from the chosen
// placement; changes nothing else.
void describe(const Topology& topo, const ResolvedRequest& resolved, const ThreadPlacement& layout, Plan& plan);

// Memory guests bind to one host NUMA node, and who binds it.
struct NodeLoad {
  std::uint64_t bytes = 0;
  std::vector<std::string> guests;
};
// One warning per node bound more than it has ("...; `remedy`"), or whose size
// the input does not give; shared by suggest's plans and the whole-host plan.
std::vector<std::string> node_memory_warnings(const Topology& topo, const std::map<unsigned, NodeLoad>& loads,
                                              const std::string& remedy);

}  // namespace vpt
