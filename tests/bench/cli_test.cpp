// The vpt-tune binary: exit codes and one-line messages for bench and compare.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/results.hpp"
#include "tests/bench/results_fixture.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

using Outcome = test::CommandResult;
using test::read_file_text;

Outcome run(const std::string& args) { return test::run_vpt_tune(args, fs::path(testing::TempDir())); }

TEST(BenchCommand, OfflineCpuIsBadInput) {
  Outcome r = run("bench --quick --cpus 0,4095");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot measure CPU '4095': not online (online CPUs: ")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(BenchCommand, MalformedCpuListIsBadInput) {
  Outcome r = run("bench --quick --cpus 3-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot parse --cpus '3-1': range '3-1' runs backwards in CPU list '3-1'\n");
}

TEST(BenchCommand, ExistingSaveFileIsRefusedBeforeMeasuring) {
  fs::path path = fs::path(testing::TempDir()) / "vpt-cli-exists.json";
  std::ofstream(path) << "{}";
  Outcome r = run("bench --quick --save " + path.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot save results '" + path.string() +
                       "': the file exists (use --force to replace it)\n");
  EXPECT_EQ(read_file_text(path), "{}");
  fs::remove(path);
}

class CompareCommand : public testing::Test {
 protected:
  std::string save(const Results& r, const std::string& name) {
    fs::path path = fs::path(testing::TempDir()) / name;
    save_results_file(r, path.string(), true);
    return path.string();
  }
};

TEST_F(CompareCommand, PrintsVerdicts) {
  std::string before = save(test::sample_results(1.0, 1), "vpt-cli-before.json");
  std::string after = save(test::sample_results(0.8, 7), "vpt-cli-after.json");
  Outcome r = run("compare " + before + " " + after);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("core-to-core, all measured pairs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("better"), std::string::npos) << r.out;
}

TEST_F(CompareCommand, DifferentHostsAreBadInputUnlessAllowed) {
  Results other = test::sample_results();
  other.host.hostname = "elsewhere";
  std::string before = save(test::sample_results(), "vpt-cli-host-a.json");
  std::string after = save(other, "vpt-cli-host-b.json");
  Outcome refused = run("compare " + before + " " + after);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err, "vpt-tune: cannot compare '" + before + "' with '" + after +
                             "': they come from different hosts (host name 'bench-host' vs 'elsewhere'); use "
                             "--allow-different-hosts to compare anyway\n");
  EXPECT_EQ(run("compare --allow-different-hosts " + before + " " + after).exit_code, 0);
  EXPECT_EQ(run("compare --force " + before + " " + after).exit_code, 0);  // the old name still works
}

TEST_F(CompareCommand, TableFitsOneHundredColumnsAndDetailAddsTheTests) {
  std::string before = save(test::sample_results(1.0, 1), "vpt-cli-width-before.json");
  std::string after = save(test::sample_results(0.8, 7), "vpt-cli-width-after.json");
  Outcome r = run("compare " + before + " " + after);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    // The file names are the user's: only the lines vpt-tune composes must fit.
    if (line.starts_with("Before: ") || line.starts_with("After: ")) continue;
    EXPECT_LE(line.size(), 100u) << line;
  }
  EXPECT_EQ(r.out.find("p99 before"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("p="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--detail adds"), std::string::npos) << r.out;
  Outcome detail = run("compare --detail " + before + " " + after);
  ASSERT_EQ(detail.exit_code, 0) << detail.err;
  EXPECT_NE(detail.out.find("p99 before"), std::string::npos) << detail.out;
  EXPECT_NE(detail.out.find("p="), std::string::npos) << detail.out;
}

TEST_F(CompareCommand, ForeignFileIsBadInput) {
  fs::path path = fs::path(testing::TempDir()) / "vpt-cli-topology.json";
  std::ofstream(path) << R"({"schema": "vpt-tune/topology/1"})";
  std::string good = save(test::sample_results(), "vpt-cli-good.json");
  Outcome r = run("compare " + path.string() + " " + good);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot read results '" + path.string() +
                       "': schema 'vpt-tune/topology/1' is not the supported 'vpt-tune/bench/2' (or "
                       "'vpt-tune/bench/1')\n");
}

}  // namespace
}  // namespace vpt
