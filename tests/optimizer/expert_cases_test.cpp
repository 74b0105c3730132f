// Plans an experienced r/VFIO or Level1Techs helper would post as the answer:
// one row per machine and request, with the properties such a helper checks.
// Every property is checked against facts found without vpt-tune (the .facts
// files: hwloc-calc for XML, the listing's own columns for lscpu; see
// plan_facts.hpp), never against a pasted plan.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "optimizer/plan_writers.hpp"
#include "optimizer_test_util.hpp"
#include "plan_facts.hpp"

namespace vpt {
namespace {

using test::CpuFacts;
using test::to_set;

// What the expert checks, as flags.
enum Check : unsigned {
  kL3Clean = 1 << 0,        // every guest shares no L3 with the host (or another guest)
  kHelpersLocal = 1 << 1,   // no helper off the node of the vCPUs it serves while that node has room
  kBalancedCells = 1 << 2,  // a guest over several nodes: equal vCPUs per node, one cell per node, memory there
  kFastKind = 1 << 3,       // the guest runs on the fastest cores only
  kHelpersSpread = 1 << 4,  // no two helper threads (of any guests) on one core
  kNoCpu0 = 1 << 5,         // CPU 0 stays with the host
  kNoNohzCpu0 = 1 << 6,     // the nohz_full= advice never names CPU 0
  kDiesAreL3s = 1 << 7,     // presented dies x cores x threads match the host's L3 groups
  kOnePackage = 1 << 8,     // each guest's vCPUs in one package (socket), whatever the NUMA nodes say
  kHelpersOnPackage = 1 << 9,  // every helper in the package of the vCPUs it serves
  kFastFirst = 1 << 10,     // a guest larger than the fastest cores holds every one of them (highest MAXMHZ)
  kGuestsSpread = 1 << 11,  // one-node guests spread over the nodes: counts per node differ by at most one
};

struct ExpertCase {
  const char* machine;
  const char* request;       // for the test's name and the report
  Request (*make)();         // the request itself
  unsigned checks;
  unsigned expect_vcpus;     // 0 = the request's own count
  const char* warning;       // a warning or explanation line must contain this ("" = no such check)
};

void PrintTo(const ExpertCase& c, std::ostream* os) { *os << c.machine << " " << c.request; }

Request vcpus(unsigned n) { return test::one_guest(n); }
Request automatic() { return test::one_guest_auto(); }

const ExpertCase kCases[] = {
    // 1. Helpers on the guest's node: the K40m's node 1 has free cores.
    {"hwloc/32em64t-2n8c2t-pci-wholeio.xml", "--vcpus 8 --gpu 84:00.0",
     [] { Request r = vcpus(8); r.guests[0].gpu = "84:00.0"; return r; }, kHelpersLocal | kHelpersSpread, 0, ""},
    // ... and when the guest fills the node with whole L3s, the helpers go next door and the plan says
    // why, without advising fewer vCPUs (which would share the guest's L3 with them and the host).
    {"hwloc/32em64t-2n8c2t-pci-wholeio.xml", "--gpu 84:00.0 (auto)",
     [] { Request r = automatic(); r.guests[0].gpu = "84:00.0"; return r; },
     kL3Clean | kHelpersLocal | kHelpersSpread | kDiesAreL3s, 16, "the guest fills it with whole L3 groups"},
    // EPYC 7451, a NUMA node per die of two CCXs: the same, never "fewer vCPUs" (issue 25, point 4).
    {"hwloc/AMD-17h-Zen-2xEpyc-7451.xml", "--vcpus 12", [] { return vcpus(12); },
     kL3Clean | kHelpersSpread | kDiesAreL3s | kHelpersOnPackage, 0, "the guest fills it with whole L3 groups"},
    // 3. auto on 3-core CCXs: three whole CCXs, the host keeps the fourth.
    {"machines/amd-ryzen9-3900x.txt", "(auto)", automatic, kL3Clean | kDiesAreL3s | kHelpersSpread | kNoCpu0, 18, ""},
    {"lscpu/amd-threadripper-pro-7965wx.txt", "(auto)", automatic, kL3Clean | kDiesAreL3s | kNoCpu0, 18, ""},
    {"lscpu/amd-epyc-9374f-2socket.txt", "(auto)", automatic, kL3Clean | kDiesAreL3s | kNoCpu0, 0, ""},
    // 8. Counts that cannot be clean name the ones that are.
    {"machines/amd-ryzen9-3900x.txt", "--vcpus 8", [] { return vcpus(8); }, kHelpersSpread, 0,
     "6 or 12 vCPUs fill whole CCXs"},
    {"lscpu/amd-ryzen7-5800x.txt", "--vcpus 7", [] { return vcpus(7); }, kNoNohzCpu0, 0, "6 or 8 vCPUs fill whole cores"},
    {"machines/amd-ryzen9-3900x.txt", "--vcpus 7", [] { return vcpus(7); }, 0, 0, "6 or 12 vCPUs fill whole CCXs"},
    // 4. Larger than its kind: all of the fastest cores, then the next (issue 25, point 5), and the trade said.
    {"machines/amd-ryzen-ai-9-hx370.txt", "--vcpus 12", [] { return vcpus(12); }, kHelpersSpread | kFastFirst, 0,
     "it gets all of them and the fastest cores after them"},
    {"machines/amd-ryzen-ai-9-hx370.txt", "--vcpus 16", [] { return vcpus(16); }, kFastFirst, 0,
     "--vcpus 8 keeps the guest on 4 Zen 5 cores"},
    {"machines/intel-core-ultra5-225u.txt", "--vcpus 8", [] { return vcpus(8); }, kHelpersSpread, 0,
     "--vcpus 4 keeps the guest on 2 P-cores"},
    {"machines/amd-ryzen-ai-9-hx370.txt", "(auto)", automatic, kL3Clean | kFastKind | kDiesAreL3s, 8, ""},
    {"machines/intel-core-ultra5-225u.txt", "(auto)", automatic, kFastKind | kNoNohzCpu0, 4, ""},
    // The guide's hand plan: vCPUs on the P-cores 0-15 as SMT pairs, helpers on E-cores.
    {"lscpu/intel-core-i7-14700f.txt", "--vcpus 16", [] { return vcpus(16); },
     kFastKind | kHelpersSpread | kNoNohzCpu0, 0, ""},
    // 6. Helpers of several guests, and dedicated ones, spread over free cores.
    {"lscpu/intel-core-i7-14700f.txt", "--guest a:8 --guest b:8",
     [] {
       Request r;
       r.guests = {test::guest_of("a", 8), test::guest_of("b", 8)};
       return r;
     },
     kFastKind | kHelpersSpread | kNoNohzCpu0, 0, ""},
    {"lscpu/intel-core-i7-14700f.txt", "--vcpus 16 --emulator dedicated --iothreads 2",
     [] {
       Request r = vcpus(16);
       r.guests[0].helpers = HelperPlacement::Dedicated;
       r.guests[0].iothreads = 2;
       return r;
     },
     kFastKind | kHelpersSpread | kNoNohzCpu0, 0, ""},
    // 5. A guest over two sockets: 8 + 8 cores, a cell per node, helpers on both.
    {"lscpu/intel-xeon-e5-2660v2-2socket.txt", "--vcpus 32 --iothreads 2 --memory 64G",
     [] {
       Request r = vcpus(32);
       r.guests[0].iothreads = 2;
       r.guests[0].memory_bytes = 64ull << 30;
       return r;
     },
     kBalancedCells | kHelpersLocal | kHelpersSpread | kNoCpu0, 0, ""},
    {"hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", "--vcpus 256 --memory 256G",
     [] {
       Request r = vcpus(256);
       r.guests[0].memory_bytes = 256ull << 30;
       return r;
     },
     kBalancedCells | kHelpersLocal | kNoCpu0, 0, ""},
    {"lscpu/intel-xeon-e5-2660v2-2socket.txt", "(auto)", automatic, kL3Clean | kHelpersLocal | kNoCpu0, 20,
     "the guest fills it with whole L3 groups"},
    // 7. CPU 0 stays with the host when an equal choice exists.
    {"hwloc/AMD-19h-Zen3-2xEpyc-7763.xml", "--vcpus 8", [] { return vcpus(8); },
     kL3Clean | kHelpersLocal | kHelpersSpread | kNoCpu0, 0, ""},
    {"hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", "8 x --guest 16",
     [] {
       Request r;
       for (int i = 0; i < 8; ++i) r.guests.push_back(test::guest_of(fmt::format("vm{}", i), 16));
       return r;
     },
     kL3Clean | kHelpersLocal | kHelpersSpread | kNoCpu0 | kDiesAreL3s | kGuestsSpread, 0, ""},
    {"hwloc/Intel-RaptorLake-Corei7-1370P.xml", "--vcpus 8", [] { return vcpus(8); },
     kFastKind | kHelpersSpread | kNoCpu0, 0, ""},
    // 9. Packages are a locality boundary where one NUMA node spans both sockets (this export has
    // a single NUMA node over 2 x 12 cores): the guest and its helpers stay in one socket.
    {"hwloc/Intel-Haswell-2xXeon-E5-2680v3.xml", "--vcpus 8", [] { return vcpus(8); },
     kOnePackage | kHelpersOnPackage | kHelpersSpread | kNoCpu0, 0, "NUMA node 0 spans 2 packages"},
    {"hwloc/Intel-Haswell-2xXeon-E5-2680v3.xml", "--guest a:8 --guest b:12",
     [] {
       Request r;
       r.guests = {test::guest_of("a", 8), test::guest_of("b", 12)};
       return r;
     },
     kOnePackage | kHelpersSpread, 0, "NUMA node 0 spans 2 packages"},
};

class ExpertCases : public ::testing::TestWithParam<ExpertCase> {};

TEST_P(ExpertCases, PlanIsOneAnExpertWouldPost) {
  const ExpertCase& c = GetParam();
  const test::Machine m = test::machine(c.machine);
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Topology topo = test::load(m);
  const Request request = c.make();
  const Plan plan = make_plan(topo, request);
  SCOPED_TRACE(::testing::PrintToString(plan.explanation) + ::testing::PrintToString(plan.warnings));

  unsigned total = 0;
  for (const GuestPlan& g : plan.guests) total += static_cast<unsigned>(g.vcpus.size());
  if (c.expect_vcpus) {
    EXPECT_EQ(total, c.expect_vcpus);
  }

  const CpuFacts fast = test::fastest_cpus(f);
  CpuFacts guests_so_far;
  std::vector<CpuFacts> helper_threads;  // every helper thread of every guest
  for (const GuestPlan& g : plan.guests) {
    const CpuFacts vcpus = to_set(g.vcpu_cpus());
    if (c.checks & kL3Clean) {
      EXPECT_TRUE(test::l3_clean(f, g, plan.host)) << g.name << " shares an L3 with the host";
      for (const test::CpuList& l3 : f.l3)
        EXPECT_FALSE(test::meets(vcpus, l3) && test::meets(guests_so_far, l3)) << g.name << " shares an L3";
    }
    if (c.checks & kHelpersLocal) {
      EXPECT_TRUE(test::helpers_off_node_with_room(f, g, plan.host).empty())
          << ::testing::PrintToString(test::helpers_off_node_with_room(f, g, plan.host));
    }
    if (c.checks & kFastKind) {
      for (unsigned cpu : g.vcpus) EXPECT_TRUE(fast.count(cpu)) << "CPU " << cpu << " is not of the fastest kind";
    }
    if (c.checks & kNoCpu0) {
      EXPECT_FALSE(vcpus.count(0)) << g.name << " has CPU 0";
    }
    if (c.checks & kFastFirst) {
      ASSERT_GT(vcpus.size(), fast.size()) << "the case must ask for more vCPUs than the fastest cores hold";
      for (unsigned cpu : fast) EXPECT_TRUE(vcpus.count(cpu)) << g.name << " leaves fast CPU " << cpu << " to the host";
    }
    if (c.checks & (kOnePackage | kHelpersOnPackage)) {
      const test::CpuList* package = nullptr;
      for (const auto& [os, cpus] : f.packages)
        if (test::meets(vcpus, cpus)) {
          EXPECT_EQ(package, nullptr) << g.name << "'s vCPUs span packages";
          package = &cpus;
        }
      if ((c.checks & kHelpersOnPackage) && package) {
        auto inside = [&](const CpuSet& helper) {
          return std::all_of(helper.begin(), helper.end(), [&](unsigned cpu) {
            return std::find(package->begin(), package->end(), cpu) != package->end();
          });
        };
        EXPECT_TRUE(inside(g.emulator)) << g.name << "'s emulator leaves its package";
        for (const CpuSet& io : g.iothreads) EXPECT_TRUE(inside(io)) << g.name << "'s I/O thread leaves its package";
      }
    }
    if (c.checks & kDiesAreL3s) {
      std::size_t l3s = 0, per_l3 = 0;
      for (const test::CpuList& l3 : f.l3)
        if (test::meets(vcpus, l3)) {
          ++l3s;
          per_l3 = l3.size();
          EXPECT_TRUE(test::within(l3, vcpus)) << "a partial L3";
        }
      EXPECT_EQ(g.topology.sockets * g.topology.dies, l3s);
      EXPECT_EQ(g.topology.cores * g.topology.threads, per_l3);
    }
    if (c.checks & kBalancedCells) {
      std::map<int, unsigned> per_node;
      for (unsigned cpu : g.vcpus) ++per_node[test::node_of(f, cpu)];
      ASSERT_GT(per_node.size(), 1u);
      for (auto& [node, n] : per_node) EXPECT_EQ(n, g.vcpus.size() / per_node.size()) << "node " << node;
      ASSERT_EQ(g.numa_cells.size(), per_node.size());
      std::uint64_t memory = 0;
      for (const NumaCell& cell : g.numa_cells) {
        for (unsigned v : cell.vcpus) EXPECT_EQ(test::node_of(f, g.vcpus[v]), static_cast<int>(cell.host_node));
        ASSERT_TRUE(cell.memory_bytes);
        memory += *cell.memory_bytes;
      }
      EXPECT_EQ(memory, *request.guests[0].memory_bytes);
      EXPECT_EQ(g.topology.sockets, per_node.size());  // one socket per package (node) on these hosts
    }
    guests_so_far.insert(vcpus.begin(), vcpus.end());
    helper_threads.push_back(to_set(g.emulator));
    for (const CpuSet& io : g.iothreads) helper_threads.push_back(to_set(io));
  }
  if (c.checks & kHelpersSpread) {
    for (std::size_t a = 0; a < helper_threads.size(); ++a)
      for (std::size_t b = a + 1; b < helper_threads.size(); ++b)
        for (const test::CpuList& core : f.cores)
          EXPECT_FALSE(test::meets(helper_threads[a], core) && test::meets(helper_threads[b], core))
              << "helper threads " << a << " and " << b << " share core " << ::testing::PrintToString(core);
  }
  if (c.checks & kNoNohzCpu0) {
    bool found = false;
    for (const std::string& advice : plan.advice)
      if (auto at = advice.find("nohz_full="); at != std::string::npos) {
        found = true;
        std::string list = advice.substr(at + 10, advice.find(' ', at) - at - 10);
        EXPECT_FALSE(CpuSet::parse(list).contains(0u)) << advice;
        // Where a guest has CPU 0, the advice says why it is not in the list.
        if (guests_so_far.count(0)) {
          EXPECT_NE(advice.find("CPU 0 left out"), std::string::npos) << advice;
        }
      }
    EXPECT_TRUE(found) << ::testing::PrintToString(plan.advice);
  }
  if (c.checks & kGuestsSpread) {
    std::map<int, unsigned> per_node;
    for (const auto& [node, cpus] : f.numa) per_node[static_cast<int>(node)] = 0;
    for (const GuestPlan& g : plan.guests) {
      const std::set<int> nodes = test::nodes_of(f, to_set(g.vcpu_cpus()));
      ASSERT_EQ(nodes.size(), 1u) << g.name;
      ++per_node[*nodes.begin()];
    }
    unsigned most = 0, least = ~0u;
    for (const auto& [node, count] : per_node) most = std::max(most, count), least = std::min(least, count);
    EXPECT_LE(most - least, 1u) << ::testing::PrintToString(per_node);
  }
  if (*c.warning) {
    bool found = false;
    for (const auto* lines : {&plan.warnings, &plan.explanation})
      for (const std::string& w : *lines) found |= w.find(c.warning) != std::string::npos;
    EXPECT_TRUE(found) << "no warning says '" << c.warning << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ExpertCases, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string name = fmt::format("{}_{}", info.index, info.param.machine);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

// The guide's i7-14700F plan, exactly: vCPU i on CPU i, threads=2, and the
// helpers on two E-cores (MAXMHZ 4200 in the listing), one each.
TEST(ExpertCases, I7_14700FKeepsTheGuidesHandPlanForTheVcpus) {
  const test::Machine m = test::machine("lscpu/intel-core-i7-14700f.txt");
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Plan plan = make_plan(test::load(m), vcpus(16));
  const GuestPlan& g = plan.guests[0];
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(g.vcpus[i], i);
  EXPECT_EQ(g.topology.threads, 2u);
  const CpuFacts e_cores = to_set(f.maxmhz.at(4200.0));
  EXPECT_TRUE(test::within(g.emulator.to_vector(), e_cores));
  EXPECT_TRUE(test::within(g.iothreads.at(0).to_vector(), e_cores));
}

// Helpers on compute cores while one is free, never on the SoC tile's LP E-cores: on the
// Core Ultra 5 225U listing CPUs 12-13 are the cores whose L3 column is '-'.
TEST(ExpertCases, HelpersStayOffTheSocTilesLowPowerCores) {
  const CpuSet soc_tile{12, 13};
  for (const Request& request : {automatic(), vcpus(8)}) {
    const Plan plan = make_plan(test::load(test::machine("machines/intel-core-ultra5-225u.txt")), request);
    const GuestPlan& g = plan.guests[0];
    EXPECT_FALSE(g.emulator.intersects(soc_tile)) << g.emulator.to_string();
    for (const CpuSet& io : g.iothreads) EXPECT_FALSE(io.intersects(soc_tile)) << io.to_string();
  }
}

// 9. Text: plural kind names, no topoext guess on an Intel P/E listing,
// offline CPUs named.
TEST(ExpertCases, TextNamesKindsAndSkipsTheAmdGuessOnAnIntelHybridListing) {
  const Plan plan = make_plan(test::load(test::machine("machines/amd-ryzen-ai-9-hx370.txt")), vcpus(12));
  std::string all;
  for (const auto* lines : {&plan.explanation, &plan.warnings})
    for (const std::string& line : *lines) all += line + "\n";
  EXPECT_EQ(all.find("performances"), std::string::npos) << all;
  EXPECT_EQ(all.find("efficiencys"), std::string::npos) << all;
  // AMD's kinds by their names (the listing's header says CPU family 26, Zen 5):
  // 4 Zen 5 cores with 2 Zen 5c cores, never "performance"/"efficiency".
  EXPECT_NE(all.find("4 Zen 5 cores + 2 Zen 5c cores"), std::string::npos) << all;
  EXPECT_EQ(all.find("efficiency core"), std::string::npos) << all;

  const Plan intel = make_plan(test::load(test::machine("lscpu/intel-core-i7-14700f.txt")), vcpus(16));
  for (const std::string& w : intel.warnings) EXPECT_EQ(w.find("topoext"), std::string::npos) << w;
  // One L3 for the whole CPU: the helpers cannot be "away from the vCPUs' caches".
  for (const std::string& line : intel.explanation) EXPECT_EQ(line.find("away from"), std::string::npos) << line;
}

TEST(ExpertCases, OfflineCpusAreNamed) {
  // A listing whose last two CPUs are offline ("no" in the ONLINE column).
  const std::string text =
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
      "  0    0      0    0 0:0:0:0          yes\n  1    0      0    1 1:1:1:0          yes\n"
      "  2    0      0    2 2:2:2:0          yes\n  3    0      0    3 3:3:3:0          yes\n"
      "  4    0      0    4 4:4:4:0          yes\n  5    0      0    5 5:5:5:0          yes\n"
      "  6    -      -    - :::                no\n  7    -      -    - :::                no\n";
  const Plan plan = make_plan(load_lscpu(text, "offline.txt"), vcpus(2));
  bool named = false;
  for (const std::string& line : plan.explanation) named |= line.find("CPUs 6-7 are offline") != std::string::npos;
  EXPECT_TRUE(named) << ::testing::PrintToString(plan.explanation);
}

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

// 4. Helpers rank CPU 0's core last: among host cores that cost the same, the
// boot CPU's (facts: the core holding CPU 0) is the one left alone.
TEST(ExpertCases, HelpersTakeCpu0sCoreLast) {
  for (const auto& [name, request] : {std::pair{"machines/amd-ryzen9-3900x.txt", automatic()},
                                      std::pair{"lscpu/intel-core-i7-14700f.txt", vcpus(8)}}) {
    SCOPED_TRACE(name);
    const test::Machine m = test::machine(name);
    const test::CorpusFacts f = test::read_facts(m.facts);
    const Plan plan = make_plan(test::load(m), request);
    const test::CpuList& boot_core = *test::core_of(f, 0);
    const GuestPlan& g = plan.guests[0];
    EXPECT_FALSE(test::meets(to_set(g.emulator), boot_core)) << g.emulator.to_string();
    for (const CpuSet& io : g.iothreads) EXPECT_FALSE(test::meets(to_set(io), boot_core)) << io.to_string();
  }
}

// 8. A NUMA node without memory (a CPU-only node) is never a strict memory
// target: the guest on it is bound to the nearest node with memory. The
// export's node 1 (CPUs 8-15,24-31, facts) is made CPU-only here.
TEST(ExpertCases, ACpuOnlyNodeIsNeverTheMemoryTarget) {
  const test::Machine m = test::machine("hwloc/32em64t-2n8c2t-pci-wholeio.xml");
  const test::CorpusFacts f = test::read_facts(m.facts);
  Topology topo = test::load(m);
  ASSERT_EQ(topo.numa_nodes.size(), 2u);
  topo.numa_nodes[1].memory_bytes = 0;
  Request request = vcpus(8);
  request.guests[0].gpu = "84:00.0";  // the K40m on node 1 keeps the guest there
  const Plan plan = make_plan(topo, request);
  const GuestPlan& g = plan.guests[0];
  EXPECT_TRUE(test::within(g.vcpu_cpus().to_vector(), to_set(f.numa.at(1))));
  EXPECT_EQ(g.memory_nodes, CpuSet{0});
  bool said = false;
  for (const std::string& line : plan.explanation) said |= line.find("NUMA node 1 has no memory") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(plan.explanation);

  // Over both nodes: one cell each, both taking memory from node 0.
  Request wide = vcpus(24);
  wide.guests[0].memory_bytes = std::uint64_t{16} << 30;
  const Plan both = make_plan(topo, wide);
  ASSERT_EQ(both.guests[0].numa_cells.size(), 2u);
  for (const NumaCell& cell : both.guests[0].numa_cells) EXPECT_EQ(cell.host_node, 0u);
}

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

// 4. On EPYC with a NUMA node per die the helpers of a guest that fills its
// node go next door in its package, and no warning advises fewer vCPUs.
TEST(ExpertCases, AGuestFillingItsNodeIsNotToldToShrink) {
  const test::Machine m = test::machine("hwloc/AMD-17h-Zen-2xEpyc-7451.xml");
  const Plan plan = make_plan(test::load(m), vcpus(12));
  for (const std::string& w : plan.warnings) EXPECT_EQ(w.find("fewer vCPUs"), std::string::npos) << w;
}

// 7. The search finds its own best plan: 24 vCPUs on the 2x EPYC 7451 (two
// whole dies) scored 1585 on nodes 0-1 with CPU 0 while equal dies without it
// score less; now the plan leaves CPU 0's die (facts: node 0) alone.
TEST(ExpertCases, TheSearchLeavesCpu0sDieWhenEqualDiesAreFree) {
  const test::Machine m = test::machine("hwloc/AMD-17h-Zen-2xEpyc-7451.xml");
  const test::CorpusFacts f = test::read_facts(m.facts);
  Request request = vcpus(24);
  request.guests[0].memory_bytes = std::uint64_t{32} << 30;
  const Plan plan = make_plan(test::load(m), request);
  const CpuFacts got = to_set(plan.guests[0].vcpu_cpus());
  EXPECT_FALSE(test::meets(got, f.numa.at(0))) << plan.guests[0].vcpu_cpus().to_string();
  EXPECT_EQ(test::nodes_of(f, got).size(), 2u);
}

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

// 6. No NUMA node is bound more guest memory than it has. 24em64t-2n6c2t-pci.xml:
// node 0 has local_memory 19316633600 bytes and node 1 19327348736 (both about
// 18 GiB, read from the file): two 12 GiB guests go one to each node, and
// three are one too many, which the plan says.
TEST(ExpertCases, NoNodeIsBoundMoreMemoryThanItHas) {
  const test::Machine m = test::machine("hwloc/24em64t-2n6c2t-pci.xml");
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Topology topo = test::load(m);
  Request two;
  for (const char* name : {"a", "b"}) {
    two.guests.push_back(test::guest_of(name, 4));
    two.guests.back().memory_bytes = std::uint64_t{12} << 30;
  }
  const Plan plan = make_plan(topo, two);
  std::set<int> nodes;
  for (const GuestPlan& g : plan.guests) {
    const std::set<int> mine = test::nodes_of(f, to_set(g.vcpu_cpus()));
    ASSERT_EQ(mine.size(), 1u) << g.name;
    EXPECT_TRUE(nodes.insert(*mine.begin()).second) << "both guests bound to node " << *mine.begin();
  }
  for (const std::string& w : plan.warnings) EXPECT_EQ(w.find("cannot all start"), std::string::npos) << w;

  Request three = two;
  three.guests.push_back(test::guest_of("c", 4));
  three.guests.back().memory_bytes = std::uint64_t{12} << 30;
  bool said = false;
  for (const std::string& w : make_plan(topo, three).warnings) said |= w.find("cannot all start there") != std::string::npos;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

// 9. A guest sharing several L3s with the host gets one warning naming them
// all: on the 3900X listing (CCXs of cores 0-2 and 3-5, CPUs n and n+12),
// --cpus allows only two cores of each of the first two CCXs.
TEST(ExpertCases, SharedL3sAreOneWarning) {
  Request request = vcpus(8);
  request.allowed = test::set_of({1, 2, 4, 5, 13, 14, 16, 17});
  const Plan plan = make_plan(test::load(test::machine("machines/amd-ryzen9-3900x.txt")), request);
  unsigned l3_lines = 0;
  std::string line;
  for (const std::string& w : plan.warnings)
    if (w.find("with the host: the request leaves no L3") != std::string::npos) ++l3_lines, line = w;
  EXPECT_EQ(l3_lines, 1u) << ::testing::PrintToString(plan.warnings);
  EXPECT_NE(line.find("L3 #0"), std::string::npos) << line;
  EXPECT_NE(line.find("L3 #1"), std::string::npos) << line;
}

}  // namespace
}  // namespace vpt
