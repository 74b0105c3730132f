// The hwloc path and the lscpu path give the same model for the same machine.
//
// For an XML fixture, the test writes the `lscpu -e` listing that machine would
// print, using hwloc's C API directly (not the probe): one row per PU in OS-index
// order with its NUMA node, package, core and per-level cache logical ids. Both
// texts then go through the probe and the models are compared.
#include <gtest/gtest.h>
#include <hwloc.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/common/cpuset_printer.hpp"
#include "probe/probe.hpp"
#include "tests/probe/corpus_facts.hpp"

namespace vpt {
namespace {

struct CacheLevel {
  std::string name;
  hwloc_obj_type_t type;
};
constexpr hwloc_obj_type_t kLscpuCaches[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE,
                                             HWLOC_OBJ_L3CACHE};

// lscpu names a cache "L<level>" plus "d" or "i" unless it is unified: "L1d", "L1i", "L1", "L2".
std::string lscpu_cache_name(hwloc_obj_t cache) {
  const auto& attr = cache->attr->cache;
  return fmt::format("L{}{}", attr.depth,
                     attr.type == HWLOC_OBJ_CACHE_DATA ? "d" : attr.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "i" : "");
}

std::string lscpu_text_from_xml(const std::string& path) {
  hwloc_topology_t h;
  hwloc_topology_init(&h);
  if (hwloc_topology_set_xml(h, path.c_str()) != 0 || hwloc_topology_load(h) != 0) {
    hwloc_topology_destroy(h);
    throw std::runtime_error("hwloc cannot load " + path);
  }
  // Like lscpu, name only the cache levels the machine has.
  std::vector<CacheLevel> levels;
  for (hwloc_obj_type_t type : kLscpuCaches)
    if (hwloc_obj_t first = hwloc_get_obj_by_type(h, type, 0)) levels.push_back({lscpu_cache_name(first), type});
  std::string cache_header;
  for (const CacheLevel& level : levels) {
    if (!cache_header.empty()) cache_header += ':';
    cache_header += level.name;
  }

  std::map<unsigned, std::string> rows;  // by OS index, the order lscpu prints
  hwloc_obj_t pu = nullptr;
  while ((pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu)) != nullptr) {
    hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, pu);
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
    int node = hwloc_bitmap_first(pu->nodeset);  // nodesets hold NUMA OS indices
    std::string caches;
    for (const CacheLevel& level : levels) {
      hwloc_obj_t cache = hwloc_get_ancestor_obj_by_type(h, level.type, pu);
      if (!caches.empty()) caches += ':';
      caches += cache ? std::to_string(cache->logical_index) : "-";
    }
    rows[pu->os_index] = fmt::format("{:>5} {:>4} {:>6} {:>4} {:<16} {:>6}", pu->os_index,
                                     node >= 0 ? std::to_string(node) : "-", pkg ? pkg->os_index : 0,
                                     core ? core->logical_index : pu->logical_index, caches, "yes");
  }
  hwloc_topology_destroy(h);
  std::string text = fmt::format("{:>5} {:>4} {:>6} {:>4} {:<16} {:>6}\n", "CPU", "NODE", "SOCKET", "CORE",
                                 cache_header, "ONLINE");
  for (const auto& [os, row] : rows) text += row + "\n";
  return text;
}

std::vector<std::string> core_lists(const Topology& topo) {
  std::vector<std::string> out;
  for (const Core& core : topo.cores) out.push_back(fmt::format("{}:{}@{}", core.index, core.cpus, core.package));
  return out;
}

std::vector<std::string> cache_lists(const Topology& topo) {
  std::vector<std::string> out;
  for (const Cache& cache : topo.caches)
    out.push_back(fmt::format("L{}{}#{}:{}", cache.level,
                              cache.type == CacheType::Instruction ? "i" : cache.type == CacheType::Data ? "d" : "",
                              cache.index, cache.cpus));
  return out;
}

std::map<unsigned, std::string> package_lists(const Topology& topo) {
  std::map<unsigned, std::string> out;
  for (const Package& pkg : topo.packages) out[pkg.os_index] = pkg.cpus.to_string();
  return out;
}

