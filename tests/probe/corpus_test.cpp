// Every file of the topology corpus loads, and the model matches facts found
// without vpt-tune (tests/corpus/facts, from hwloc-calc for XML and from the
// listing's own columns for lscpu; see scripts/gen-corpus-facts.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "tests/common/cpuset_printer.hpp"
#include "probe/probe.hpp"
#include "tests/probe/corpus_facts.hpp"

namespace vpt {
namespace {

using test::CorpusFacts;
using test::CpuList;

Topology load(const CorpusFacts& facts) {
  std::string path = facts.source_path().string();
  return facts.is_xml() ? load_hwloc_xml_file(path) : load_lscpu_file(path);
}

std::vector<CpuList> sorted_lists(const std::vector<CpuSet>& sets) {
  std::vector<CpuList> lists;
  for (const CpuSet& set : sets) lists.push_back(set.to_vector());
  std::sort(lists.begin(), lists.end());
  return lists;
}

std::vector<CpuList> cache_sets(const Topology& topo, int level) {
  std::vector<CpuSet> sets;
  for (const Cache* cache : caches_at_level(topo, level)) sets.push_back(cache->cpus);
  return sorted_lists(sets);
}

// ---- Every corpus file has facts -------------------------------------------

TEST(Corpus, EveryTopologyFileHasAFactsFile) {
  namespace fs = std::filesystem;
  std::set<std::string> with_facts;
  for (const auto& path : test::all_facts_files()) with_facts.insert(test::read_facts(path).source);
  unsigned files = 0;
  for (const char* dir : {"hwloc", "hwloc-xml-parser", "lscpu"})
    for (const auto& entry : fs::recursive_directory_iterator(test::corpus_dir() / dir)) {
      auto ext = entry.path().extension();
      if (ext != ".xml" && ext != ".txt") continue;
      ++files;
      std::string rel = fs::relative(entry.path(), test::corpus_dir()).string();
      EXPECT_TRUE(with_facts.count(rel)) << rel << " has no facts file: run scripts/gen-corpus-facts.sh";
    }
  // The corpus README lists 19 + 2 + 2 XMLs and 6 lscpu listings.
  EXPECT_EQ(files, 29u);
  EXPECT_EQ(with_facts.size(), files);
}

// ---- Per file: the model matches the facts ---------------------------------

class CorpusFile : public testing::TestWithParam<std::filesystem::path> {
 protected:
  void SetUp() override {
    facts_ = test::read_facts(GetParam());
    try {
      topo_ = load(facts_);
    } catch (const std::exception& e) {
      FAIL() << facts_.source << " does not load: " << e.what();
    }
  }
  CorpusFacts facts_;
  Topology topo_;
};

TEST_P(CorpusFile, LoadsFromItsSource) {
  EXPECT_EQ(topo_.source, facts_.is_xml() ? TopologySource::HwlocXml : TopologySource::LscpuText);
  EXPECT_EQ(topo_.source_name, facts_.source_path().string());
}

TEST_P(CorpusFile, CountsMatchFacts) {
  EXPECT_EQ(topo_.packages.size(), facts_.count.at("package"));
  EXPECT_EQ(topo_.numa_nodes.size(), facts_.count.at("numa"));
  EXPECT_EQ(topo_.cores.size(), facts_.count.at("core"));
  EXPECT_EQ(topo_.cpus.size(), facts_.count.at("pu"));
  EXPECT_EQ(caches_at_level(topo_, 2).size(), facts_.count.at("l2"));
  EXPECT_EQ(caches_at_level(topo_, 3).size(), facts_.count.at("l3"));
}

TEST_P(CorpusFile, CpusAreTheOsIndicesOfTheSource) {
  CpuList expected;
  for (const auto& [os, cpus] : facts_.packages) expected.insert(expected.end(), cpus.begin(), cpus.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all_cpus(topo_).to_vector(), expected);
  EXPECT_EQ(topo_.offline_cpus.to_vector(), facts_.offline);
  for (std::size_t i = 1; i < topo_.cpus.size(); ++i) EXPECT_LT(topo_.cpus[i - 1].os_index, topo_.cpus[i].os_index);
}

TEST_P(CorpusFile, PackagesMatchFacts) {
  std::map<unsigned, CpuList> got;
  for (const Package& pkg : topo_.packages) got[pkg.os_index] = pkg.cpus.to_vector();
  EXPECT_EQ(got, facts_.packages);
  for (const LogicalCpu& cpu : topo_.cpus) {
    const auto& pkg_cpus = facts_.packages.at(cpu.package);
    EXPECT_TRUE(std::binary_search(pkg_cpus.begin(), pkg_cpus.end(), cpu.os_index)) << "CPU " << cpu.os_index;
  }
}

TEST_P(CorpusFile, NumaNodesMatchFacts) {
  std::map<unsigned, CpuList> got;
  for (const NumaNode& node : topo_.numa_nodes) got[node.os_index] = node.cpus.to_vector();
  EXPECT_EQ(got, facts_.numa);
  for (const auto& [os, cpus] : facts_.numa)
    for (unsigned cpu : cpus) {
      const LogicalCpu* c = find_cpu(topo_, cpu);
      ASSERT_NE(c, nullptr) << "CPU " << cpu;
      EXPECT_EQ(c->numa, std::optional<unsigned>(os)) << "CPU " << cpu;
    }
}

TEST_P(CorpusFile, CoresAreTheSmtSiblingSetsOfTheFacts) {
  std::vector<CpuSet> cores;
  for (const Core& core : topo_.cores) cores.push_back(core.cpus);
  EXPECT_EQ(sorted_lists(cores), facts_.cores);
  for (const CpuList& core : facts_.cores)
    for (unsigned cpu : core) EXPECT_EQ(smt_siblings(topo_, cpu).to_vector(), core) << "CPU " << cpu;
}

TEST_P(CorpusFile, L2InstancesMatchFacts) {
  EXPECT_EQ(cache_sets(topo_, 2), facts_.l2);
  for (const CpuList& l2 : facts_.l2)
    for (unsigned cpu : l2) {
      EXPECT_EQ(cpus_sharing_cache(topo_, cpu, 2).to_vector(), l2) << "CPU " << cpu;
      EXPECT_TRUE(find_cpu(topo_, cpu)->l2.has_value()) << "CPU " << cpu;
    }
  if (facts_.l2.empty()) {
    for (const LogicalCpu& cpu : topo_.cpus) EXPECT_FALSE(cpu.l2.has_value()) << "CPU " << cpu.os_index;
  }
}

TEST_P(CorpusFile, L3InstancesMatchFacts) {
  EXPECT_EQ(cache_sets(topo_, 3), facts_.l3);
  for (const CpuList& l3 : facts_.l3)
    for (unsigned cpu : l3) {
      EXPECT_EQ(cpus_sharing_cache(topo_, cpu, 3).to_vector(), l3) << "CPU " << cpu;
      EXPECT_TRUE(find_cpu(topo_, cpu)->l3.has_value()) << "CPU " << cpu;
    }
  if (facts_.l3.empty()) {
    for (const LogicalCpu& cpu : topo_.cpus) EXPECT_FALSE(cpu.l3.has_value()) << "CPU " << cpu.os_index;
  }
}

TEST_P(CorpusFile, CacheIndicesAreUniqueAndNumberedByFirstCpu) {
  for (int level : {2, 3}) {
    auto caches = caches_at_level(topo_, level);
    for (std::size_t i = 0; i < caches.size(); ++i) {
      EXPECT_EQ(caches[i]->index, i) << "L" << level;
      if (i > 0) {
        EXPECT_LT(caches[i - 1]->cpus.first(), caches[i]->cpus.first()) << "L" << level;
      }
      for (unsigned cpu : caches[i]->cpus)
        EXPECT_EQ(level == 2 ? find_cpu(topo_, cpu)->l2 : find_cpu(topo_, cpu)->l3, std::optional<unsigned>(i));
    }
  }
}

// Merging kinds that are frequency noise may join hwloc kinds, never split one.
TEST_P(CorpusFile, EachHwlocKindLiesInOneModelKind) {
  ASSERT_FALSE(topo_.kinds.empty());
  CpuSet covered;
  for (const CoreKind& kind : topo_.kinds) {
    EXPECT_FALSE(kind.cpus.intersects(covered));
    covered |= kind.cpus;
  }
  EXPECT_EQ(covered, all_cpus(topo_));
  for (const auto& hw : facts_.kinds) {
    CpuSet cpus;
    for (unsigned cpu : hw.cpus) cpus.insert(cpu);
    unsigned holders = 0;
    for (const CoreKind& kind : topo_.kinds) holders += kind.cpus.contains(cpus);
    EXPECT_EQ(holders, 1u) << "hwloc kind " << cpus.to_string();
  }
}

TEST_P(CorpusFile, RealCachesRaiseNoWarningAboutCaches) {
  // The corpus has only real machines: nothing may be dropped as implausible.
  for (const std::string& warning : topo_.warnings)
    EXPECT_EQ(warning.find("no real CPU has"), std::string::npos) << warning;
}

std::string test_name(const testing::TestParamInfo<std::filesystem::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Facts, CorpusFile, testing::ValuesIn(test::all_facts_files()), test_name);

// ---- Core kinds of the hybrid fixtures, written by hand ----------------------
// Expected values come from the corpus README and were checked against the
// files (hwloc's cpukinds / the listing's MAXMHZ column); the facts' kinds are
// compared too where no merging is expected.

CpuSet cpus_of(const test::CpuList& list) {
  CpuSet set;
  for (unsigned cpu : list) set.insert(cpu);
  return set;
}

struct ExpectedKind {
  const char* name;
  const char* cpus;
};

void expect_kinds(const Topology& topo, const std::vector<ExpectedKind>& expected) {
  ASSERT_EQ(topo.kinds.size(), expected.size());
  for (std::size_t rank = 0; rank < expected.size(); ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    EXPECT_EQ(topo.kinds[rank].rank, rank);
    EXPECT_EQ(topo.kinds[rank].name, expected[rank].name);
    EXPECT_EQ(topo.kinds[rank].cpus.to_string(), expected[rank].cpus);
    for (unsigned cpu : topo.kinds[rank].cpus) EXPECT_EQ(find_cpu(topo, cpu)->kind, rank);
  }
  for (const Core& core : topo.cores) EXPECT_EQ(core.kind, find_cpu(topo, core.cpus.first())->kind);
}

// hwloc's kinds, least efficient first, as "0-3" strings.
std::vector<std::string> hwloc_kinds(const CorpusFacts& facts) {
  std::vector<std::string> out;
  for (const auto& kind : facts.kinds) out.push_back(cpus_of(kind.cpus).to_string());
  return out;
}

std::vector<std::string> model_kinds(const Topology& topo) {
  std::vector<std::string> out;
  for (const auto& kind : topo.kinds) out.push_back(kind.cpus.to_string());
  return out;
}

TEST(KindsOfRaptorLake1370P, AreECores12To19AndPCores0To11) {
  auto facts = test::facts_for("Intel-RaptorLake-Corei7-1370P");
  Topology topo = load_hwloc_xml_file(facts.source_path().string());
  expect_kinds(topo, {{"E-core", "12-19"}, {"P-core", "0-11"}});
  EXPECT_EQ(model_kinds(topo), hwloc_kinds(facts));
  // The E-cores form 2 clusters of 4 sharing an L2.
  std::vector<std::string> clusters;
  for (const Cache* l2 : multi_core_caches(topo, 2)) clusters.push_back(l2->cpus.to_string());
  EXPECT_EQ(clusters, (std::vector<std::string>{"12-15", "16-19"}));
}

TEST(KindsOfLakefield, AreFourAtomsAndOneCore) {
  auto facts = test::facts_for("5intel64-hybrid-lakefield");
  Topology topo = load_hwloc_xml_file(facts.source_path().string());
  // Two kinds (the rank-0 Atom kind is not called "LP E-core": that name is for a third kind).
  expect_kinds(topo, {{"E-core", "0-3"}, {"P-core", "4"}});
  EXPECT_EQ(model_kinds(topo), hwloc_kinds(facts));
  EXPECT_EQ(topo.kinds[0].max_mhz, std::optional<unsigned>(2800));
  EXPECT_EQ(topo.kinds[1].max_mhz, std::optional<unsigned>(3000));
}

TEST(KindsOfGB10, AreTenA725AndTenX925) {
  auto facts = test::facts_for("nvidia-dgx-gb10");
  Topology topo = load_hwloc_xml_file(facts.source_path().string());
  expect_kinds(topo, {{"Cortex-A725", "0-4,10-14"}, {"Cortex-X925", "5-9,15-19"}});
  EXPECT_EQ(model_kinds(topo), hwloc_kinds(facts));
  EXPECT_EQ(topo.kinds[0].linux_capacity, std::optional<unsigned>(718));
  EXPECT_EQ(topo.kinds[1].linux_capacity, std::optional<unsigned>(997));
  // Each L3 mixes 5 big and 5 little cores.
  auto l3 = caches_at_level(topo, 3);
  ASSERT_EQ(l3.size(), 2u);
  for (const Cache* cache : l3) {
    EXPECT_EQ((cache->cpus & topo.kinds[0].cpus).size(), 5u);
    EXPECT_EQ((cache->cpus & topo.kinds[1].cpus).size(), 5u);
  }
}

TEST(KindsOfMediaTekDimensity9300, AreThreeClusters) {
  auto facts = test::facts_for("mediatek-dimensity-9300+");
  Topology topo = load_hwloc_xml_file(facts.source_path().string());
  // 2000, 2850 and 3400 MHz: far more than 5% apart, so three kinds stay.
  expect_kinds(topo, {{"efficiency", "0-3"}, {"mid-1", "4-6"}, {"performance", "7"}});
  EXPECT_EQ(model_kinds(topo), hwloc_kinds(facts));
}

TEST(KindsOfGH200, FrequencyNoiseIsOneKind) {
  auto facts = test::facts_for("nvidia-gh-200");
  Topology topo = load_hwloc_xml_file(facts.source_path().string());
  // hwloc reports 5 kinds at 3438..3474 MHz (1% apart) on 72 identical Neoverse V2
  // cores; the probe merges kinds within 5% of max frequency, so the result is one.
  ASSERT_EQ(facts.kinds.size(), 5u);
  expect_kinds(topo, {{"core", "0-71"}});
  EXPECT_EQ(topo.kinds[0].max_mhz, std::optional<unsigned>(3474));
}

TEST(KindsOfHomogeneousHosts, AreOneKind) {
  for (const char* name : {"64amd64-4p2n4ca2co", "Intel-Skylake-2xXeon6140", "AMD-19h-Zen4-2xEpyc-9654"}) {
    SCOPED_TRACE(name);
    auto facts = test::facts_for(name);
    Topology topo = load_hwloc_xml_file(facts.source_path().string());
    ASSERT_EQ(topo.kinds.size(), 1u);
    EXPECT_EQ(topo.kinds[0].cpus, all_cpus(topo));
  }
}

TEST(KindsOfI7_14700FListing, ArePCores0To15AndECores16To27) {
  auto facts = test::facts_for("intel-core-i7-14700f");
  Topology topo = load_lscpu_file(facts.source_path().string());
  // MAXMHZ: CPUs 0-15 at 5300/5400 (two favoured cores, 2% apart: one kind), 16-27 at 4200.
  expect_kinds(topo, {{"E-core", "16-27"}, {"P-core", "0-15"}});
  std::vector<std::string> clusters;
  for (const Cache* l2 : multi_core_caches(topo, 2)) clusters.push_back(l2->cpus.to_string());
  EXPECT_EQ(clusters, (std::vector<std::string>{"16-19", "20-23", "24-27"}));
  // CPUs 0-15 are 8 cores of 2 threads; 16-27 are single-thread cores.
  for (unsigned cpu = 0; cpu < 16; ++cpu) EXPECT_EQ(smt_siblings(topo, cpu).size(), 2u);
  for (unsigned cpu = 16; cpu < 28; ++cpu) EXPECT_EQ(smt_siblings(topo, cpu).size(), 1u);
}

TEST(KindsOfI9_12900KListing, ArePCores0To15AndECores16To23) {
  Topology topo = load_lscpu_file((test::corpus_dir() / "lscpu/intel-core-i9-12900k.txt").string());
  // MAXMHZ: CPUs 0-3 at 6700, 4-15 at 6500 (3% apart: one kind), 16-23 at 3900.
  expect_kinds(topo, {{"E-core", "16-23"}, {"P-core", "0-15"}});
}

TEST(KindsOfHomogeneousListings, AreOneKind) {
  for (const char* name : {"amd-ryzen7-5800x", "amd-epyc-9374f-2socket", "intel-xeon-e5-2660v2-2socket",
                           "amd-threadripper-pro-7965wx"}) {
    SCOPED_TRACE(name);
    Topology topo = load_lscpu_file(test::facts_for(name).source_path().string());
    ASSERT_EQ(topo.kinds.size(), 1u);
    EXPECT_EQ(topo.kinds[0].cpus, all_cpus(topo));
  }
}

// ---- Sparse and out-of-order ids ----------------------------------------------

TEST(SparseCacheIdsInXeonE5_2660v2Listing, BecomeDenseIndicesWithSiblingsNAndNPlus20) {
  Topology topo = load_lscpu_file((test::corpus_dir() / "lscpu/intel-xeon-e5-2660v2-2socket.txt").string());
  // L2 ids in the listing are 0-4, 8-12, 16-20, 24-28; each is shared by CPUs n and n+20.
  auto l2 = caches_at_level(topo, 2);
  ASSERT_EQ(l2.size(), 20u);
  for (unsigned i = 0; i < 20; ++i) {
    EXPECT_EQ(l2[i]->index, i);
    EXPECT_EQ(l2[i]->cpus, (CpuSet{i, i + 20}));
    EXPECT_EQ(find_cpu(topo, i)->l2, std::optional<unsigned>(i));
    EXPECT_EQ(find_cpu(topo, i + 20)->l2, std::optional<unsigned>(i));
    EXPECT_EQ(smt_siblings(topo, i), (CpuSet{i, i + 20}));
  }
  // Socket 0 holds CPUs 0-9 and 20-29, socket 1 the rest; NUMA follows.
  ASSERT_EQ(topo.packages.size(), 2u);
  EXPECT_EQ(topo.packages[0].cpus.to_string(), "0-9,20-29");
  EXPECT_EQ(topo.packages[1].cpus.to_string(), "10-19,30-39");
  EXPECT_EQ(cpus_sharing_cache(topo, 0, 3).to_string(), "0-9,20-29");
  EXPECT_EQ(find_cpu(topo, 35)->numa, std::optional<unsigned>(1));
}

TEST(OutOfOrderL3IdsInEpyc9374FListing, GroupByIdAndNumberByFirstCpu) {
  Topology topo = load_lscpu_file((test::corpus_dir() / "lscpu/amd-epyc-9374f-2socket.txt").string());
  // The listing's L3 ids run 0,4,2,6,3,7,1,5 over CPUs 0-3, 4-7, ..., 28-31 (socket 0)
  // and 8,12,10,14,11,15,9,13 over CPUs 32-63 (socket 1): 16 CCDs of 4 cores.
  auto l3 = caches_at_level(topo, 3);
  ASSERT_EQ(l3.size(), 16u);
  for (unsigned i = 0; i < 16; ++i) {
    EXPECT_EQ(l3[i]->index, i);
    EXPECT_EQ(l3[i]->cpus, CpuSet::range(4 * i, 4 * i + 3));
  }
  EXPECT_EQ(find_cpu(topo, 4)->l3, std::optional<unsigned>(1));  // listing id 4
  EXPECT_EQ(multi_core_caches(topo, 3).size(), 16u);
  EXPECT_FALSE(has_smt(topo));
}

}  // namespace
}  // namespace vpt
