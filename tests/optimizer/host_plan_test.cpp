// Whole-host planning (optimizer/host_plan.hpp). Facts about the machines come
// from the lscpu files themselves (their CORE and L1d:L1i:L2:L3 columns, read
// here with a few lines of parsing), never from the planner.
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "optimizer/existing_pins.hpp"
#include "optimizer/host_plan.hpp"
#include "optimizer_test_util.hpp"

namespace vpt {
namespace {

using test::corpus;
using test::guest_of;

// CPU -> core and CPU -> L3 id, from an `lscpu -e` file's own columns.
struct LscpuColumns {
  std::map<unsigned, unsigned> core, l3;
  CpuSet l3_cpus(unsigned id) const {
    CpuSet set;
    for (auto [cpu, l] : l3)
      if (l == id) set.insert(cpu);
    return set;
  }
  CpuSet l3s_touching(const CpuSet& cpus) const {
    CpuSet set;
    for (unsigned cpu : cpus) set |= l3_cpus(l3.at(cpu));
    return set;
  }
  CpuSet cores_touching(const CpuSet& cpus) const {
    CpuSet set;
    for (unsigned cpu : cpus)
      for (auto [other, c] : core)
        if (c == core.at(cpu)) set.insert(other);
    return set;
  }
};

LscpuColumns columns(const std::string& relative) {
  std::ifstream in(std::string(VPT_CORPUS_DIR) + "/" + relative);
  std::string line;
  std::getline(in, line);  // header: CPU NODE SOCKET CORE L1d:L1i:L2:L3 ...
  LscpuColumns c;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    unsigned cpu = 0, node = 0, socket = 0, core = 0;
    std::string caches;
    if (!(row >> cpu >> node >> socket >> core >> caches)) continue;
    c.core[cpu] = core;
    c.l3[cpu] = static_cast<unsigned>(std::stoul(caches.substr(caches.rfind(':') + 1)));
  }
  return c;
}

HostGuest dedicated(const std::string& name, unsigned vcpus, std::vector<std::string> devices = {}) {
  HostGuest g;
  g.request = guest_of(name, vcpus);
  g.role = GuestRole::Dedicated;
  g.devices = std::move(devices);
  return g;
}

HostGuest shared(const std::string& name, unsigned vcpus) {
  HostGuest g;
  g.request = guest_of(name, vcpus);
  g.role = GuestRole::Shared;
  return g;
}

const HostGuestPlan& guest(const HostPlan& plan, const std::string& name) {
  for (const HostGuestPlan& g : plan.guests)
    if (g.name == name) return g;
  throw std::runtime_error("no guest " + name);
}

CpuSet threads_of(const GuestPlan& g) { return g.vcpu_cpus() | g.helper_cpus(); }

constexpr const char* kTr = "lscpu/amd-threadripper-pro-7965wx.txt";  // 4 L3s: 0-5, 6-11, 12-17, 18-23
constexpr const char* kRaptor = "lscpu/intel-core-i7-14700f.txt";

// --- Existing pins (optimizer/existing_pins.hpp) ---

std::map<unsigned, CpuSet> pins_on(const std::string& cpus) {
  std::map<unsigned, CpuSet> pins;
  unsigned v = 0;
  for (unsigned cpu : CpuSet::parse(cpus)) pins[v++] = CpuSet{cpu};
  return pins;
}

TEST(ExistingPins, OneCpuPerVcpuOnWholeCoresOffTheHostsCoreIsKeptOnOneL3) {
  const LscpuColumns cols = columns(kRaptor);  // one L3 (the last column is 0 on every row)
  ASSERT_EQ(cols.l3_cpus(0).size(), 28u);
  ASSERT_EQ(cols.cores_touching(CpuSet::parse("4,6")), CpuSet::parse("4-7"));
  const Topology topo = corpus(kRaptor);
  PinsReview r = review_existing_pins(topo, pins_on("4-7"), 4, {});
  EXPECT_TRUE(r.keep) << r.reason;
  EXPECT_EQ(r.cpus, CpuSet::parse("4-7"));
  // Half of two cores: the other threads would go to someone else.
  r = review_existing_pins(topo, pins_on("4,6"), 2, {});
  EXPECT_FALSE(r.keep);
  EXPECT_NE(r.reason.find("shares its core"), std::string::npos) << r.reason;
  // CPU 0's core is where the host's own work runs.
  r = review_existing_pins(topo, pins_on("0-3"), 4, {});
  EXPECT_FALSE(r.keep);
  EXPECT_NE(r.reason.find("core of CPU 0"), std::string::npos) << r.reason;
  // A vCPU that floats, two vCPUs on one CPU, a vCPU without a pin.
  std::map<unsigned, CpuSet> floating = pins_on("4-7");
  floating[3] = CpuSet::parse("6-7");
  EXPECT_FALSE(review_existing_pins(topo, floating, 4, {}).keep);
  std::map<unsigned, CpuSet> twice = pins_on("4-7");
  twice[3] = CpuSet{6};
  EXPECT_FALSE(review_existing_pins(topo, twice, 4, {}).keep);
  EXPECT_FALSE(review_existing_pins(topo, pins_on("4-7"), 6, {}).keep);
}

TEST(ExistingPins, IsolatedCpusDecideWhereTheyMayBe) {
  const Topology topo = corpus(kRaptor);
  // The case: pins on the cores isolcpus= keeps free are the user's decision.
  EXPECT_TRUE(review_existing_pins(topo, pins_on("8-15"), 8, CpuSet::parse("8-15")).keep);
  PinsReview outside = review_existing_pins(topo, pins_on("2-9"), 8, CpuSet::parse("8-15"));
  EXPECT_FALSE(outside.keep);
  EXPECT_NE(outside.reason.find("outside the isolated CPUs"), std::string::npos) << outside.reason;
}

TEST(ExistingPins, OnAHostWithSeveralL3sPinsOnTheHostsL3AreNotKept) {
  const LscpuColumns cols = columns(kTr);
  ASSERT_EQ(cols.l3_cpus(cols.l3.at(0)), CpuSet::parse("0-5"));
  ASSERT_EQ(cols.l3_cpus(cols.l3.at(6)), CpuSet::parse("6-11"));
  const Topology topo = corpus(kTr);
  EXPECT_TRUE(review_existing_pins(topo, pins_on("6-11"), 6, {}).keep);
  PinsReview r = review_existing_pins(topo, pins_on("2-5"), 4, {});
  EXPECT_FALSE(r.keep);
  EXPECT_NE(r.reason.find("share the host's L3"), std::string::npos) << r.reason;
}

TEST(HostPlan, ADedicatedGuestKeepsItsCleanPinsAndTheOthersPlanAroundThem) {
  const LscpuColumns cols = columns(kTr);
  HostRequest request;
  HostGuest gaming = dedicated("gaming", 6, {"0000:01:00.0"});
  gaming.clean_pins = CpuSet::parse("12-17");  // the third L3, where the user put it
  gaming.clean_pins_reason = "test";
  request.guests = {gaming, dedicated("work", 6, {"0000:02:00.0"}), shared("nas", 2)};
  HostPlan plan = plan_host(corpus(kTr), request);
  const HostGuestPlan& g = guest(plan, "gaming");
  EXPECT_TRUE(g.kept_clean_pins);
  EXPECT_EQ(g.plan->vcpu_cpus(), CpuSet::parse("12-17"));
  EXPECT_EQ(g.plan->vcpus.size(), 6u);
  const GuestPlan& work = *guest(plan, "work").plan;
  EXPECT_FALSE(guest(plan, "work").kept_clean_pins);
  EXPECT_FALSE(cols.l3s_touching(work.vcpu_cpus()).intersects(CpuSet::parse("12-17")));
  EXPECT_FALSE(work.helper_cpus().intersects(CpuSet::parse("12-17")));
  EXPECT_FALSE(g.plan->helper_cpus().intersects(work.vcpu_cpus()));
  EXPECT_FALSE(plan.host.intersects(CpuSet::parse("12-17")));
  EXPECT_FALSE(guest(plan, "nas").pool.intersects(CpuSet::parse("12-17") | work.vcpu_cpus()));
}

TEST(HostPlan, CleanPinsThatOverlapAKeptGuestArePlannedAnew) {
  HostRequest request;
  HostGuest kept;
  kept.request = guest_of("router", 2);
  kept.role = GuestRole::Kept;
  kept.kept_cpus = CpuSet::parse("6-7");
  HostGuest gaming = dedicated("gaming", 4, {"0000:01:00.0"});
  gaming.clean_pins = CpuSet::parse("6-9");
  request.guests = {kept, gaming};
  HostPlan plan = plan_host(corpus(kRaptor), request);
  EXPECT_FALSE(guest(plan, "gaming").kept_clean_pins);
  EXPECT_FALSE(guest(plan, "gaming").plan->vcpu_cpus().intersects(CpuSet::parse("6-7")));
}

TEST(HostPlan, DedicatedGuestsGetTheirOwnL3sApartFromTheHost) {
  const LscpuColumns cols = columns(kTr);
  HostRequest request;
  request.guests = {dedicated("gaming", 6, {"0000:01:00.0"}), dedicated("work", 6, {"0000:02:00.0"})};
  HostPlan plan = plan_host(corpus(kTr), request);
  const CpuSet a = guest(plan, "gaming").plan->vcpu_cpus(), b = guest(plan, "work").plan->vcpu_cpus();
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(b.size(), 6u);
  EXPECT_FALSE(cols.l3s_touching(a).intersects(cols.l3s_touching(b)));
  EXPECT_FALSE(cols.l3s_touching(a).intersects(plan.host));
  EXPECT_FALSE(cols.l3s_touching(b).intersects(plan.host));
}

TEST(HostPlan, SharedGuestsFloatAwayFromTheDedicatedGuestsL3s) {
  const LscpuColumns cols = columns(kTr);
  HostRequest request;
  request.guests = {dedicated("gaming", 6, {"0000:01:00.0"}), shared("nas", 4), shared("web", 2)};
  HostPlan plan = plan_host(corpus(kTr), request);
  const GuestPlan& gaming = *guest(plan, "gaming").plan;
  const CpuSet pool = guest(plan, "nas").pool;
  EXPECT_EQ(pool, guest(plan, "web").pool);
  EXPECT_FALSE(pool.empty());
  EXPECT_FALSE(pool.intersects(cols.l3s_touching(gaming.vcpu_cpus())));
  EXPECT_FALSE(pool.intersects(threads_of(gaming) - plan.host));
  EXPECT_FALSE(guest(plan, "nas").plan.has_value());
}

TEST(HostPlan, GuestsOfOneDeviceShareTheirCoresAndNoOneElseDoes) {
  const LscpuColumns cols = columns(kTr);
  HostRequest request;
  request.guests = {dedicated("windows", 6, {"0000:01:00.0", "0000:01:00.1"}),
                    dedicated("linux", 6, {"0000:01:00.0"}), dedicated("smaller", 4, {"0000:01:00.1"}),
                    dedicated("db", 6, {"0000:41:00.0"})};
  HostPlan plan = plan_host(corpus(kTr), request);
  const CpuSet win = guest(plan, "windows").plan->vcpu_cpus();
  EXPECT_EQ(guest(plan, "linux").plan->vcpu_cpus(), win);
  EXPECT_TRUE(win.contains(guest(plan, "smaller").plan->vcpu_cpus()));
  EXPECT_EQ(guest(plan, "smaller").plan->vcpus.size(), 4u);
  const CpuSet db = guest(plan, "db").plan->vcpu_cpus();
  EXPECT_FALSE(cols.cores_touching(db).intersects(win));
  EXPECT_FALSE(guest(plan, "smaller").plan->helper_cpus().intersects(db));
  EXPECT_EQ(guest(plan, "linux").same_cores_as, (std::vector<std::string>{"windows", "smaller"}));
  EXPECT_TRUE(guest(plan, "db").same_cores_as.empty());
}

TEST(HostPlan, KeptPinsStayAndNoOtherGuestGetsTheirCores) {
  const LscpuColumns cols = columns(kRaptor);
  HostRequest request;
  HostGuest kept;
  kept.request = guest_of("router", 2);
  kept.role = GuestRole::Kept;
  kept.kept_cpus = CpuSet::parse("4,6");  // one thread of cores 2 and 3 (CPUs 4-5, 6-7)
  request.guests = {kept, dedicated("gaming", 8, {"0000:01:00.0"}), shared("nas", 2)};
  HostPlan plan = plan_host(corpus(kRaptor), request);
  const CpuSet kept_cores = cols.cores_touching(CpuSet::parse("4,6"));
  EXPECT_EQ(kept_cores, CpuSet::parse("4-7"));
  EXPECT_EQ(guest(plan, "router").kept_cpus, CpuSet::parse("4,6"));
  EXPECT_FALSE(threads_of(*guest(plan, "gaming").plan).intersects(kept_cores));
  EXPECT_FALSE(guest(plan, "nas").pool.intersects(kept_cores));
}

TEST(HostPlan, IsolatedCpusHoldTheVcpusAndNeverAHelperOrThePool) {
  HostRequest request;
  request.isolated = CpuSet::parse("4-15");
  request.guests = {dedicated("gaming", 8, {"0000:01:00.0"}), shared("nas", 2)};
  HostPlan plan = plan_host(corpus(kRaptor), request);
  const GuestPlan& gaming = *guest(plan, "gaming").plan;
  EXPECT_TRUE(request.isolated.contains(gaming.vcpu_cpus()));
  EXPECT_FALSE(gaming.helper_cpus().intersects(request.isolated));
  EXPECT_FALSE(guest(plan, "nas").pool.intersects(request.isolated));
  EXPECT_FALSE(plan.host.intersects(request.isolated));
}

TEST(HostPlan, AnIsolatedSetTooSmallIsAWarningThatNamesTheKernelLine) {
  Request request;
  request.guests = {guest_of("gaming", 12)};
  request.isolated = CpuSet::parse("8-11");
  Plan plan = make_plan(corpus(kRaptor), request);
  bool warned = false;
  for (const std::string& w : plan.warnings) warned |= w.find("kernel isolates CPUs 8-11") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(HostPlan, ExcludedCpusGetNoHelperEither) {
  Request request;
  request.guests = {guest_of("second", 4)};
  request.excluded = CpuSet::parse("2-11");
  Plan plan = make_plan(corpus(kRaptor), request);
  EXPECT_FALSE(plan.guests.front().vcpu_cpus().intersects(request.excluded));
  EXPECT_FALSE(plan.guests.front().helper_cpus().intersects(request.excluded));
}

TEST(HostPlan, DedicatedGuestsThatDoNotFitAreNamedNeverOverlapped) {
  // A Ryzen 7 5800X has 8 cores, 16 threads; the host keeps 2 cores: 12 threads for guests.
  HostRequest request;
  request.guests = {dedicated("a", 8, {"0000:01:00.0"}), dedicated("b", 4, {"0000:02:00.0"}),
                    dedicated("c", 8, {"0000:03:00.0"})};
  try {
    plan_host(corpus("lscpu/amd-ryzen7-5800x.txt"), request);
    FAIL() << "expected RequestError";
  } catch (const RequestError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("a (8 vCPUs), b (4 vCPUs) fit"), std::string::npos) << what;
    EXPECT_NE(what.find("c (8 vCPUs) does not"), std::string::npos) << what;
  }
}

TEST(HostPlan, AGuestMovesToAnotherNodeWhenItsNodeCannotHoldTheMemory) {
  // 24em64t-2n6c2t-pci.xml: node 0 = even CPUs (cpuset 0x00555555), 19316633600 bytes;
  // node 1 = odd CPUs (0x00aaaaaa), 19327348736 bytes (both about 18 GiB).
  const Topology topo = corpus("hwloc/24em64t-2n6c2t-pci.xml");
  CpuSet even, odd;
  for (unsigned cpu = 0; cpu < 24; ++cpu) (cpu % 2 ? odd : even).insert(cpu);
  HostRequest request;
  request.isolated = odd;  // the kernel line draws both guests to node 1
  request.guests = {dedicated("a", 4), dedicated("b", 4)};
  // Control: without memory sizes both go where the isolated CPUs are.
  HostPlan control = plan_host(topo, request);
  ASSERT_TRUE(odd.contains(guest(control, "a").plan->vcpu_cpus()));
  ASSERT_TRUE(odd.contains(guest(control, "b").plan->vcpu_cpus()));
  // 12 GiB each: 24 GiB cannot be bound to one 18 GiB node; one guest moves.
  request.guests[0].request.memory_bytes = request.guests[1].request.memory_bytes = 12ull << 30;
  HostPlan plan = plan_host(topo, request);
  const CpuSet a = guest(plan, "a").plan->vcpu_cpus(), b = guest(plan, "b").plan->vcpu_cpus();
  EXPECT_TRUE((even.contains(a) && odd.contains(b)) || (odd.contains(a) && even.contains(b))) << a.to_string() << " / " << b.to_string();
  EXPECT_FALSE(a.intersects(b));
  EXPECT_FALSE(smt_siblings(topo, 0).intersects(a | b));
  for (const std::string& w : plan.warnings) EXPECT_EQ(w.find("cannot all start there"), std::string::npos) << w;
  bool said = false;
  for (const std::string& line : plan.explanation) said |= line.find("moves to NUMA node 0") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(plan.explanation);
  EXPECT_FALSE(plan.host.intersects(a | b));
}

TEST(HostPlan, GuestsBoundToANodeBeyondItsMemoryAreNamed) {
  // 24em64t-2n6c2t-pci.xml: two nodes; node 0 has local_memory="19316633600" (18 GiB) in the file.
  const Topology topo = corpus("hwloc/24em64t-2n6c2t-pci.xml");
  HostRequest request;
  HostGuest a = dedicated("a", 4, {"0000:01:00.0"}), b = dedicated("b", 4, {"0000:02:00.0"});
  a.request.memory_bytes = b.request.memory_bytes = 12ull << 30;
  request.guests = {a, b};
  for (const NumaNode& node : topo.numa_nodes)
    if (node.os_index != 0) request.excluded |= node.cpus;  // both must run on node 0
  HostPlan plan = plan_host(topo, request);
  bool named = false;
  for (const std::string& w : plan.warnings)
    named |= w.find("a, b bind") != std::string::npos && w.find("to NUMA node 0, which has") != std::string::npos;
  EXPECT_TRUE(named) << ::testing::PrintToString(plan.warnings);
  // 8 GiB each fits: no warning.
  request.guests[0].request.memory_bytes = request.guests[1].request.memory_bytes = 8ull << 30;
  for (const std::string& w : plan_host(topo, request).warnings) EXPECT_EQ(w.find("bind"), std::string::npos) << w;
}

TEST(HostPlan, RefusesAKeptGuestWithoutPinsAndDuplicateNames) {
  HostRequest request;
  HostGuest kept;
  kept.request = guest_of("router", 2);
  kept.role = GuestRole::Kept;
  request.guests = {kept};
  EXPECT_THROW(plan_host(corpus(kRaptor), request), RequestError);
  request.guests = {shared("x", 2), shared("x", 2)};
  EXPECT_THROW(plan_host(corpus(kRaptor), request), RequestError);
}

TEST(HostPlan, OnlySharedGuestsFloatOverTheHostOutsideKeptCores) {
  HostRequest request;
  request.guests = {shared("a", 2), shared("b", 4)};
  HostPlan plan = plan_host(corpus(kRaptor), request);
  EXPECT_TRUE(plan.dedicated.guests.empty());
  EXPECT_EQ(guest(plan, "a").pool, CpuSet::parse("0-27"));
}

}  // namespace
}  // namespace vpt
