// The plan in words: which CPUs each guest got and why, what it shares and
// with whom, the warnings and the advice (explain.cpp).
#pragma once

#include "optimizer/cost_model.hpp"
#include "optimizer/plan.hpp"
#include "optimizer/search.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Fills plan.explanation, plan.warnings and plan.advice from the chosen
// placement; changes nothing else.
void describe(const Topology& topo, const ResolvedRequest& resolved, const ThreadPlacement& layout, Plan& plan);

}  // namespace vpt
