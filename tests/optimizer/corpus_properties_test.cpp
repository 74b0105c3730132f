// Properties every plan keeps, on every machine of the corpus and the expert
// machines, for a set of requests; checked against the facts files (see
// plan_facts.hpp), not against the optimizer's own view of the machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "optimizer/resolve.hpp"
#include "optimizer_test_util.hpp"
#include "plan_facts.hpp"

namespace vpt {
namespace {

std::vector<std::string> all_machines() {
  std::vector<std::string> names;
  for (const auto& path : test::all_facts_files()) names.push_back(test::read_facts(path).source);
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(VPT_OPTIMIZER_TEST_DIR) / "machines" / "facts"))
    names.push_back(test::read_facts(entry.path()).source);
  return names;
}

struct Ask {
  std::string what;
  Request request;
};

std::vector<Ask> requests(const test::CorpusFacts& f) {
  const unsigned cpus = f.count.at("pu");
  std::vector<Ask> asks;
  for (unsigned n : {1u, 2u, 4u, 6u, 8u, 16u, 32u})
    if (n * 2 <= cpus) asks.push_back({fmt::format("--vcpus {}", n), test::one_guest(n)});
  asks.push_back({"--vcpus auto", test::one_guest_auto()});
  if (cpus >= 16) {
    Request two;
    two.guests = {test::guest_of("a", 4), test::guest_of("b", 4)};
    asks.push_back({"--guest a:4 --guest b:4", two});
    Request dedicated = test::one_guest(4);
    dedicated.guests[0].helpers = HelperPlacement::Dedicated;
    dedicated.guests[0].iothreads = 2;
    asks.push_back({"--vcpus 4 --emulator dedicated --iothreads 2", dedicated});
  }
  return asks;
}

class EveryMachine : public ::testing::TestWithParam<std::string> {};

// No plan puts an emulator or I/O thread off the node of the vCPUs it serves
// while that node has a host core sharing no core or L2 with the guest.
TEST_P(EveryMachine, HelpersStayOnTheirGuestsNodeWhenItHasRoom) {
  const test::Machine m = test::machine(GetParam());
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Topology topo = test::load(m);
  for (const Ask& ask : requests(f)) {
    Plan plan;
    try {
      plan = make_plan(topo, ask.request);
    } catch (const RequestError&) {
      continue;  // does not fit this machine
    }
    for (const GuestPlan& g : plan.guests)
      EXPECT_TRUE(test::helpers_off_node_with_room(f, g, plan.host).empty())
          << ask.what << ": " << ::testing::PrintToString(test::helpers_off_node_with_room(f, g, plan.host));
  }
}

// --vcpus auto shares no L3 with the host where a guest of whole L3s of the
// fastest kind can leave the host its reserve.
TEST_P(EveryMachine, AutoSharesNoL3WithTheHostWhereACleanPlanExists) {
  const test::Machine m = test::machine(GetParam());
  const test::CorpusFacts f = test::read_facts(m.facts);
  if (test::clean_l3s(f).empty()) GTEST_SKIP() << "no L3-clean guest exists on this machine";
  const Plan plan = make_plan(test::load(m), test::one_guest_auto());
  EXPECT_TRUE(test::l3_clean(f, plan.guests[0], plan.host)) << ::testing::PrintToString(plan.explanation);
}

// The heuristic (what large hosts get) against the exact search wherever
// the exact one is affordable, and against random restarts where it is not:
// its plan costs no more than the optimum plus kHeuristicGap, and less than
// any of 30 random feasible choices of cores (a fixed seed; issue 25, point 7).
// Relative to the optimum. The worst gap left is the Core Ultra 5 225U with 6
// vCPUs (403 vs 393, 2.5%): the optimum trades a P-core and two LP E-cores for
// a whole E-core cluster, a move of three cores at once.
constexpr double kHeuristicGap = 0.03;

std::optional<CoreChoice> random_choice(const Search& search, const ResolvedRequest& resolved, const Topology& topo,
                                        std::mt19937& rng) {
  std::vector<unsigned> cores = search.usable_cores();
  std::shuffle(cores.begin(), cores.end(), rng);
  CoreChoice choice;
  std::size_t next = 0;
  for (const GuestRequest& guest : resolved.request.guests) {
    choice.guest_cores.emplace_back();
    unsigned threads = 0;
    while (threads < *guest.vcpus && next < cores.size()) {
      threads += topo.cores[cores[next]].cpus.size();
      choice.guest_cores.back().push_back(cores[next++]);
    }
    std::sort(choice.guest_cores.back().begin(), choice.guest_cores.back().end());
  }
  if (!search.feasible(choice)) return std::nullopt;
  return choice;
}

TEST_P(EveryMachine, HeuristicMatchesExactOrBeatsRandomRestarts) {
  const test::Machine m = test::machine(GetParam());
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Topology topo = test::load(m);
  std::mt19937 rng(25);
  for (const Ask& ask : requests(f)) {
    ResolvedRequest resolved;
    try {
      resolved = resolve(topo, ask.request);
    } catch (const RequestError&) {
      continue;  // does not fit this machine
    }
    const CostModel model(topo, resolved.request);
    const Search search(topo, resolved, model);
    const CoreChoice heuristic = search.heuristic();
    ASSERT_TRUE(search.feasible(heuristic)) << ask.what;
    const double found = search.cost(heuristic);
    if (const std::optional<CoreChoice> exact = search.exact(20000)) {
      const double optimum = search.cost(*exact);
      EXPECT_LE(found, optimum * (1 + kHeuristicGap) + 1e-6) << ask.what << ": optimum " << optimum;
      continue;
    }
    for (int restart = 0; restart < 30; ++restart) {
      if (const auto other = random_choice(search, resolved, topo, rng)) {
        EXPECT_LE(found, search.cost(*other) + 1e-6) << ask.what << ", restart " << restart;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, EveryMachine, ::testing::ValuesIn(all_machines()), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

}  // namespace
}  // namespace vpt
