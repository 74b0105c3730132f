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
  GuestRequest guest;
  guest.name = "vm";
  guest.vcpus = vcpus;
  r.guests.push_back(guest);
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
  ThreadPlacement layout;
  layout.host = CpuSet{2, 3};
  layout.guests.push_back({{0, 1}, CpuSet{2, 3}, {CpuSet{2, 3}}, {1, 1, 1, 2}});
  Score s = model.evaluate(layout);
  const Weights w;
  // host {2,3} x guest {0,1}: 4 CPU pairs, each sharing only the L3.
  EXPECT_DOUBLE_EQ(term(s, term::kHostGuestSharing), 4 * w.share_l3);
  // Emulator and the I/O thread both pinned to {2,3}: each thread runs on one
  // of the two CPUs at a time, each sharing the L3 with the 2 vCPUs: per thread
  // the mean over its CPUs, 2 * share_l3; two threads.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperSharing), w.helper_share_factor * 2 * (2 * w.share_l3));
  // ... and they are stacked on one core: one pair.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperStacking), w.stack_helpers);
  EXPECT_DOUBLE_EQ(term(s, term::kHelperOffNode), 0.0);  // one node
  EXPECT_DOUBLE_EQ(term(s, term::kSplitL3), 0.0);
  EXPECT_DOUBLE_EQ(term(s, term::kHiddenSmt), 0.0);  // threads=2: siblings are presented as such
  // Both vCPUs are on the core of CPU 0.
  EXPECT_DOUBLE_EQ(term(s, term::kBootCpu), 2 * w.boot_cpu);
  EXPECT_DOUBLE_EQ(s.total, 4 * w.share_l3 * (1 + w.helper_share_factor) + w.stack_helpers + 2 * w.boot_cpu);
}

TEST(CostModelOnTwoSmtCores, HelpersOnCoresOfTheirOwnDoNotStack) {
  Topology topo = two_smt_cores();
  CostModel model(topo, request_for(2));
  ThreadPlacement layout;
  layout.host = CpuSet{0, 1};
  layout.guests.push_back({{2, 3}, CpuSet{0}, {CpuSet{1}}, {1, 1, 1, 2}});
  Score s = model.evaluate(layout);
  // Emulator and I/O thread on CPUs 0 and 1: siblings of one core, so still one pair.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperStacking), Weights{}.stack_helpers);
  EXPECT_DOUBLE_EQ(term(s, term::kBootCpu), 0.0);  // the guest is off core 0
}

TEST(CostModelOnTwoSmtCores, SplittingSiblingsBetweenHostAndGuestCostsACore) {
  Topology topo = two_smt_cores();
  CostModel model(topo, request_for(2));
  ThreadPlacement layout;
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
  ThreadPlacement layout;
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
  ThreadPlacement layout;
  layout.host = CpuSet{2, 3};
  layout.guests.push_back({{0, 1}, CpuSet{2, 3}, {}, {1, 1, 1, 2}});
  // host {2,3} x guest {0,1}: 4 pairs x 10, plus the guest on core 0: 2 x boot_cpu.
  EXPECT_DOUBLE_EQ(model.evaluate(layout).total, 40.0 + 2 * r.weights.boot_cpu);
}

// Two NUMA nodes (distance 20), one package each, one L3 each; 2 single-thread
// cores per node: CPUs 0,1 on node 0, CPUs 2,3 on node 1.
Topology two_nodes() {
  Topology topo;
  for (unsigned os : {0u, 1u, 2u, 3u}) {
    LogicalCpu cpu;
    cpu.os_index = os;
    cpu.package = os / 2;
    cpu.numa = os / 2;
    topo.cpus.push_back(cpu);
  }
  topo.cores = {{0, CpuSet{0}, 0, 0}, {0, CpuSet{1}, 0, 0}, {0, CpuSet{2}, 1, 0}, {0, CpuSet{3}, 1, 0}};
  topo.packages = {{0, CpuSet{0, 1}, ""}, {1, CpuSet{2, 3}, ""}};
  topo.numa_nodes = {{0, CpuSet{0, 1}, std::nullopt}, {1, CpuSet{2, 3}, std::nullopt}};
  topo.numa_distances = {{10, 20}, {20, 10}};
  topo.caches = {{3, CacheType::Unified, 0, std::nullopt, CpuSet{0, 1}},
                 {3, CacheType::Unified, 0, std::nullopt, CpuSet{2, 3}}};
  finish_topology(topo);
  return topo;
}

TEST(CostModelOnTwoNodes, HelperOnTheOtherNodeCostsPerVcpu) {
  Topology topo = two_nodes();
  CostModel model(topo, request_for(1));
  const Weights w;
  ThreadPlacement remote;
  remote.host = CpuSet{0, 1, 2};
  remote.guests.push_back({{3}, CpuSet{0}, {}, {1, 1, 1, 1}});
  // One helper thread, one vCPU on the other node at distance 20: factor 1.
  EXPECT_DOUBLE_EQ(term(model.evaluate(remote), term::kHelperOffNode), w.helper_off_node);
  ThreadPlacement local = remote;
  local.guests[0].emulator = CpuSet{2};
  Score s = model.evaluate(local);
  EXPECT_DOUBLE_EQ(term(s, term::kHelperOffNode), 0.0);
  // Local, it shares the node's L3 with the vCPU instead: cheaper.
  EXPECT_DOUBLE_EQ(term(s, term::kHelperSharing), w.helper_share_factor * w.share_l3);
  EXPECT_LT(w.helper_share_factor * w.share_l3, w.helper_off_node);
}

TEST(CostModelOnTwoNodes, OneSocketPresentedOverTwoPackagesIsAMismatch) {
  Topology topo = two_nodes();
  CostModel model(topo, request_for(2));
  const Weights w;
  ThreadPlacement layout;
  layout.host = CpuSet{0, 2};
  layout.guests.push_back({{1, 3}, CpuSet{0}, {}, {1, 1, 2, 1}});  // told: one socket, one die
  // The pair (1,3) is told it shares a die but sits on two L3s: one mismatch.
  EXPECT_DOUBLE_EQ(term(model.evaluate(layout), term::kTopologyMismatch), w.topology_mismatch);
  layout.guests[0].topology = {2, 1, 1, 1};  // told: two sockets, as on the host
  EXPECT_DOUBLE_EQ(term(model.evaluate(layout), term::kTopologyMismatch), 0.0);
}

}  // namespace
}  // namespace vpt
