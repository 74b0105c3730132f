// `lscpu -e` text: offline CPUs, varying column sets, standard input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/common/cpuset_printer.hpp"
#include "probe/probe.hpp"

namespace vpt {
namespace {

// 2 cores with 2 threads each (CPUs 0/4 and 1/5), CPUs 2 and 3 offline; lscpu
// prints '-' in the topology columns of offline CPUs (some versions print ":::"
// for the caches).
constexpr const char* kWithOfflineCpus =
    "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE    MAXMHZ   MINMHZ\n"
    "  0    0      0    0 0:0:0:0          yes 4000.0000 800.0000\n"
    "  1    0      0    1 1:1:1:0          yes 4000.0000 800.0000\n"
    "  2    -      -    - -                 no         -        -\n"
    "  3    -      -    - :::               no         -        -\n"
    "  4    0      0    0 0:0:0:0          yes 4000.0000 800.0000\n"
    "  5    0      0    1 1:1:1:0          yes 4000.0000 800.0000\n";

TEST(LscpuWithOfflineCpus, KeepsThemOutOfTheModel) {
  Topology topo = load_lscpu(kWithOfflineCpus, "offline.txt");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0, 1, 4, 5}));
  EXPECT_EQ(topo.offline_cpus, (CpuSet{2, 3}));
  ASSERT_EQ(topo.cores.size(), 2u);
  EXPECT_EQ(topo.cores[0].cpus, (CpuSet{0, 4}));
  EXPECT_EQ(topo.cores[1].cpus, (CpuSet{1, 5}));
  EXPECT_EQ(cpus_sharing_cache(topo, 0, 3), (CpuSet{0, 1, 4, 5}));
  EXPECT_EQ(find_cpu(topo, 2), nullptr);
  ASSERT_EQ(topo.kinds.size(), 1u);
  EXPECT_EQ(topo.kinds[0].cpus, (CpuSet{0, 1, 4, 5}));
}

TEST(LscpuWithOfflineCpus, OnlineNoWithNumbersStillMeansOffline) {
  // Older lscpu keeps the ids of an offline CPU; ONLINE decides.
  Topology topo = load_lscpu(
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
      "0 0 0 0 0:0:0:0 yes\n"
      "1 0 0 1 1:1:1:0 no\n",
      "offline-ids.txt");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0}));
  EXPECT_EQ(topo.offline_cpus, (CpuSet{1}));
  EXPECT_EQ(caches_at_level(topo, 2).size(), 1u);
}

TEST(LscpuColumns, WorkWithoutOnlineAndFrequencyColumns) {
  Topology topo = load_lscpu(
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3\n"
      "0 0 0 0 0:0:0:0\n"
      "1 0 0 0 0:0:0:0\n"
      "2 0 0 1 1:1:1:0\n"
      "3 0 0 1 1:1:1:0\n",
      "plain.txt");
  EXPECT_EQ(topo.cores.size(), 2u);
  EXPECT_TRUE(has_smt(topo));
  EXPECT_EQ(caches_at_level(topo, 3).size(), 1u);
}

TEST(LscpuColumns, IgnoreExtraColumnsInAnyOrder) {
  // `lscpu --all --extended` on s390x-like machines adds DRAWER/BOOK; columns may be reordered.
  Topology topo = load_lscpu(
      "CPU SOCKET BOOK DRAWER CORE NODE L1d:L1i:L2:L3 ONLINE CONFIGURED POLARIZATION ADDRESS MHZ\n"
      "0 0 0 0 0 0 0:0:0:0 yes yes horizontal 0 1200.0\n"
      "1 0 0 0 1 0 1:1:1:0 yes yes horizontal 1 1200.0\n",
      "extra.txt");
  EXPECT_EQ(topo.cores.size(), 2u);
  EXPECT_EQ(topo.packages.size(), 1u);
  EXPECT_EQ(caches_at_level(topo, 2).size(), 2u);
}

TEST(LscpuColumns, CacheColumnWithoutL3MeansNoL3) {
  Topology topo = load_lscpu(
      "CPU NODE SOCKET CORE L1d:L1i:L2 ONLINE\n"
      "0 0 0 0 0:0:0 yes\n"
      "1 0 0 1 1:1:0 yes\n",
      "no-l3.txt");
  EXPECT_TRUE(caches_at_level(topo, 3).empty());
  EXPECT_EQ(cpus_sharing_cache(topo, 0, 2), (CpuSet{0, 1}));
  EXPECT_FALSE(find_cpu(topo, 0)->l3.has_value());
}

TEST(LscpuColumns, SkipTextAroundTheTable) {
  // A forum paste: prompt line before, prompt after.
  Topology topo = load_lscpu(
      "user@host:~$ lscpu -e\n"
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
      "0 0 0 0 0:0:0:0 yes\n"
      "1 0 0 1 1:1:1:0 yes\n"
      "\n"
      "user@host:~$ \n",
      "paste.txt");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0, 1}));
}

TEST(LscpuColumns, UnifiedL1IsNamedL1) {
  // lscpu drops the d/i suffix for a unified cache: "L1:L2:L3" (older Xeons' sysfs).
  Topology topo = load_lscpu(
      "CPU NODE SOCKET CORE L1:L2:L3 ONLINE\n"
      "0 0 0 0 0:0:0 yes\n"
      "1 0 0 1 1:1:0 yes\n",
      "unified-l1.txt");
  auto l1 = caches_at_level(topo, 1);
  ASSERT_EQ(l1.size(), 2u);
  EXPECT_EQ(l1[0]->type, CacheType::Unified);
  EXPECT_EQ(find_cpu(topo, 1)->l1d, std::optional<unsigned>(1));
  EXPECT_EQ(cpus_sharing_cache(topo, 0, 3), (CpuSet{0, 1}));
}