std::map<unsigned, std::string> numa_lists(const Topology& topo) {
  std::map<unsigned, std::string> out;
  for (const NumaNode& node : topo.numa_nodes)
    if (!node.cpus.empty()) out[node.os_index] = node.cpus.to_string();  // lscpu cannot show memory-only nodes
  return out;
}

void expect_same_model(const Topology& from_xml, const Topology& from_lscpu) {
  EXPECT_EQ(all_cpus(from_lscpu), all_cpus(from_xml));
  EXPECT_EQ(package_lists(from_lscpu), package_lists(from_xml));
  EXPECT_EQ(numa_lists(from_lscpu), numa_lists(from_xml));
  EXPECT_EQ(core_lists(from_lscpu), core_lists(from_xml));
  EXPECT_EQ(cache_lists(from_lscpu), cache_lists(from_xml));
  ASSERT_EQ(from_lscpu.cpus.size(), from_xml.cpus.size());
  for (std::size_t i = 0; i < from_xml.cpus.size(); ++i) {
    const LogicalCpu &a = from_xml.cpus[i], &b = from_lscpu.cpus[i];
    SCOPED_TRACE(fmt::format("CPU {}", a.os_index));
    EXPECT_EQ(b.os_index, a.os_index);
    EXPECT_EQ(b.core, a.core);
    EXPECT_EQ(b.package, a.package);
    EXPECT_EQ(b.numa, a.numa);
    EXPECT_EQ(b.l1d, a.l1d);
    EXPECT_EQ(b.l1i, a.l1i);
    EXPECT_EQ(b.l2, a.l2);
    EXPECT_EQ(b.l3, a.l3);
  }
}

class LscpuFromXml : public testing::TestWithParam<const char*> {};

TEST_P(LscpuFromXml, GivesTheSameModelAsTheXml) {
  test::CorpusFacts facts = test::facts_for(GetParam());
  std::string path = facts.source_path().string();
  Topology from_xml = load_hwloc_xml_file(path);
  std::string text = lscpu_text_from_xml(path);
  Topology from_lscpu = load_lscpu(text, std::string(GetParam()) + ".lscpu");
  SCOPED_TRACE(text.substr(0, 400));
  expect_same_model(from_xml, from_lscpu);
  // And both agree with hwloc-calc's facts.
  EXPECT_EQ(from_lscpu.cores.size(), facts.count.at("core"));
  EXPECT_EQ(caches_at_level(from_lscpu, 3).size(), facts.count.at("l3"));
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, LscpuFromXml,
    testing::Values("Intel-Skylake-2xXeon6140",            // dual socket, SMT siblings n and n+36
                    "AMD-19h-Zen4-2xEpyc-9654",            // SMT siblings n and n+192, 24 CCD L3s
                    "32em64t-2n8c2t-pci-wholeio",          // dual socket, 2 NUMA nodes, siblings n and n+16
                    "AMD-17h-Zen-2xEpyc-7451",             // 8 NUMA nodes, 2 CCX per die
                    "64amd64-4p2n4ca2co",                  // 4 sockets, L2 shared by 2-core modules
                    "Intel-KnightsLanding-XeonPhi-7210",   // no L3, 4 threads per core
                    "Intel-RaptorLake-Corei7-1370P",       // hybrid, E-core L2 clusters
                    "memorysidecaches",                    // SNC-2: 4 NUMA nodes on 2 sockets
                    "128arm-2pa2n8cluster4co"),            // ARM, L3 per NUMA half of a socket
    [](const testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

// The text built above is what it claims: hwloc's siblings n and n+N reach the listing.
TEST(LscpuFromXmlText, NumbersSkylakeSiblingsNAndNPlus36) {
  test::CorpusFacts facts = test::facts_for("Intel-Skylake-2xXeon6140");
  Topology topo = load_lscpu(lscpu_text_from_xml(facts.source_path().string()), "skylake.lscpu");
  EXPECT_EQ(smt_siblings(topo, 0), (CpuSet{0, 36}));
  EXPECT_EQ(topo.packages.size(), 2u);
}

}  // namespace
}  // namespace vpt
