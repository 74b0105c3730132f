// Plans for the machines users have: the cases the optimizer must get right.
// Expected CPUs come from the fixture files themselves (quoted in comments).
#include <gtest/gtest.h>

#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "optimizer/cost_model.hpp"
#include "optimizer/plan_writers.hpp"
#include "optimizer_test_util.hpp"

namespace vpt {
namespace {

using test::corpus;
using test::one_guest;
using test::set_of;

bool any_warning_contains(const Plan& plan, const std::string& text) {
  for (const std::string& w : plan.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

CpuSet l3_cpus_of(const Topology& topo, unsigned cpu) { return cpus_sharing_cache(topo, cpu, 3); }

// The passthrough guide's i7-14700F (docs/optimizer-notes.md): CPUs 0-15 are the 8 P-cores (pairs 0/1 ... 14/15,
// MAXMHZ 5300-5400), 16-27 the 12 E-cores (MAXMHZ 4200, L2 ids 8, 9, 10 in
// clusters of four). The hand plan pins vCPU i to CPU i, the emulator to 16
// and the I/O thread to 17.
TEST(PlanForI7_14700F, SixteenVcpusTakeThePCoresWithSmt) {
  Topology topo = corpus("lscpu/intel-core-i7-14700f.txt");
  Plan plan = make_plan(topo, one_guest(16));
  ASSERT_EQ(plan.guests.size(), 1u);
  const GuestPlan& g = plan.guests[0];
  std::vector<unsigned> expected(16);
  for (unsigned i = 0; i < 16; ++i) expected[i] = i;
  EXPECT_EQ(g.vcpus, expected);  // vCPUs 2k, 2k+1 on the siblings 2k, 2k+1
  EXPECT_EQ(g.topology.threads, 2u);
  EXPECT_EQ(g.topology.cores, 8u);
  EXPECT_EQ(g.topology.sockets, 1u);
  const CpuSet e_cores = CpuSet::range(16, 27);
  EXPECT_TRUE(e_cores.contains(g.emulator));
  ASSERT_EQ(g.iothreads.size(), 1u);
  EXPECT_TRUE(e_cores.contains(g.iothreads[0]));
  EXPECT_EQ(plan.host, e_cores);
  EXPECT_FALSE(g.require_topoext);  // vendor unknown from lscpu -e: no AMD feature forced
}

TEST(PlanForI7_14700F, CostsNoMoreThanTheBriefsHandPlan) {
  Topology topo = corpus("lscpu/intel-core-i7-14700f.txt");
  Request request = one_guest(16);
  Plan plan = make_plan(topo, request);
  CostModel model(topo, request);
  ThreadPlacement hand;
  hand.host = CpuSet::range(16, 27);
  ThreadPlacement::Guest guest;
  for (unsigned i = 0; i < 16; ++i) guest.vcpus.push_back(i);
  guest.emulator = CpuSet{16};
  guest.iothreads = {CpuSet{17}};
  guest.topology = {1, 1, 8, 2};
  hand.guests.push_back(guest);
  // The guide's plan is optimal under the model too: same CPUs, and its
  // emulator/I-O thread CPUs share only the L3 with the guest, as ours do.
  EXPECT_NEAR(plan.score.total, model.total(hand), 1e-9);
}

// Ryzen Threadripper PRO 7965WX: SMT off, L3 ids 0,2,4,6 with 6 cores each.
TEST(PlanForThreadripper7965WX, SixVcpusGetExactlyOneL3AndTheHostNoneOfIt) {
  Topology topo = corpus("lscpu/amd-threadripper-pro-7965wx.txt");
  Plan plan = make_plan(topo, one_guest(6));
  const CpuSet guest = plan.guests[0].vcpu_cpus();
  const CpuSet l3 = l3_cpus_of(topo, guest.first());
  EXPECT_EQ(guest, l3);
  EXPECT_FALSE(plan.host.intersects(l3));
  EXPECT_FALSE(plan.guests[0].emulator.intersects(l3));
}

// 2x EPYC 7763: 8 CCDs of 8 cores per socket, no SMT.
TEST(PlanForEpyc7763, EightVcpusFillOneCcdAndRequireTopoext) {
  Topology topo = corpus("hwloc/AMD-19h-Zen3-2xEpyc-7763.xml");
  Plan plan = make_plan(topo, one_guest(8));
  const GuestPlan& g = plan.guests[0];
  const CpuSet guest = g.vcpu_cpus();
  EXPECT_EQ(guest, l3_cpus_of(topo, guest.first()));
  EXPECT_FALSE(plan.host.intersects(guest));
  EXPECT_TRUE(g.require_topoext);
  EXPECT_EQ(g.topology.threads, 1u);
  EXPECT_EQ(g.memory_nodes.size(), 1u);  // two NUMA nodes: memory from the guest's own
  EXPECT_TRUE(plan.optimal);
}

// 2x EPYC 9654: 24 CCDs of 8 cores x 2 threads (384 CPUs).
TEST(PlanForEpyc9654, SixteenVcpusTakeOneWholeCcd) {
  Topology topo = corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  Plan plan = make_plan(topo, one_guest(16));
  const GuestPlan& g = plan.guests[0];
  EXPECT_EQ(g.vcpu_cpus(), l3_cpus_of(topo, g.vcpus[0]));
  EXPECT_EQ(g.topology.threads, 2u);
  EXPECT_TRUE(g.require_topoext);
  for (std::size_t i = 0; i + 1 < g.vcpus.size(); i += 2)
    EXPECT_EQ(smt_siblings(topo, g.vcpus[i]), set_of({g.vcpus[i], g.vcpus[i + 1]}));
}

TEST(PlanForEpyc9654, EightGuestsEachGetTheirOwnCcds) {
  Topology topo = corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  Request request;
  for (int i = 0; i < 8; ++i)
    request.guests.push_back(test::guest_of(fmt::format("vm{}", i), 16));
  Plan plan = make_plan(topo, request);
  ASSERT_EQ(plan.guests.size(), 8u);
  CpuSet used_l3s;
  for (const GuestPlan& g : plan.guests) {
    CpuSet l3 = l3_cpus_of(topo, g.vcpus[0]);
    EXPECT_EQ(g.vcpu_cpus(), l3) << g.name;  // the whole CCD, nothing else
    EXPECT_FALSE(used_l3s.intersects(l3)) << g.name << " shares a CCD";
    used_l3s |= l3;
    EXPECT_FALSE(plan.host.intersects(l3));
  }
  EXPECT_TRUE(plan.warnings.empty()) << plan.warnings.front();
}

// 1370P: P-cores 0-11 (6 x 2 threads), E-cores 12-19 in two L2 clusters.
TEST(PlanForHybridLaptop, DefaultPreferenceGivesPCores) {
  Topology topo = corpus("hwloc/Intel-RaptorLake-Corei7-1370P.xml");
  Plan plan = make_plan(topo, one_guest(8));
  EXPECT_TRUE(CpuSet::range(0, 11).contains(plan.guests[0].vcpu_cpus()));
  EXPECT_EQ(plan.guests[0].topology.threads, 2u);
}

TEST(PlanForHybridLaptop, PreferEfficiencyGivesOneWholeECoreCluster) {
  Topology topo = corpus("hwloc/Intel-RaptorLake-Corei7-1370P.xml");
  Request request = one_guest(4);
  request.guests[0].prefer = Preference::Efficiency;
  Plan plan = make_plan(topo, request);
  const CpuSet guest = plan.guests[0].vcpu_cpus();
  EXPECT_TRUE(guest == CpuSet::range(12, 15) || guest == CpuSet::range(16, 19)) << guest.to_string();
}

TEST(PlanForHybridLaptop, AutoOnLakefieldTakesTheOnlyPCore) {
  Topology topo = corpus("hwloc/derived/5intel64-hybrid-lakefield.xml");
  Request request;
  request.guests.push_back(GuestRequest{});  // vcpus auto
  Plan plan = make_plan(topo, request);
  EXPECT_EQ(plan.guests[0].vcpu_cpus(), topo.kinds.back().cpus);  // the Sunny Cove core (PU 4)
}

// Knights Landing: 4 threads per core, pairs of cores share an L2, no L3.
TEST(PlanForKnightsLanding, EightVcpusAreTwoFourThreadCoresOfOneTile) {
  Topology topo = corpus("hwloc/Intel-KnightsLanding-XeonPhi-7210.xml");
  Plan plan = make_plan(topo, one_guest(8));
  const GuestPlan& g = plan.guests[0];
  EXPECT_EQ(g.topology.threads, 4u);
  EXPECT_EQ(g.topology.cores, 2u);
  EXPECT_EQ(g.vcpu_cpus(), cpus_sharing_cache(topo, g.vcpus[0], 2));  // the whole tile
}

class PlanDoesNotCrash : public ::testing::TestWithParam<const char*> {};
TEST_P(PlanDoesNotCrash, SmallAndAutoGuestsPlanCleanly) {
  Topology topo = corpus(GetParam());
  for (unsigned vcpus : {1u, 2u, 4u}) {
    if (vcpus > topo.cpus.size() / 4) continue;  // leaves room for the default reserve
    Plan plan = make_plan(topo, one_guest(vcpus));
    EXPECT_EQ(plan.guests[0].vcpus.size(), vcpus);
    EXPECT_FALSE(plan.host.intersects(plan.guests[0].vcpu_cpus()));
  }
  Request automatic;
  automatic.guests.push_back(GuestRequest{});
  Plan plan = make_plan(topo, automatic);
  EXPECT_GE(plan.guests[0].vcpus.size(), 1u);
  // JSON round trip keeps every pin.
  Plan again = plan_from_json(plan_to_json(plan), "t.json");
  EXPECT_EQ(again.guests[0].vcpus, plan.guests[0].vcpus);
  EXPECT_EQ(again.guests[0].emulator, plan.guests[0].emulator);
  EXPECT_EQ(again.host, plan.host);
  EXPECT_DOUBLE_EQ(again.score.total, plan.score.total);
}
INSTANTIATE_TEST_SUITE_P(
    Corpus, PlanDoesNotCrash,
    ::testing::Values("hwloc/192em64t-24n8c2t.xml", "hwloc/24em64t-2n6c2t-pci.xml", "hwloc/32em64t-2n8c+1mic.xml",
                      "hwloc/32em64t-2n8c2t-pci-wholeio.xml", "hwloc/64amd64-4p2n4ca2co.xml",
                      "hwloc/96em64t-4n4d3ca2co-pci.xml", "hwloc/AMD-17h-Zen-2xEpyc-7451.xml",
                      "hwloc/AMD-19h-Zen3-2xEpyc-7763.xml", "hwloc/Intel-Haswell-2xXeon-E5-2680v3.xml",
                      "hwloc/Intel-KnightsLanding-XeonPhi-7210.xml", "hwloc/Intel-RaptorLake-Corei7-1370P.xml",
                      "hwloc/Intel-SapphireRapids-2xXeonMax9460.xml", "hwloc/Intel-Skylake-2xXeon6140.xml",
                      "hwloc/Zhaoxin-2xCentaurHauls-KaiSheng-KH-40000.xml", "hwloc/memorysidecaches.xml",
                      "hwloc/nvidia-dgx-gb10.xml", "hwloc/nvidiaDGX2.xml", "hwloc/power8gpudistances.xml",
                      "hwloc/derived/128arm-2pa2n8cluster4co.xml", "hwloc/derived/5intel64-hybrid-lakefield.xml",
                      "hwloc-xml-parser/mediatek-dimensity-9300+.xml", "hwloc-xml-parser/nvidia-gh-200.xml",
                      "lscpu/amd-epyc-9374f-2socket.txt", "lscpu/amd-ryzen7-5800x.txt",
                      "lscpu/amd-threadripper-pro-7965wx.txt", "lscpu/intel-core-i7-14700f.txt",
                      "lscpu/intel-core-i9-12900k.txt", "lscpu/intel-xeon-e5-2660v2-2socket.txt"));

TEST(OddRequests, TooManyVcpusNamesTheLargestFeasibleCount) {
  Topology topo = corpus("lscpu/intel-core-i7-14700f.txt");
  // 28 CPUs; the host keeps 4 cores (one whole E-core cluster): at most 24 vCPUs.
  try {
    make_plan(topo, one_guest(40));
    FAIL() << "expected RequestError";
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("at most 24 fit"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(make_plan(topo, one_guest(24)));
}

TEST(OddRequests, AGuestOnCpusWithoutANumaNodeGetsNoNumaCells) {
  // A damaged hwloc export (found by tests/fuzz/hwloc_xml_fuzz.cpp): package 1
  // (CPUs 1, 13, 23) has no NUMANode object, package 0's node 0 holds the
  // even CPUs. A guest on CPUs 1-2,13-14 spans node 0 and "no node": making
  // one cell per node read the missing node (undefined behaviour).
  Topology topo = corpus("../fuzz/regressions/hwloc_xml/cpus-without-a-numa-node.xml");
  ASSERT_FALSE(find_cpu(topo, 1)->numa.has_value());
  ASSERT_EQ(find_cpu(topo, 2)->numa, std::optional<unsigned>(0));
  Request request = one_guest(4);
  request.allowed = CpuSet{1, 2, 13, 14};
  request.reserve_cores = 0;
  Plan plan = make_plan(topo, request);
  EXPECT_EQ(plan.guests[0].vcpu_cpus(), (CpuSet{1, 2, 13, 14}));
  EXPECT_TRUE(plan.guests[0].numa_cells.empty());
}

TEST(OddRequests, OddCountOnSmtHostPlansWithAWarning) {
  Topology topo = corpus("lscpu/amd-ryzen7-5800x.txt");
  Plan plan = make_plan(topo, one_guest(5));
  EXPECT_EQ(plan.guests[0].vcpus.size(), 5u);
  EXPECT_EQ(plan.guests[0].topology.threads, 1u);
  EXPECT_TRUE(any_warning_contains(plan, "SMT sibling")) << ::testing::PrintToString(plan.warnings);
  // The idle sibling is neither the guest's nor the host's.
  CpuSet siblings;
  for (unsigned cpu : plan.guests[0].vcpus) siblings |= smt_siblings(topo, cpu);
  EXPECT_FALSE(plan.host.intersects(siblings));
}

TEST(OddRequests, ForcedSharingWarnsAndNamesTheCache) {
  Topology topo = corpus("lscpu/intel-core-i7-14700f.txt");
  // Only two E-cores of the first cluster (L2 id 8: CPUs 16-19) may run the guest.
  Request request = one_guest(2);
  request.guests[0].prefer = Preference::Efficiency;
  request.allowed = CpuSet{16, 17};
  Plan plan = make_plan(topo, request);
  EXPECT_EQ(plan.guests[0].vcpu_cpus(), (CpuSet{16, 17}));
  EXPECT_TRUE(any_warning_contains(plan, "L2 #8 (CPUs 16-19)")) << ::testing::PrintToString(plan.warnings);
}

TEST(OddRequests, UnknownGpuListsTheHostsGpus) {
  Topology topo = corpus("hwloc/32em64t-2n8c2t-pci-wholeio.xml");
  Request request = one_guest(4);
  request.guests[0].gpu = "0000:99:00.0";
  try {
    make_plan(topo, request);
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("0000:84:00.0"), std::string::npos) << e.what();
  }
}

// 32em64t-2n8c2t-pci-wholeio: Tesla K40m at 0000:84:00.0 is on NUMA node 1 (CPUs 8-15,24-31).
TEST(GpuLocality, GuestFollowsItsGpusNumaNode) {
  Topology topo = corpus("hwloc/32em64t-2n8c2t-pci-wholeio.xml");
  Request request = one_guest(8);
  request.guests[0].gpu = "84:00.0";
  Plan plan = make_plan(topo, request);
  EXPECT_TRUE((CpuSet{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}).contains(plan.guests[0].vcpu_cpus()));
  EXPECT_EQ(plan.guests[0].memory_nodes, CpuSet{1});
}

// Two CCDs of 4 cores without SMT; the second has the larger (V-Cache) L3, as on a 7950X3D.
Topology two_ccds_second_with_vcache() {
  Topology topo;
  for (unsigned os = 0; os < 8; ++os) {
    LogicalCpu cpu;
    cpu.os_index = os;
    topo.cpus.push_back(cpu);
    topo.cores.push_back({0, CpuSet{os}, 0, 0});
  }
  topo.packages = {{0, CpuSet::range(0, 7), ""}};
  topo.caches = {{3, CacheType::Unified, 0, 32ull << 20, CpuSet::range(0, 3)},
                 {3, CacheType::Unified, 0, 96ull << 20, CpuSet::range(4, 7)}};
  topo.cpu_vendor = "AuthenticAMD";
  finish_topology(topo);
  return topo;
}

TEST(PreferVcache, GuestTakesTheLargerL3) {
  Topology topo = two_ccds_second_with_vcache();
  Request request = one_guest(4);
  request.reserve_cores = 2;
  request.guests[0].prefer = Preference::VCache;
  Plan plan = make_plan(topo, request);
  EXPECT_EQ(plan.guests[0].vcpu_cpus(), CpuSet::range(4, 7));
  EXPECT_TRUE(plan.guests[0].require_topoext);
  // Without the preference both CCDs are equal but for CPU 0, the boot CPU: the host keeps it.
  request.guests[0].prefer = Preference::Performance;
  EXPECT_EQ(make_plan(topo, request).guests[0].vcpu_cpus(), CpuSet::range(4, 7));
}

TEST(TinyHost, ReserveZeroOnTwoCpusSharesWithAWarning) {
  Topology topo;
  for (unsigned os : {0u, 1u}) { LogicalCpu cpu; cpu.os_index = os; topo.cpus.push_back(cpu); }
  topo.cores = {{0, CpuSet{0}, 0, 0}, {0, CpuSet{1}, 0, 0}};
  topo.packages = {{0, CpuSet{0, 1}, ""}};
  finish_topology(topo);
  EXPECT_THROW(make_plan(topo, one_guest(2)), RequestError);  // the default reserve leaves nothing
  Request request = one_guest(2);
  request.reserve_cores = 0;
  Plan plan = make_plan(topo, request);
  EXPECT_EQ(plan.guests[0].vcpu_cpus(), (CpuSet{0, 1}));
  EXPECT_TRUE(any_warning_contains(plan, "keeps no CPU of its own"));
}

// Issue 11, point 6: helpers spread over free cores unless the user asks for
// sharing, which --weight-stack-helpers 0 does.
TEST(HelperPlacement, SharingOneCoreIsWhatStackHelpersZeroAsksFor) {
  Topology topo = corpus("lscpu/intel-core-i7-14700f.txt");
  Request request;
  request.guests = {test::guest_of("a", 8), test::guest_of("b", 8)};
  Plan spread = make_plan(topo, request);
  CpuSet used;
  for (const GuestPlan& g : spread.guests) {
    EXPECT_FALSE(used.intersects(g.emulator));
    used |= g.emulator;
    for (const CpuSet& io : g.iothreads) {
      EXPECT_FALSE(used.intersects(io));  // E-cores are one thread each: distinct CPUs are distinct cores
      used |= io;
    }
  }
  request.weights.stack_helpers = 0;
  Plan packed = make_plan(topo, request);
  CpuSet all;
  for (const GuestPlan& g : packed.guests) {
    all |= g.emulator;
    for (const CpuSet& io : g.iothreads) all |= io;
  }
  EXPECT_EQ(all.size(), 1u) << all.to_string();
}

TEST(PlanJson, RoundTripsNumaCells) {
  Topology topo = corpus("lscpu/intel-xeon-e5-2660v2-2socket.txt");
  Request request = one_guest(32);
  Plan plan = make_plan(topo, request);
  ASSERT_EQ(plan.guests[0].numa_cells.size(), 2u);
  EXPECT_FALSE(plan.guests[0].numa_cells[0].memory_bytes);  // the memory was not given
  nlohmann::json doc = plan_to_json(plan);
  EXPECT_FALSE(doc["guests"][0]["numa_cells"][0].contains("memory_bytes"));
  Plan again = plan_from_json(doc, "t.json");
  ASSERT_EQ(again.guests[0].numa_cells.size(), 2u);
  EXPECT_EQ(again.guests[0].numa_cells[1].vcpus, plan.guests[0].numa_cells[1].vcpus);
  EXPECT_EQ(again.guests[0].numa_cells[1].host_node, 1u);
  // A plan written before cells existed still reads, with none.
  doc["guests"][0].erase("numa_cells");
  EXPECT_TRUE(plan_from_json(doc, "t.json").guests[0].numa_cells.empty());
}

TEST(NumaCells, MemorySplitsByVcpusInWholeMiBAndAddsUp) {
  std::vector<NumaCell> cells = {{0, CpuSet::range(0, 5), 0, std::nullopt}, {1, CpuSet::range(6, 7), 1, std::nullopt}};
  size_numa_cells(cells, (10ull << 30) + 12345);
  // 6 of 8 vCPUs: floor(10240 MiB * 6 / 8) = 7680 MiB; the last cell takes the rest.
  EXPECT_EQ(cells[0].memory_bytes, 7680ull << 20);
  EXPECT_EQ(cells[1].memory_bytes, (10ull << 30) + 12345 - (7680ull << 20));
}

}  // namespace
}  // namespace vpt

// ---- Plan JSON: what report --plan refuses (found by tests/fuzz/plan_json_fuzz.cpp) ----

namespace vpt {
namespace {

std::string plan_json_error(const std::function<void(nlohmann::json&)>& edit) {
  Topology topo = test::corpus("lscpu/intel-core-i7-14700f.txt");
  nlohmann::json doc = plan_to_json(make_plan(topo, test::one_guest(16)));
  edit(doc);
  try {
    plan_from_json(doc, "t.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(PlanJson, RefusesATopologyThatDoesNotPresentTheVcpus) {
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["guests"][0]["topology"]["cores"] = 9; }),
            "cannot read plan 't.json': guests[0].topology: presents 18 vCPUs (1 sockets x 1 dies x 9 cores x 2 "
            "threads), its vcpus list has 16");
}

TEST(PlanJson, RefusesCpuNumbersThatWouldWrapOrOverflow) {
  // -1 once became CPU 4294967295, which a CpuSet would allocate 512 MiB for.
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["guests"][0]["vcpus"][0] = -1; }),
            "cannot read plan 't.json': guests[0].vcpus[0]: -1 is not a CPU number (a whole number below 1048576)");
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["guests"][0]["emulator"] = {1e10}; }),
            "cannot read plan 't.json': guests[0].emulator[0]: 10000000000.0 is not a CPU number (a whole number below "
            "1048576)");
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["guests"][0]["vcpus"] = nlohmann::json::array(); }),
            "cannot read plan 't.json': guests[0].vcpus: a guest has at least one vCPU");
}

TEST(PlanJson, RefusesASchemaThatIsNotAString) {
  // Found by tests/fuzz/plan_json_fuzz.cpp: nlohmann's type_error escaped the reader (a crash in report --plan).
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["schema"] = nlohmann::json::array({"vpt-tune/plan/1"}); }),
            "cannot read plan 't.json': not a vpt-tune plan (expected \"schema\": \"vpt-tune/plan/1\")");
  EXPECT_EQ(plan_json_error([](nlohmann::json& d) { d["schema"] = 1; }),
            "cannot read plan 't.json': not a vpt-tune plan (expected \"schema\": \"vpt-tune/plan/1\")");
}

}  // namespace
}  // namespace vpt