TEST(LscpuColumns, NoNodeColumnMeansNumaUnknown) {
  Topology topo = load_lscpu(
      "CPU SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
      "0 0 0 0:0:0:0 yes\n"
      "1 0 1 1:1:1:0 yes\n",
      "no-node.txt");
  EXPECT_TRUE(topo.numa_nodes.empty());
  EXPECT_FALSE(find_cpu(topo, 0)->numa.has_value());
}

TEST(LscpuFrequencies, SplitKindsOnlyBeyondFivePercent) {
  // 4000 vs 4150 MHz (3.75%): one kind; 4000 vs 3000: two.
  Topology one = load_lscpu(
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE MAXMHZ\n"
      "0 0 0 0 0:0:0:0 yes 4150.0\n"
      "1 0 0 1 1:1:1:0 yes 4000.0\n",
      "close.txt");
  EXPECT_EQ(one.kinds.size(), 1u);
  Topology two = load_lscpu(
      "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE MAXMHZ\n"
      "0 0 0 0 0:0:0:0 yes 4000.0\n"
      "1 0 0 1 1:1:1:0 yes 3000.0\n",
      "far.txt");
  ASSERT_EQ(two.kinds.size(), 2u);
  EXPECT_EQ(two.kinds[0].cpus, (CpuSet{1}));  // rank 0 = the slower, more efficient kind
  EXPECT_EQ(two.kinds[1].cpus, (CpuSet{0}));
}

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

// What a user pastes when told "paste lscpu": the summary of plain `lscpu`
// (util-linux 2.38, a Ryzen 7 5800X), then the `lscpu -e` table.
constexpr const char* kSummary =
    "Architecture:            x86_64\n"
    "  CPU op-mode(s):        32-bit, 64-bit\n"
    "  Address sizes:         48 bits physical, 48 bits virtual\n"
    "  Byte Order:            Little Endian\n"
    "CPU(s):                  4\n"
    "  On-line CPU(s) list:   0-3\n"
    "Vendor ID:               AuthenticAMD\n"
    "  Model name:            AMD Ryzen 7 5800X 8-Core Processor\n"
    "    CPU family:          25\n"
    "    Thread(s) per core:  2\n"
    "    CPU max MHz:         4850.1948\n"
    "    Flags:               fpu vme de pse tsc msr pae mce cx8 topoext perfctr_core\n";
constexpr const char* kTable =
    "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE    MAXMHZ\n"
    "  0    0      0    0 0:0:0:0          yes 4850.1948\n"
    "  1    0      0    1 1:1:1:0          yes 4850.1948\n"
    "  2    0      0    0 0:0:0:0          yes 4850.1948\n"
    "  3    0      0    1 1:1:1:0          yes 4850.1948\n";

TEST(LscpuWithSummary, ReadsTheTableBelowPlainLscpu) {
  Topology topo = load_lscpu(std::string(kSummary) + "\n$ lscpu -e\n" + kTable, "pasted.txt");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0, 1, 2, 3}));
  ASSERT_EQ(topo.cores.size(), 2u);
  EXPECT_EQ(topo.cores[0].cpus, (CpuSet{0, 2}));
  EXPECT_EQ(topo.cpu_model, "AMD Ryzen 7 5800X 8-Core Processor");
  EXPECT_EQ(topo.cpu_vendor, "AuthenticAMD");
}

TEST(LscpuWithSummary, PlainLscpuAloneSaysToPasteTheTable) {
  try {
    load_lscpu(kSummary, "pasted.txt");
    ADD_FAILURE() << "read plain lscpu as a topology";
  } catch (const TopologyInputError& e) {
    EXPECT_NE(std::string(e.what()).find("this is the output of plain `lscpu`"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("paste the output of `lscpu -e`"), std::string::npos) << e.what();
  }
}

// A broken row is an error naming its line, never a CPU fewer.
TEST(LscpuBadRows, AreErrorsNamingTheLine) {
  struct Case {
    std::string row, problem;
  };
  const std::vector<Case> cases = {
      {"4294967296 0 0 1 1:1:1:0 yes 4850.1948", "line 3: '4294967296' is not a CPU number (0 to 1048575)"},
      {"-1 0 0 1 1:1:1:0 yes 4850.1948", "line 3: '-1' is not a CPU number (0 to 1048575)"},
      {std::string("1 0 0 1 1:1:1:0 y") + '\0' + "es 4850.1948", "line 3: the row holds a NUL byte"},
      {std::string("1") + '\0' + " 0 0 1 1:1:1:0 yes 4850.1948", "line 3: the row holds a NUL byte"},
  };
  for (const Case& c : cases) {
    const std::string text = "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE MAXMHZ\n"
                             "0 0 0 0 0:0:0:0 yes 4850.1948\n" +
                             c.row + "\n2 0 0 0 0:0:0:0 yes 4850.1948\n";
    try {
      Topology topo = load_lscpu(text, "rows.txt");
      ADD_FAILURE() << "accepted row '" << c.row << "' and modelled CPUs " << all_cpus(topo).to_string();
    } catch (const TopologyInputError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot read topology 'rows.txt': " + c.problem), std::string::npos)
          << e.what();
    }
  }
}

TEST(LscpuBadRows, TextAfterTheTableStillEndsIt) {
  // A prompt after the table is not a row.
  Topology topo = load_lscpu(std::string(kTable) + "user@host:~$ exit\n", "prompt.txt");
  EXPECT_EQ(all_cpus(topo), (CpuSet{0, 1, 2, 3}));
}

}  // namespace
}  // namespace vpt
