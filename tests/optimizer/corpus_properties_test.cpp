// Properties every plan keeps, on every machine of the corpus and the expert
// machines, for a set of requests; checked against the facts files (see
// plan_facts.hpp), not against the optimizer's own view of the machine.
#include <gtest/gtest.h>

#include <fmt/format.h>

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

INSTANTIATE_TEST_SUITE_P(Corpus, EveryMachine, ::testing::ValuesIn(all_machines()), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

}  // namespace
}  // namespace vpt
