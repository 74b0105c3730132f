// The cost model's terms on small hand-made topologies, checked by hand arithmetic.
#include <gtest/gtest.h>

#include "optimizer/cost_model.hpp"

namespace vpt {
namespace {

// 2 cores x 2 threads sharing one L3 (CPUs 0,1 = core 0; 2,3 = core 1), one NUMA node.
Topology two_smt_cores() {
  Topology topo;
  for (unsigned os : {0u, 1u, 2u, 3u}) { LogicalCpu cpu; cpu.os_index = os; topo.cpus.push_back(cpu); }
  topo.cores = {{0, CpuSet{0, 1}, 0, 0}, {0, CpuSet{2, 3}, 0, 0}};
  topo.packages = {{0, CpuSet{0, 1, 2, 3}, ""}};
  topo.numa_nodes = {{0, CpuSet{0, 1, 2, 3}, std::nullopt}};
  topo.caches = {{3, CacheType::Unified, 0, std::nullopt, CpuSet{0, 1, 2, 3}},
                 {2, CacheType::Unified, 0, std::nullopt, CpuSet{0, 1}},
                 {2, CacheType::Unified, 0, std::nullopt, CpuSet{2, 3}}};
  finish_topology(topo);
  return topo;
}

Request request_for(unsigned vcpus) {
  Request r;
  r.guests.push_back(GuestRequest{"vm", vcpus, 1, HelperPlacement::Shared, Preference::Performance, std::nullopt});
  return r;
}

double term(const Score& score, const std::string& name) {
  for (const ScoreTerm& t : score.terms)
    if (t.name == name) return t.value;
  ADD_FAILURE() << "no term " << name;
  return -1;
}

TEST(CostModelOnTwoSmtCores, GuestOnOneCoreSharesOnlyL3WithHost) {
  Topology topo = two_smt_cores();
  CostModel model(topo, request_for(2));
  Layout layout;
  layout.host = CpuSet{2, 3};
  layout.guests.push_back({{0, 1}, CpuSet{2, 3}, {CpuSet{2, 3}}, {1, 1, 1, 2}});
  Score s = model.evaluate(layout);
  const Weights w;
  // host {2,3} x guest {0,1}: 4 CPU pairs, each sharing only the L3.
  EXPECT_DOUBLE_EQ(term(s, term::kHostGuestSharing), 4 * w.share_l3);
  // Emulator and the I/O thread both on {2,3}: helper CPUs {2,3} x vCPUs {0,1}, counted once.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperSharing), w.helper_share_factor * 4 * w.share_l3);
  EXPECT_DOUBLE_EQ(term(s, term::kSplitL3), 0.0);
  EXPECT_DOUBLE_EQ(term(s, term::kHiddenSmt), 0.0);  // threads=2: siblings are presented as such
  EXPECT_DOUBLE_EQ(s.total, 4 * w.share_l3 * (1 + w.helper_share_factor));
}

TEST(CostModelOnTwoSmtCores, SplittingSiblingsBetweenHostAndGuestCostsACore) {
  Topology topo = two_smt_cores();
  CostModel model(topo, request_for(2));
  Layout layout;
  layout.host = CpuSet{1, 3};
  layout.guests.push_back({{0, 2}, CpuSet{1}, {CpuSet{3}}, {1, 1, 2, 1}});
  Score s = model.evaluate(layout);
  const Weights w;
  // Pairs host x guest: (1,0) same core, (3,2) same core, (1,2) and (3,0) same L3 only.
  EXPECT_DOUBLE_EQ(term(s, term::kHostGuestSharing), 2 * w.share_core + 2 * w.share_l3);
  // Helpers {1,3} x vCPUs {0,2}: the same four pairs.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperSharing), w.helper_share_factor * (2 * w.share_core + 2 * w.share_l3));
}

TEST(CostModelOnTwoSmtCores, SiblingsPresentedAsSeparateCoresAreHiddenSmt) {
  Topology topo = two_smt_cores();
  CostModel model(topo, request_for(2));
  Layout layout;
  layout.host = CpuSet{2, 3};
  layout.guests.push_back({{0, 1}, CpuSet{2}, {CpuSet{3}}, {1, 1, 2, 1}});  // threads=1
  EXPECT_DOUBLE_EQ(term(model.evaluate(layout), term::kHiddenSmt), Weights{}.hidden_smt);
}

TEST(CostModelWeights, OverridesComeFromTheRequest) {
  Topology topo = two_smt_cores();
  Request r = request_for(2);
  r.weights.share_l3 = 10;
  r.weights.helper_share_factor = 0;
  CostModel model(topo, r);
  Layout layout;
  layout.host = CpuSet{2, 3};
  layout.guests.push_back({{0, 1}, CpuSet{2, 3}, {}, {1, 1, 1, 2}});
  EXPECT_DOUBLE_EQ(model.evaluate(layout).total, 40.0);
}

}  // namespace
}  // namespace vpt
