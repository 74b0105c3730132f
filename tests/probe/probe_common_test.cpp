// Checks shared by the sources: implausible caches are dropped with a warning,
// missing caches are said plainly.
#include <sstream>

#include <gtest/gtest.h>

#include "tests/common/cpuset_printer.hpp"
#include "probe/probe.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {
namespace {

// What this development machine's virtual CPUs look like: 2 cores, each with a
// private 1 MiB L2 and a private 508 MiB L3 (written with hwloc's synthetic
// backend, `lstopo -i "package:1 l3:2(size=532676608) l2:1 l1d:1 core:1 pu:1"`).
constexpr const char* kVmWithPrivate508MiBL3 = R"(<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE topology SYSTEM "hwloc2.dtd">
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" allowed_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" allowed_nodeset="0x00000001" gp_index="1">
    <object type="Package" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="12">
      <object type="NUMANode" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="13" local_memory="1073741824"/>
      <object type="L3Cache" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="6" cache_size="532676608" depth="3" cache_linesize="64" cache_associativity="0" cache_type="0">
        <object type="L2Cache" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="5" cache_size="1048576" depth="2" cache_linesize="64" cache_associativity="0" cache_type="0">
          <object type="L1Cache" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="4" cache_size="32768" depth="1" cache_linesize="64" cache_associativity="0" cache_type="1">
            <object type="Core" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="3">
              <object type="PU" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="2"/>
            </object>
          </object>
        </object>
      </object>
      <object type="L3Cache" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="11" cache_size="532676608" depth="3" cache_linesize="64" cache_associativity="0" cache_type="0">
        <object type="L2Cache" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="10" cache_size="1048576" depth="2" cache_linesize="64" cache_associativity="0" cache_type="0">
          <object type="L1Cache" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="9" cache_size="32768" depth="1" cache_linesize="64" cache_associativity="0" cache_type="1">
            <object type="Core" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="8">
              <object type="PU" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="7"/>
            </object>
          </object>
        </object>
      </object>
    </object>
  </object>
</topology>
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

TEST(VmWithPrivate508MiBL3, DropsL3WithAWarningAndKeepsL2) {
  Topology topo = load_hwloc_xml(kVmWithPrivate508MiBL3, "vm.xml");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0, 1}));
  EXPECT_TRUE(caches_at_level(topo, 3).empty());
  for (const LogicalCpu& cpu : topo.cpus) EXPECT_FALSE(cpu.l3.has_value());
  ASSERT_EQ(topo.warnings.size(), 1u);
  EXPECT_NE(topo.warnings[0].find("508 MiB L3"), std::string::npos) << topo.warnings[0];
  EXPECT_NE(topo.warnings[0].find("unknown"), std::string::npos) << topo.warnings[0];
  // L2 (1 MiB per core) is plausible and stays, with its size.
  auto l2 = caches_at_level(topo, 2);
  ASSERT_EQ(l2.size(), 2u);
  EXPECT_EQ(l2[0]->size_bytes, std::optional<std::uint64_t>(1048576));
  EXPECT_EQ(l2[1]->cpus, (CpuSet{1}));
}

TEST(VmWithPrivate508MiBL3, DoesNotInventSharingForTheDroppedLevel) {
  Topology topo = load_hwloc_xml(kVmWithPrivate508MiBL3, "vm.xml");
  EXPECT_TRUE(cpus_sharing_cache(topo, 0, 3).empty());
  EXPECT_TRUE(multi_core_caches(topo, 3).empty());
}

TEST(PrivateL3BelowTheLimit, IsKept) {
  // 32 MiB per core: large but possible (not a made-up cache), so it stays.
  Topology topo = load_hwloc_xml(replace_all(kVmWithPrivate508MiBL3, "532676608", "33554432"), "vm32.xml");
  EXPECT_EQ(caches_at_level(topo, 3).size(), 2u);
  EXPECT_TRUE(topo.warnings.empty());
}

TEST(SharedLargeL3, IsKept) {
  // One 508 MiB L3 shared by both cores is odd but not "private per core".
  Topology topo = load_hwloc_xml(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" allowed_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" allowed_nodeset="0x00000001">
    <object type="NUMANode" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" local_memory="1073741824"/>
    <object type="L3Cache" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" cache_size="532676608" depth="3" cache_linesize="64" cache_associativity="0" cache_type="0">
      <object type="Core" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001">
        <object type="PU" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001"/>
      </object>
      <object type="Core" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001">
        <object type="PU" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001"/>
      </object>
    </object>
  </object>
</topology>
)",
      "shared.xml");
  EXPECT_EQ(cpus_sharing_cache(topo, 0, 3), (CpuSet{0, 1}));
  EXPECT_TRUE(topo.warnings.empty());
}

TEST(L3CalledADataCache, IsTheCpusL3AndNumberedWithTheUnifiedOnes) {
  // hwloc's XML may give an L3 cache_type="1" (data): the second core's here.
  // finish_topology gave it index 0 in its own (level, type) numbering, like
  // the first core's unified L3, and the text writer found no unified L3 for
  // it (a null dereference; found by tests/fuzz/hwloc_xml_fuzz.cpp).
  std::string xml = replace_all(kVmWithPrivate508MiBL3, "532676608", "33554432");
  const std::string second_l3 = R"(gp_index="11" cache_size="33554432" depth="3" cache_linesize="64" cache_associativity="0" cache_type="0")";
  ASSERT_NE(xml.find(second_l3), std::string::npos);
  xml.replace(xml.find(second_l3), second_l3.size(), replace_all(second_l3, R"(cache_type="0")", R"(cache_type="1")"));
  Topology topo = load_hwloc_xml(xml, "data-l3.xml");
  ASSERT_EQ(caches_at_level(topo, 3).size(), 2u);
  EXPECT_EQ(find_cpu(topo, 0)->l3, std::optional<unsigned>(0));
  EXPECT_EQ(find_cpu(topo, 1)->l3, std::optional<unsigned>(1));
  std::ostringstream text;
  write_topology_text(text, topo);
  EXPECT_NE(text.str().find("L3 #1, 32 MiB, shared by 1 core (CPUs 1)"), std::string::npos) << text.str();
}

TEST(NoCacheInformation, IsSaidPlainly) {
  // The GH200 export has no cache objects at all.
  Topology topo = load_hwloc_xml_file(std::string(VPT_CORPUS_DIR) + "/hwloc-xml-parser/nvidia-gh-200.xml");
  EXPECT_TRUE(topo.caches.empty());
  ASSERT_FALSE(topo.warnings.empty());
  EXPECT_NE(topo.warnings[0].find("no cache information"), std::string::npos) << topo.warnings[0];
  EXPECT_TRUE(cpus_sharing_cache(topo, 0, 3).empty());
}

}  // namespace
}  // namespace vpt
