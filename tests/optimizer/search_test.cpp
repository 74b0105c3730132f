// The search against brute force: on every corpus fixture small enough, all
// feasible choices of whole cores are enumerated independently of the search,
// and the plan's cost must equal the cheapest one.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>
#include <set>

#include <fmt/format.h>

#include "optimizer/cost_model.hpp"
#include "optimizer/search.hpp"
#include "optimizer_test_util.hpp"

namespace vpt {
namespace {

using test::corpus;

// Cheapest cost over every feasible choice (Search::feasible defines the
// space: whole cores, minimal thread counts, the host's reserve).
double brute_force_minimum(const Topology& topo, const ResolvedRequest& resolved, const Search& search) {
  const std::size_t guests = resolved.request.guests.size();
  std::vector<unsigned> cores = search.usable_cores();
  CoreChoice choice;
  choice.guest_cores.resize(guests);
  std::vector<int> owner(topo.cores.size(), -1);
  double best = std::numeric_limits<double>::infinity();
  std::vector<unsigned> threads(guests, 0);
  std::function<void(std::size_t)> assign = [&](std::size_t i) {
    if (i == cores.size()) {
      if (search.feasible(choice)) best = std::min(best, search.cost(choice));
      return;
    }
    assign(i + 1);  // core i stays with the host
    const unsigned t = topo.cores[cores[i]].cpus.size();
    for (std::size_t g = 0; g < guests; ++g) {
      if (threads[g] >= *resolved.request.guests[g].vcpus) continue;  // already enough: more is never minimal
      choice.guest_cores[g].push_back(cores[i]);
      threads[g] += t;
      assign(i + 1);
      threads[g] -= t;
      choice.guest_cores[g].pop_back();
    }
  };
  assign(0);
  return best;
}

struct Case {
  const char* fixture;
  std::vector<unsigned> vcpus;  // one entry per guest
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.fixture << " guests";
  for (unsigned v : c.vcpus) *os << " " << v;
}

class SearchMatchesBruteForce : public ::testing::TestWithParam<Case> {};

TEST_P(SearchMatchesBruteForce, PlanCostEqualsTheOptimum) {
  const Case& c = GetParam();
  Topology topo = corpus(c.fixture);
  Request request;
  for (std::size_t g = 0; g < c.vcpus.size(); ++g)
    request.guests.push_back(test::guest_of(fmt::format("g{}", g), c.vcpus[g]));
  Plan plan = make_plan(topo, request);

  // The same resolution make_plan does: default reserve, all CPUs usable.
  ResolvedRequest resolved;
  resolved.request = request;
  resolved.usable = all_cpus(topo);
  unsigned reserve = 2;
  for (const Cache* l2 : multi_core_caches(topo, 2)) {
    std::set<unsigned> cs;
    for (unsigned cpu : l2->cpus) cs.insert(find_cpu(topo, cpu)->core);
    reserve = std::max<unsigned>(reserve, cs.size());
  }
  resolved.reserve_cores = reserve;
  CostModel model(topo, request);
  Search search(topo, resolved, model);
  double optimum = brute_force_minimum(topo, resolved, search);
  ASSERT_TRUE(std::isfinite(optimum));
  EXPECT_NEAR(plan.score.total, optimum, 1e-6) << plan.search;
  EXPECT_TRUE(plan.optimal);
}

INSTANTIATE_TEST_SUITE_P(
    SmallFixtures, SearchMatchesBruteForce,
    ::testing::Values(
        Case{"lscpu/intel-core-i7-14700f.txt", {16}}, Case{"lscpu/intel-core-i7-14700f.txt", {7}},
        Case{"lscpu/intel-core-i7-14700f.txt", {20}}, Case{"lscpu/intel-core-i9-12900k.txt", {8}},
        Case{"lscpu/intel-core-i9-12900k.txt", {13}}, Case{"lscpu/amd-ryzen7-5800x.txt", {6}},
        Case{"lscpu/amd-ryzen7-5800x.txt", {5}}, Case{"lscpu/amd-ryzen7-5800x.txt", {4, 4}},
        Case{"lscpu/amd-threadripper-pro-7965wx.txt", {6}},
        Case{"hwloc/Intel-RaptorLake-Corei7-1370P.xml", {8}}, Case{"hwloc/Intel-RaptorLake-Corei7-1370P.xml", {4, 4}},
        Case{"hwloc/Intel-RaptorLake-Corei7-1370P.xml", {5}}, Case{"hwloc/derived/5intel64-hybrid-lakefield.xml", {1}},
        Case{"hwloc/24em64t-2n6c2t-pci.xml", {8}}, Case{"hwloc/24em64t-2n6c2t-pci.xml", {6, 6}},
        Case{"hwloc/32em64t-2n8c2t-pci-wholeio.xml", {12}}, Case{"hwloc/32em64t-2n8c+1mic.xml", {10}},
        Case{"hwloc/nvidia-dgx-gb10.xml", {6}}, Case{"hwloc/nvidia-dgx-gb10.xml", {2, 3}},
        Case{"hwloc-xml-parser/mediatek-dimensity-9300+.xml", {3}}, Case{"hwloc/power8gpudistances.xml", {6}},
        Case{"hwloc/nvidiaDGX2.xml", {2}},
        // The expert cases' machines and terms: CCXs of 3 cores, two core kinds
        // in two L3s, three kinds, a guest that must span two nodes.
        Case{"machines/amd-ryzen9-3900x.txt", {8}}, Case{"machines/amd-ryzen9-3900x.txt", {6, 6}},
        Case{"machines/amd-ryzen9-3900x.txt", {18}}, Case{"machines/amd-ryzen-ai-9-hx370.txt", {12}},
        Case{"machines/intel-core-ultra5-225u.txt", {8}}, Case{"hwloc/24em64t-2n6c2t-pci.xml", {16}},
        Case{"hwloc/32em64t-2n8c2t-pci-wholeio.xml", {8}}));

// ---- Delta evaluation ------------------------------------------------------

// Helpers held fixed for the delta test: guest 0's emulator on core 1 (the
// host keeps the core), guest 1's I/O thread on core 2 (dedicated: the host
// loses it), guest 2's emulator on core 3 and the last core together.
struct HeldHelpers {
  std::vector<CoreOwnership::HeldHelper> threads;
  std::vector<unsigned> dedicated;
  std::set<unsigned> cores;
};

HeldHelpers held_helpers(const Topology& topo, const CostModel& model) {
  HeldHelpers held;
  auto positions = [&](std::initializer_list<unsigned> cores) {
    std::vector<std::size_t> at;
    for (unsigned core : cores)
      for (unsigned cpu : topo.cores[core].cpus) at.push_back(model.position(cpu));
    return at;
  };
  const auto last = static_cast<unsigned>(topo.cores.size() - 1);
  held.threads = {{0, positions({1})}, {1, positions({2})}, {2, positions({3, last})}};
  held.dedicated = {2};
  held.cores = {1, 2, 3, last};
  return held;
}

// CostModel::evaluate over what CoreOwnership keeps: every term but the
// presented topology's (a guest's topology with no cores and 2 threads per
// core turns hidden_smt and topology_mismatch off). Helper stacking is 0
// here: the held helpers share no core.
double kept_terms(const CostModel& model, const Topology& topo, const CoreOwnership& own, std::size_t guests,
                  const HeldHelpers* helpers) {
  ThreadPlacement layout;
  CpuSet taken;
  for (std::size_t k = 0; k < guests; ++k) {
    ThreadPlacement::Guest guest;
    for (unsigned core : own.cores_of(k))
      for (unsigned cpu : topo.cores[core].cpus) {
        guest.vcpus.push_back(cpu);
        taken.insert(cpu);
      }
    guest.topology = GuestTopology{1, 1, 0, 2};
    layout.guests.push_back(std::move(guest));
  }
  if (helpers) {
    for (const CoreOwnership::HeldHelper& thread : helpers->threads) {
      CpuSet at;
      for (std::size_t pos : thread.at) at.insert(topo.cpus[pos].os_index);
      auto& guest = layout.guests[thread.guest];
      if (guest.emulator.empty()) guest.emulator = at;
      else guest.iothreads.push_back(at);
    }
    for (unsigned core : helpers->dedicated) taken |= topo.cores[core].cpus;
  }
  layout.host = all_cpus(topo) - taken;
  // The memory bound beyond a node's size is the block swaps' and the exact
  // search's: the core deltas leave it out (no guest here has a memory size).
  double total = 0;
  for (const ScoreTerm& t : model.evaluate(layout).terms)
    if (t.name != term::kMemoryOverflow) total += t.value;
  return total;
}

class DeltaEqualsFullEvaluation : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};

TEST_P(DeltaEqualsFullEvaluation, AfterRandomMoves) {
  const auto [file, with_helpers] = GetParam();
  const Topology topo = corpus(file);
  Request request;
  for (unsigned g = 0; g < 3; ++g) request.guests.push_back(test::guest_of(fmt::format("g{}", g), 2));
  request.guests[1].prefer = Preference::Efficiency;  // a placement cost that differs between guests
  const CostModel model(topo, request);
  CoreOwnership own(topo, model, request.guests.size());
  const HeldHelpers helpers = held_helpers(topo, model);
  if (with_helpers) {
    own.hold_helpers(helpers.threads, helpers.dedicated);
    for (unsigned core : helpers.cores) EXPECT_TRUE(own.holds_helper(core)) << "core " << core;
    EXPECT_EQ(own.owner(2), CoreOwnership::kHelper);
  }
  const HeldHelpers* held = with_helpers ? &helpers : nullptr;
  double running = kept_terms(model, topo, own, 3, held);
  EXPECT_NEAR(running, 0.0, 1e-9);  // no guest: nothing shared, split, placed or served
  std::mt19937 random(20261207);
  int moves = 0;
  for (int step = 0; step < 300; ++step) {
    const auto core = static_cast<unsigned>(random() % topo.cores.size());
    if (with_helpers && helpers.cores.count(core)) continue;  // the search never moves a helper's core
    const int from = own.owner(core);
    int to = static_cast<int>(random() % 4) - 1;  // the host or one of three guests
    if (to == from) continue;
    if (from != CoreOwnership::kHost) {
      running += own.delta_remove(static_cast<std::size_t>(from), core);
      own.move(core, from, CoreOwnership::kHost);
    }
    if (to != CoreOwnership::kHost) {
      running += own.delta_add(static_cast<std::size_t>(to), core);
      own.move(core, CoreOwnership::kHost, to);
    }
    ++moves;
    const double full = kept_terms(model, topo, own, 3, held);
    ASSERT_NEAR(running, full, 1e-6 * std::max(1.0, full)) << "step " << step << ", core " << core;
  }
  EXPECT_GT(moves, 100);
}

INSTANTIATE_TEST_SUITE_P(Machines, DeltaEqualsFullEvaluation,
                         ::testing::Combine(::testing::Values("lscpu/intel-core-i7-14700f.txt",
                                                              "lscpu/amd-ryzen7-5800x.txt",
                                                              "hwloc/24em64t-2n6c2t-pci.xml",
                                                              "machines/amd-ryzen-ai-9-hx370.txt",
                                                              "hwloc/Intel-RaptorLake-Corei7-1370P.xml"),
                                            ::testing::Bool()));

}  // namespace
}  // namespace vpt
