// `vpt-tune suggest` as a user runs it: the bad inputs of issue 11 get one
// line on stderr and exit code 2, and the JSON carries the guest NUMA cells.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

class SuggestCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vpt-suggest-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  test::CommandResult run(const std::string& args) { return test::run_vpt_tune(args, dir_); }
  static std::string corpus(const std::string& rel) { return std::string(VPT_CORPUS_DIR) + "/" + rel; }

  fs::path dir_;
};

TEST_F(SuggestCommand, VcpusWithGuestIsAnErrorNotSilentlyDropped) {
  auto r = run("suggest --lscpu " + corpus("lscpu/intel-core-i7-14700f.txt") + " --vcpus 8 --guest a:4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot use --vcpus 8 with --guest: give each guest its count as --guest NAME:VCPUS "
                   "(e.g. --guest a:4)\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(SuggestCommand, AnLscpuListingGivenToTopologyNamesLscpu) {
  auto r = run("suggest --topology " + corpus("lscpu/amd-ryzen7-5800x.txt"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("it looks like `lscpu -e` output: read it with --lscpu FILE"), std::string::npos) << r.err;
}

TEST_F(SuggestCommand, AnHwlocExportGivenToLscpuNamesTopology) {
  auto r = run("suggest --lscpu " + corpus("hwloc/32em64t-2n8c+1mic.xml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("this is an hwloc XML export: read it with --topology FILE.xml"), std::string::npos) << r.err;
}

TEST_F(SuggestCommand, BadMemorySizeIsOneLine) {
  auto r = run("suggest --lscpu " + corpus("lscpu/amd-ryzen7-5800x.txt") + " --memory 12Q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot read --memory '12Q': expected a size like 16G, 16384M or 512MiB\n");
}

// 2x E5-2660 v2 (lscpu: node 0 = CPUs 0-9,20-29, node 1 = CPUs 10-19,30-39).
TEST_F(SuggestCommand, JsonCarriesOneNumaCellPerNodeWithItsMemory) {
  auto r = run("suggest --lscpu " + corpus("lscpu/intel-xeon-e5-2660v2-2socket.txt") +
               " --vcpus 32 --memory 64G --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = nlohmann::json::parse(r.out);
  const auto& g = plan["guests"][0];
  ASSERT_EQ(g["numa_cells"].size(), 2u);
  for (int c = 0; c < 2; ++c) {
    const auto& cell = g["numa_cells"][c];
    EXPECT_EQ(cell["cell"], c);
    EXPECT_EQ(cell["host_node"], c);
    EXPECT_EQ(cell["memory_bytes"], 32ull << 30);
    ASSERT_EQ(cell["vcpus"].size(), 16u);
    for (const auto& v : cell["vcpus"]) {  // each vCPU of the cell runs on its node
      unsigned cpu = g["vcpus"][v.get<unsigned>()];
      EXPECT_EQ(cpu % 20 >= 10, c == 1) << "vCPU " << v << " on CPU " << cpu;
    }
  }
  EXPECT_EQ(g["topology"]["sockets"], 2);
}

// libvirt refuses a guest NUMA cell without memory=: no snippet is printed
// that cannot be defined; --memory makes one whose every cell has it.
TEST_F(SuggestCommand, NumaCellsWithoutMemoryAskForMemory) {
  const std::string base = "suggest --lscpu " + corpus("lscpu/intel-xeon-e5-2660v2-2socket.txt") + " --vcpus 32";
  auto r = run(base);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("give --memory SIZE"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");

  r = run(base + " --memory 64G");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t cells = 0;
  for (std::size_t at = r.out.find("<cell "); at != std::string::npos; at = r.out.find("<cell ", at + 1)) {
    ++cells;
    const std::string cell = r.out.substr(at, r.out.find('>', at) - at);
    EXPECT_NE(cell.find("memory='33554432' unit='KiB'"), std::string::npos) << cell;
  }
  EXPECT_EQ(cells, 2u) << r.out;
}

// The score is one line by default (what most of it is, whether a lower one
// exists); --explain lists the terms, each weight's name once.
TEST_F(SuggestCommand, ScoreIsOneLineUnlessExplained) {
  const std::string base = "suggest --lscpu " + corpus("lscpu/intel-core-i7-14700f.txt") + " --vcpus 16";
  auto r = run(base);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("host_guest_sharing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of it from host CPUs sharing a core, L2 or L3 with a guest's vCPUs; no plan for this request "
                       "scores lower"),
            std::string::npos)
      << r.out;
  r = run(base + " --explain");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* term : {"host_guest_sharing", "guest_split_l3", "guest_boot_cpu"})
    EXPECT_NE(r.out.find(term), std::string::npos) << term;
}

// --prefer vcache on a listing without L3 sizes: one line naming what to paste.
TEST_F(SuggestCommand, PreferVCacheWithoutSizesNamesTheSysfsFiles) {
  auto r = run("suggest --lscpu " + corpus("lscpu/amd-ryzen7-5800x.txt") + " --prefer vcache");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("grep . /sys/devices/system/cpu/cpu*/cache/index3/size"), std::string::npos) << r.err;
}

// --guest NAME:VCPUS:MEMORY gives a guest its memory: its NUMA cells carry it.
TEST_F(SuggestCommand, GuestMemorySizesItsCells) {
  auto r = run("suggest --lscpu " + corpus("lscpu/intel-xeon-e5-2660v2-2socket.txt") +
               " --guest big:32:64G --guest small:4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plan = nlohmann::json::parse(r.out);
  const auto& cells = plan["guests"][0]["numa_cells"];
  ASSERT_EQ(cells.size(), 2u);
  for (const auto& cell : cells) EXPECT_EQ(cell["memory_bytes"], 32ull << 30);
  r = run("suggest --lscpu " + corpus("lscpu/intel-xeon-e5-2660v2-2socket.txt") + " --guest big:32:lots");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A host of several sockets or nodes planned without --gpu or a domain is
// asked for the GPU's address; with --gpu, or on a one-node desktop, it is not.
TEST_F(SuggestCommand, MultiSocketHostsAskForTheGpuAddress) {
  auto r = run("suggest --topology " + corpus("hwloc/AMD-17h-Zen-2xEpyc-7451.xml") + " --vcpus 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Passing a GPU through?"), std::string::npos) << r.out;
  r = run("suggest --topology " + corpus("hwloc/32em64t-2n8c2t-pci-wholeio.xml") + " --vcpus 8 --gpu 84:00.0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Passing a GPU through?"), std::string::npos) << r.out;
  r = run("suggest --lscpu " + corpus("lscpu/amd-ryzen7-5800x.txt") + " --vcpus 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Passing a GPU through?"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vpt
