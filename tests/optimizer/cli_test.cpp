// `vpt-tune suggest` as a user runs it: the bad inputs of issue 11 get one
// line on stderr and exit code 2, and the JSON carries the guest NUMA cells.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vpt
