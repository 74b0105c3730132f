// `vpt-tune report`, run as a user would: files written, formats, refusals
// with one-line messages and exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/results.hpp"
#include "tests/report/report_test_util.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

using Outcome = test::CommandResult;
using test::read_file_text;

class ReportCommand : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("vpt-report-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome run(const std::string& args) { return test::run_vpt_tune(args, dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string i7() { return "--lscpu " + (test::corpus_dir() / "lscpu/intel-core-i7-14700f.txt").string(); }

  // Synthetic before/after files for the i7's 16-vCPU plan.
  std::pair<std::string, std::string> results(const std::string& hostname = "sample-host") {
    Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
    Plan plan = test::plan_for(topo, 16);
    test::SampleConfig before, after;
    before.pinned = false;
    before.hostname = after.hostname = hostname;
    save_results_file(test::sample_results(topo, plan, before), path("before.json"), true);
    save_results_file(test::sample_results(topo, plan, after), path("after.json"), true);
    return {path("before.json"), path("after.json")};
  }

  fs::path dir_;
};

TEST_F(ReportCommand, WritesTheHtmlPageAndSaysSo) {
  Outcome r = run("report " + i7() + " --vcpus 16 --out " + path("r.html"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "vpt-tune: wrote the HTML report to " + path("r.html") + "\n");
  EXPECT_TRUE(read_file_text(path("r.html")).starts_with("<!DOCTYPE html>"));
}

TEST_F(ReportCommand, RefusesToReplaceAFileWithoutForce) {
  std::ofstream(path("r.html")) << "mine";
  Outcome r = run("report " + i7() + " --out " + path("r.html"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot write report '" + path("r.html") + "': the file exists (use --force to replace it)\n");
  EXPECT_EQ(read_file_text(path("r.html")), "mine");
  r = run("report " + i7() + " --out " + path("r.html") + " --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("replaced"), std::string::npos);
  EXPECT_TRUE(read_file_text(path("r.html")).starts_with("<!DOCTYPE html>"));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".r.html.")) << "temporary file left: " << entry.path();
}

TEST_F(ReportCommand, TakesTheFormatFromTheExtensionOrTheOption) {
  EXPECT_EQ(run("report " + i7() + " --out " + path("post.md")).exit_code, 0);
  EXPECT_TRUE(read_file_text(path("post.md")).starts_with("**vpt-tune report:"));
  Outcome r = run("report " + i7() + " --format bbcode");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("[b]vpt-tune report:"));
  r = run("report " + i7() + " --out " + path("post.txt"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot infer the format from '" + path("post.txt") + "': writing HTML"));
}

TEST_F(ReportCommand, UsesAPlanSavedBySuggest) {
  Outcome s = run("suggest " + i7() + " --vcpus 8 --json");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::ofstream(path("plan.json")) << s.out;
  Outcome r = run("report " + i7() + " --plan " + path("plan.json") + " --format markdown");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The plan's CPUs (P-cores 1-4: the host keeps core 0, the boot CPU's).
  EXPECT_NE(r.out.find("8 vCPUs on CPUs 2-9"), std::string::npos) << r.out;
}

TEST_F(ReportCommand, RejectsAPlanForAnotherHost) {
  Outcome s = run("suggest --topology " + (test::corpus_dir() / "hwloc/AMD-19h-Zen4-2xEpyc-9654.xml").string() +
                  " --vcpus 64 --json");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::ofstream(path("plan.json")) << s.out;
  Outcome r = run("report " + i7() + " --plan " + path("plan.json"));
  EXPECT_EQ(r.exit_code, 2);
  // The i7-14700F has CPUs 0-27; the EPYC plan names CPUs up to 383.
  EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot use plan '" + path("plan.json") + "' for the machine in '" +
                                (test::corpus_dir() / "lscpu/intel-core-i7-14700f.txt").string() + "': it names CPUs "))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(ReportCommand, RejectsAMalformedPlanFile) {
  std::ofstream(path("plan.json")) << "{\"guests\": 3";
  Outcome r = run("report " + i7() + " --plan " + path("plan.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot read plan '" + path("plan.json") + "': ")) << r.err;
}

TEST_F(ReportCommand, PlanAndRequestOptionsExcludeEachOther) {
  std::ofstream(path("plan.json")) << "{}";
  Outcome r = run("report " + i7() + " --plan " + path("plan.json") + " --vcpus 4");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

TEST_F(ReportCommand, ComparesBeforeAndAfter) {
  auto [before, after] = results();
  Outcome r = run("report " + i7() + " --vcpus 16 --before " + before + " --after " + after + " --format markdown");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| wake-up lateness, all measured CPUs |"), std::string::npos) << r.out;
}

TEST_F(ReportCommand, RedactsTheHostNameUnlessAskedNotTo) {
  auto [before, after] = results("alice-desktop");
  std::string args = "report " + i7() + " --vcpus 16 --bench " + after + " --out " + path("r.html");
  ASSERT_EQ(run(args).exit_code, 0);
  EXPECT_EQ(read_file_text(path("r.html")).find("alice-desktop"), std::string::npos);
  ASSERT_EQ(run(args + " --force --no-redact").exit_code, 0);
  EXPECT_NE(read_file_text(path("r.html")).find("alice-desktop"), std::string::npos);
}

// A domain named like an attack, with the identifiers redaction hides.
constexpr const char* kHostileDomain = R"(<domain type='kvm'>
  <name>&lt;script&gt;alert(1)&lt;/script&gt;</name>
  <uuid>0c6f3f4e-9a55-4c1f-8d0b-5f3e2a7d1b90</uuid>
  <vcpu placement='static'>16</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='0'/></cputune>
  <cpu mode='host-passthrough'/>
  <devices>
    <disk type='file' device='disk'><source file='/home/alice/vms/taxes.qcow2'/><serial>S5GXNF0R123456</serial></disk>
    <interface type='network'><mac address='52:54:00:a1:b2:c3'/></interface>
  </devices>
</domain>
)";

TEST_F(ReportCommand, ReadsTheDomainFromXmlAndShowsItsNameAsText) {
  std::ofstream(path("dom.xml")) << kHostileDomain;
  Outcome r = run("report " + i7() + " --xml " + path("dom.xml") + " --out " + path("r.html"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_file_text(path("r.html"));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("0c6f3f4e-9a55"), std::string::npos);
  EXPECT_NE(html.find("<td>[uuid]</td>"), std::string::npos);
  for (const char* secret : {"alice", "taxes", "S5GXNF0R", "52:54:00"}) EXPECT_EQ(html.find(secret), std::string::npos) << secret;
  // The domain's vCPU count is the request's default, as in `suggest`.
  EXPECT_NE(html.find("16 vCPUs"), std::string::npos);
}

TEST_F(ReportCommand, BadResultsFileIsBadInput) {
  std::ofstream(path("bad.json")) << "{\"schema\": \"something/else\"}";
  Outcome r = run("report " + i7() + " --bench " + path("bad.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot read results '" + path("bad.json") + "'")) << r.err;
}

TEST_F(ReportCommand, BeforeNeedsAfter) {
  auto [before, after] = results();
  Outcome r = run("report " + i7() + " --before " + before);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--after"), std::string::npos) << r.err;
}

TEST_F(ReportCommand, ReviewsTheDomainItIsGiven) {
  Outcome r = run("report " + i7() + " --xml " + std::string(VPT_DATA_DIR) + "/domains/win10-untuned.xml --format markdown");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Review of domain 'win10' (vpt-tune check): 1 error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("windows-sockets"), std::string::npos);
}

TEST_F(ReportCommand, RendersFindingsSavedByCheck) {
  Outcome check = run("check --xml " + std::string(VPT_DATA_DIR) + "/domains/win10-untuned.xml " + i7() + " --json");
  ASSERT_EQ(check.exit_code, 0) << check.err;
  std::ofstream(path("findings.json")) << check.out;
  Outcome r = run("report " + i7() + " --vcpus 8 --findings " + path("findings.json") + " --out " + path("r.html"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_file_text(path("r.html"));
  EXPECT_NE(html.find("<section id=\"review\">"), std::string::npos);
  EXPECT_NE(html.find("hyperv-stimer"), std::string::npos);
}

TEST_F(ReportCommand, FindingsOfAnotherSchemaAreBadInput) {
  std::ofstream(path("plan.json")) << "{\"schema\": \"vpt-tune/plan/1\"}";
  Outcome r = run("report " + i7() + " --findings " + path("plan.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot read findings '" + path("plan.json") +
                       "': schema: 'vpt-tune/plan/1' is not vpt-tune/check/1 (the output of `vpt-tune check --json`)\n");
}

// ---- A small host, files alone, missing files ---------------------------------------

// A host of two cores, one CPU each, one L3 (`lscpu -e` of a small VM): the
// default request (the host keeps a core, the guest gets the rest) does not fit.
constexpr const char* kTwoCores =
    "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
    "  0    0      0    0 0:0:0:0          yes\n"
    "  1    0      0    1 1:1:1:0          yes\n";

class SmallHost : public ReportCommand {
 protected:
  void SetUp() override {
    ReportCommand::SetUp();
    std::ofstream(path("two.txt")) << kTwoCores;
    // Results as `bench --out` saves them, from the i7 fixture (what they measured does not matter here).
    Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
    Plan plan = test::plan_for(topo, 4);
    save_results_file(test::sample_results(topo, plan, {}), path("a.json"), true);
    save_results_file(test::sample_results(topo, plan, {}), path("b.json"), true);
  }
  std::string host() const { return "--lscpu " + path("two.txt"); }
};

TEST_F(SmallHost, ReportsBenchFilesWithoutAPlanWhenNoneWasAskedFor) {
  Outcome plain = run("suggest " + host());
  ASSERT_EQ(plain.exit_code, 2) << "the fixture must be a host the default request does not fit: " << plain.err;
  for (const std::string& files : {"--before " + path("a.json") + " --after " + path("b.json"), "--bench " + path("a.json")}) {
    Outcome r = run("report " + host() + " " + files + " --format markdown");
    ASSERT_EQ(r.exit_code, 0) << files << ": " << r.err;
    EXPECT_EQ(r.err, "");
    // One line says there is no plan and which command makes one; no plan rows, no XML.
    EXPECT_NE(r.out.find("| Plan | No plan was made (cannot plan guest 'guest': "), std::string::npos) << r.out;
    // Two cores without SMT: both, shared with the host, is what fits.
    EXPECT_NE(r.out.find("vpt-tune suggest with --vcpus 2 --reserve 0 makes one"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Host keeps"), std::string::npos);
    EXPECT_EQ(r.out.find("libvirt XML"), std::string::npos);
    EXPECT_EQ(r.out.find("| Guest '"), std::string::npos);
    EXPECT_NE(r.out.find("core-to-core"), std::string::npos) << "the measurements are there";
    Outcome html = run("report " + host() + " " + files + " --out " + path("r.html") + " --force");
    ASSERT_EQ(html.exit_code, 0) << html.err;
    const std::string page = read_file_text(path("r.html"));
    EXPECT_NE(page.find("<h3>No plan</h3>"), std::string::npos);
    EXPECT_EQ(page.find("<section id=\"sharing\">"), std::string::npos);
    EXPECT_EQ(page.find("<section id=\"xml\">"), std::string::npos);
    EXPECT_NE(page.find("<section id=\"bench\">"), std::string::npos);
  }
}

TEST_F(SmallHost, MeasurementsOfAnotherMachineAreSaidToBeSo) {
  // The host model names its CPU (plain `lscpu` above the table); the results are the i7's.
  std::ofstream(path("two-named.txt")) << "Model name:            AMD Ryzen 5 5600X 6-Core Processor\n" << kTwoCores;
  Topology i7 = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  test::SampleConfig config;
  config.cpu_model = "Intel(R) Core(TM) i7-14700F";
  save_results_file(test::sample_results(i7, test::plan_for(i7, 4), config), path("i7.json"), true);
  Outcome r = run("report --lscpu " + path("two-named.txt") + " --bench " + path("i7.json") + " --format markdown");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("The measurements come from a machine with CPU 'Intel(R) Core(TM) i7-14700F', but the host "
                       "model is the machine in 'two-named.txt' (CPU 'AMD Ryzen 5 5600X 6-Core "
                       "Processor')"),
            std::string::npos)
      << r.out;
}

TEST_F(SmallHost, AnExplicitRequestThatDoesNotFitIsStillAnError) {
  for (const std::string asked : {"--vcpus 2", "--reserve 2", "--name win11"}) {
    Outcome r = run("report " + host() + " " + asked + " --bench " + path("a.json"));
    EXPECT_EQ(r.exit_code, 2) << asked;
    EXPECT_TRUE(r.err.starts_with("vpt-tune: cannot p")) << asked << ": " << r.err;  // plan guest / place vCPUs
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// With --reserve 0 the host runs on the guest's CPUs: `suggest` warns that it
// shares them, and the report's verdicts say "shared" at every level (both from
// optimizer/sharing.hpp), not "private".
TEST_F(SmallHost, SharingVerdictsAgreeWithSuggestWithReserveZero) {
  Outcome s = run("suggest " + host() + " --reserve 0");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("the host keeps no CPU of its own (--reserve 0): the host, QEMU's emulator and I/O threads "
                       "share CPUs 0-1 with the guest's vCPUs"),
            std::string::npos)
      << s.out;
  Outcome r = run("report " + host() + " --reserve 0 --format markdown");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| Sharing | core: shared; L2: shared; L3: shared |"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("private"), std::string::npos) << r.out;
  Outcome html = run("report " + host() + " --reserve 0 --out " + path("r.html"));
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(read_file_text(path("r.html")).find("cores shared with the host (CPUs 0-1)"), std::string::npos);
}

TEST_F(SmallHost, AMissingFileIsOneLineAndExitCode2) {
  const std::string missing = path("missing.json");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--bench " + missing, "results"},
      {"--before " + missing + " --after " + path("b.json"), "results"},
      {"--before " + path("a.json") + " --after " + missing, "results"},
      {"--findings " + missing, "findings"},
      {"--plan " + missing, "plan"},
  };
  for (const auto& [args, what] : cases) {
    Outcome r = run("report " + host() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.err, "vpt-tune: cannot read " + what + " '" + missing + "': No such file or directory\n") << args;
  }
  // The domain's file: its own reader's message, one line, exit code 2.
  Outcome r = run("report " + host() + " --reserve 0 --xml " + missing);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vpt
