// AMD 3D V-Cache (issue 25, point 2): the hand-made X3D listings of
// tests/optimizer/machines (with the L3 sizes a user pastes from sysfs beside
// `lscpu -e`). Every expectation comes from the listing's own columns and
// sysfs lines, read by awk into the .facts files (scripts/gen-corpus-facts.sh),
// and from the V-Cache rule itself: an AMD L3 of 64 MiB or more.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "optimizer/optimizer.hpp"
#include "optimizer_test_util.hpp"
#include "plan_facts.hpp"
#include <nlohmann/json.hpp>

#include "probe/topology_writers.hpp"

namespace vpt {
namespace {

using test::CpuFacts;
using test::to_set;

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string text_of(const test::Machine& m) {
  std::ifstream in(m.file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The listing without the pasted sysfs lines: what `lscpu; lscpu -e` alone shows.
std::string without_sysfs(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (!line.starts_with("/sys/")) out += line + "\n";
  return out;
}

// CPUs whose pasted L3 size is V-Cache sized (facts), and the others.
CpuFacts vcache_cpus(const test::CorpusFacts& f) {
  CpuFacts cpus;
  for (const auto& [bytes, list] : f.l3size)
    if (bytes >= 64 * kMiB) cpus.insert(list.begin(), list.end());
  return cpus;
}

std::string all_text(const Plan& plan) {
  std::string all;
  for (const auto* lines : {&plan.explanation, &plan.warnings, &plan.advice})
    for (const std::string& line : *lines) all += line + "\n";
  return all;
}

Request prefer(Preference p, std::optional<unsigned> vcpus) {
  Request r = vcpus ? test::one_guest(*vcpus) : test::one_guest_auto();
  r.guests[0].prefer = p;
  return r;
}

const char* const kX3d[] = {"machines/amd-ryzen7-7800x3d.txt", "machines/amd-ryzen9-7900x3d.txt",
                            "machines/amd-ryzen9-7950x3d.txt", "machines/amd-ryzen7-9800x3d.txt",
                            "machines/amd-ryzen9-9950x3d.txt"};

// The pasted sizes reach the model's L3s, the V-Cache L3s are those of 96 MiB,
// and a V-Cache CCD is never a lower core kind because it clocks lower.
TEST(VCache, ProbeFindsTheVCacheCcdByItsSize) {
  for (const char* name : kX3d) {
    SCOPED_TRACE(name);
    const test::Machine m = test::machine(name);
    const test::CorpusFacts f = test::read_facts(m.facts);
    const Topology topo = test::load(m);
    ASSERT_FALSE(f.l3size.empty());
    for (const auto& [bytes, list] : f.l3size)
      for (unsigned cpu : list) {
        const Cache* l3 = caches_at_level(topo, 3).at(*find_cpu(topo, cpu)->l3);
        EXPECT_EQ(l3->size_bytes, bytes) << "CPU " << cpu;
      }
    CpuFacts found;
    for (const Cache* l3 : vcache_l3s(topo)) found.merge(to_set(l3->cpus));
    EXPECT_EQ(found, vcache_cpus(f));
    EXPECT_EQ(topo.kinds.size(), 1u) << "a V-Cache CCD is not another core kind";
    std::ostringstream text;
    write_topology_text(text, topo);
    EXPECT_NE(text.str().find("(3D V-Cache)"), std::string::npos) << text.str();
    EXPECT_EQ(text.str().find("efficiency"), std::string::npos) << text.str();
  }
}

// A 16 vs 8 MiB pair is Zen 5 beside Zen 5c, not V-Cache: two kinds stay, and
// --prefer vcache says there is none.
TEST(VCache, TheLargerOfTwoL3sIsNotVCache) {
  const test::Machine m = test::machine("machines/amd-ryzen-ai-9-hx370.txt");
  const test::CorpusFacts f = test::read_facts(m.facts);
  const Topology topo = test::load(m);
  EXPECT_EQ(f.l3size.size(), 2u);
  EXPECT_TRUE(vcache_cpus(f).empty());
  EXPECT_TRUE(vcache_l3s(topo).empty());
  EXPECT_EQ(topo.kinds.size(), 2u);
  try {
    make_plan(topo, prefer(Preference::VCache, 8));
    FAIL() << "planned --prefer vcache without V-Cache";
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("no L3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16 MiB"), std::string::npos) << e.what();
  }
}

// Without the sysfs lines the listing cannot show which CCD has V-Cache: the
// model says so, and --prefer vcache is an error naming what to paste.
TEST(VCache, WithoutSizesPreferVCacheNamesWhatToPaste) {
  const test::Machine m = test::machine("machines/amd-ryzen9-7950x3d.txt");
  const Topology topo = load_lscpu(without_sysfs(text_of(m)), "7950x3d.txt");
  EXPECT_TRUE(vcache_l3s(topo).empty());
  bool warned = false;
  for (const std::string& w : topo.warnings) warned |= w.find("index3/size") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_EQ(topo.kinds.size(), 1u) << "5250 vs 5759 MHz on an AMD CPU is one design";
  try {
    make_plan(topo, prefer(Preference::VCache, std::nullopt));
    FAIL() << "planned --prefer vcache without L3 sizes";
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("grep . /sys/devices/system/cpu/cpu*/cache/index3/size"), std::string::npos)
        << e.what();
  }
}

// 7950X3D, --prefer vcache: the whole V-Cache CCD (it holds CPU 0), and the
// plan names that trade; 14 vCPUs leave CPU 0's core to the host.
TEST(VCache, PreferVCacheOn7950X3dNamesTheBootCpuTrade) {
  const test::Machine m = test::machine("machines/amd-ryzen9-7950x3d.txt");
  const test::CorpusFacts f = test::read_facts(m.facts);
  const CpuFacts vcache = vcache_cpus(f);
  const CpuFacts boot_core = to_set(*test::core_of(f, 0));
  ASSERT_TRUE(vcache.count(0));

  const Plan whole = make_plan(test::load(m), prefer(Preference::VCache, std::nullopt));
  EXPECT_EQ(to_set(whole.guests[0].vcpu_cpus()), vcache);
  const std::string whole_text = all_text(whole);
  EXPECT_NE(whole_text.find("holds CPU 0"), std::string::npos) << whole_text;
  EXPECT_NE(whole_text.find("--vcpus 14"), std::string::npos) << whole_text;
  EXPECT_NE(whole_text.find("amd_x3d_mode"), std::string::npos) << whole_text;
  EXPECT_NE(whole_text.find("echo frequency"), std::string::npos) << whole_text;

  const Plan seven = make_plan(test::load(m), prefer(Preference::VCache, 14));
  const CpuFacts got = to_set(seven.guests[0].vcpu_cpus());
  EXPECT_TRUE(test::within(seven.guests[0].vcpu_cpus().to_vector(), vcache));
  for (unsigned cpu : boot_core) EXPECT_FALSE(got.count(cpu)) << "CPU " << cpu << " of the boot core";
  const std::string seven_text = all_text(seven);
  EXPECT_NE(seven_text.find("CPU 0's core stays with the host"), std::string::npos) << seven_text;
  EXPECT_NE(seven_text.find("--vcpus 16"), std::string::npos) << seven_text;
}

// Without --prefer the guest gets a whole CCD away from the boot CPU, and the
// plan says where the V-Cache CCD is and how to ask for it.
TEST(VCache, DefaultPlanNamesTheVCacheCcd) {
  for (const char* name : {"machines/amd-ryzen9-7950x3d.txt", "machines/amd-ryzen9-7900x3d.txt",
                           "machines/amd-ryzen9-9950x3d.txt"}) {
    SCOPED_TRACE(name);
    const test::Machine m = test::machine(name);
    const test::CorpusFacts f = test::read_facts(m.facts);
    const Plan plan = make_plan(test::load(m), test::one_guest_auto());
    const CpuFacts got = to_set(plan.guests[0].vcpu_cpus());
    CpuFacts other;
    for (const test::CpuList& l3 : f.l3)
      if (!test::meets(vcache_cpus(f), l3)) other.merge(to_set(l3));
    EXPECT_EQ(got, other) << "one whole CCD, not the boot CPU's";
    const std::string text = all_text(plan);
    EXPECT_NE(text.find("--prefer vcache puts the guest on it"), std::string::npos) << text;
    EXPECT_NE(text.find("echo cache"), std::string::npos) << text;
  }
}

// 7900X3D and 9950X3D with --prefer vcache and fewer vCPUs than the CCD: on V-Cache cores, off CPU 0's core.
TEST(VCache, PreferVCachePutsASmallGuestOnVCacheCores) {
  for (const char* name : {"machines/amd-ryzen9-7900x3d.txt", "machines/amd-ryzen9-9950x3d.txt"}) {
    SCOPED_TRACE(name);
    const test::Machine m = test::machine(name);
    const test::CorpusFacts f = test::read_facts(m.facts);
    const Plan plan = make_plan(test::load(m), prefer(Preference::VCache, 8));
    const CpuSet vcpus = plan.guests[0].vcpu_cpus();
    EXPECT_TRUE(test::within(vcpus.to_vector(), vcache_cpus(f))) << vcpus.to_string();
    EXPECT_FALSE(test::meets(to_set(vcpus), *test::core_of(f, 0))) << vcpus.to_string();
  }
}

// One CCD with V-Cache (7800X3D, 9800X3D): --prefer vcache plans and says it changes nothing.
TEST(VCache, EveryCcdWithVCacheMakesThePreferenceMoot) {
  for (const char* name : {"machines/amd-ryzen7-7800x3d.txt", "machines/amd-ryzen7-9800x3d.txt"}) {
    SCOPED_TRACE(name);
    const Plan plan = make_plan(test::load(test::machine(name)), prefer(Preference::VCache, 8));
    const std::string text = all_text(plan);
    EXPECT_NE(text.find("changes nothing"), std::string::npos) << text;
    EXPECT_EQ(text.find("amd_x3d_mode"), std::string::npos) << text;
  }
}

// The summary's flags: topoext is required only where the host has it.
TEST(VCache, TopoextFollowsThePastedFlags) {
  const test::Machine m = test::machine("machines/amd-ryzen9-7950x3d.txt");
  const std::string text = text_of(m);
  const Topology with = load_lscpu(text, "with.txt");
  EXPECT_EQ(has_cpu_flag(with, "topoext"), true);
  EXPECT_TRUE(make_plan(with, test::one_guest(8)).guests[0].require_topoext);

  std::string stripped = text;
  stripped.replace(stripped.find(" topoext "), 9, " ");
  const Topology without = load_lscpu(stripped, "without.txt");
  EXPECT_EQ(has_cpu_flag(without, "topoext"), false);
  const Plan plan = make_plan(without, test::one_guest(8));
  EXPECT_FALSE(plan.guests[0].require_topoext);
  EXPECT_NE(all_text(plan).find("lacks the topoext flag"), std::string::npos);

  const Topology bare = load_lscpu(without_sysfs(text).substr(text.find("CPU NODE")), "bare.txt");
  EXPECT_EQ(has_cpu_flag(bare, "topoext"), std::nullopt);
}

// The flags and sizes survive probe --json and its read-back.
TEST(VCache, JsonKeepsFlagsAndSizes) {
  const Topology topo = test::load(test::machine("machines/amd-ryzen9-7950x3d.txt"));
  const Topology back = topology_from_json(topology_to_json(topo), "probe.json");
  EXPECT_EQ(back, topo);
  EXPECT_FALSE(back.cpu_flags.empty());
  EXPECT_EQ(vcache_l3s(back).size(), 1u);
}

// Pasted sysfs lines that do not fit the table are errors naming the line.
TEST(VCache, BadSysfsLinesNameTheirLine) {
  const std::string table =
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
      "  0    0      0    0 0:0:0:0          yes\n  1    0      0    1 1:1:1:0          yes\n";
  const std::string base = "/sys/devices/system/cpu/cpu";
  struct Bad {
    std::string lines, says;
  } cases[] = {
      {base + "7/cache/index3/size:98304K\n", "line 5: CPU 7 is not in"},
      {base + "0/cache/index3/size:98304K\n" + base + "1/cache/index3/size:32768K\n", "line 6: CPU 1's L3"},
      {base + "0/cache/index3/size:lots\n", "line 5: 'lots' is not a cache size"},
      {base + "x/cache/index3/size:1K\n", ""},  // not a CPU: another attribute, read past
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.lines);
    if (c.says.empty()) {
      EXPECT_NO_THROW(load_lscpu(table + "\n" + c.lines, "t.txt"));
      continue;
    }
    try {
      load_lscpu(table + "\n" + c.lines, "t.txt");
      FAIL() << "accepted";
    } catch (const TopologyInputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace vpt
