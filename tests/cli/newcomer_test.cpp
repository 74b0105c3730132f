// A newcomer's first commands through the real binary: mistyped commands and
// options get did-you-mean, a refused request names the command that works
// (and that command does work), pasted input is "the pasted machine", output
// files are never replaced without --force, a plan shown but not applied ends
// with the next command, and --help speaks in words, not CLI11's type names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

const std::string kData = VPT_DATA_DIR;
const std::string kI7 = kData + "/lscpu/intel-core-i7-14700f.txt";
const std::string kMinimalDomain = kData + "/domains/minimal.xml";

test::CommandResult run(const std::string& args) { return test::run_vpt_tune(args, fs::path(testing::TempDir())); }

fs::path temp_file(const std::string& name, const std::string& text) {
  fs::path path = fs::path(testing::TempDir()) / name;
  std::ofstream(path) << text;
  return path;
}

// A machine of two cores without SMT, as `lscpu -e` prints it: the default
// --reserve (at least 2 cores) leaves its guest nothing.
fs::path two_core_machine() {
  return temp_file("vpt-two-cores.txt",
                   "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n"
                   "  0    0      0    0 0:0:0:0          yes\n"
                   "  1    0      0    1 1:1:1:0          yes\n");
}

// The text between the first pair of backquotes.
std::string quoted_command(const std::string& text) {
  auto open = text.find('`');
  auto close = text.find('`', open + 1);
  if (open == std::string::npos || close == std::string::npos) return "";
  return text.substr(open + 1, close - open - 1);
}

TEST(DidYouMean, MistypedCommand) {
  auto r = run("sugest");
  EXPECT_EQ(r.exit_code, 109);
  EXPECT_EQ(r.err,
            "vpt-tune: unknown command 'sugest' (did you mean 'suggest'?); the commands are probe, bench, compare, "
            "suggest, restore, hook, report, check (`vpt-tune --help` says what each does)\n");
}

TEST(DidYouMean, NothingNearIsNoGuess) {
  auto r = run("xyzzy");
  EXPECT_EQ(r.exit_code, 109);
  EXPECT_EQ(r.err, "vpt-tune: unknown command 'xyzzy'; the commands are probe, bench, compare, suggest, restore, "
                   "hook, report, check (`vpt-tune --help` says what each does)\n");
  // Three edits from 'check' is no typo of it.
  EXPECT_EQ(run("chxxk2").err.find("did you mean"), std::string::npos);
}

TEST(DidYouMean, NoCommandListsThem) {
  auto r = run("");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("give a command: probe, bench, compare, suggest, restore, hook, report, check"),
            std::string::npos)
      << r.err;
}

TEST(DidYouMean, MistypedOption) {
  auto r = run("suggest --lscpu " + kI7 + " --vcpu 4");
  EXPECT_EQ(r.exit_code, 109);
  EXPECT_EQ(r.err, "vpt-tune suggest: unknown option '--vcpu' (did you mean '--vcpus'?); `vpt-tune suggest --help` "
                   "lists its options\n");
  r = run("compare --befor a.json --after b.json");
  EXPECT_NE(r.err.find("did you mean '--before'?"), std::string::npos) << r.err;
}

TEST(DidYouMean, BareWordWhereADomainIsMeant) {
  auto r = run("check win11");
  EXPECT_EQ(r.exit_code, 109);
  EXPECT_NE(r.err.find("unexpected argument 'win11'; a domain is named with --domain: `vpt-tune check --domain "
                       "win11`"),
            std::string::npos)
      << r.err;
}

TEST(NextCommand, SmallHostNamesTheOptionsThatPlanAnyway) {
  const std::string machine = two_core_machine().string();
  auto r = run("suggest --lscpu " + machine);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("the machine in '" + machine + "' has 2 cores and the host keeps 2 of them"),
            std::string::npos)
      << r.err;
  const std::string next = quoted_command(r.err);
  EXPECT_EQ(next, "vpt-tune suggest --lscpu " + machine + " --vcpus 2 --reserve 0");
  EXPECT_NE(r.err.find("plans anyway (the host then shares the guest's CPUs)"), std::string::npos) << r.err;
  // And it does.
  auto again = run(next.substr(std::string("vpt-tune ").size()));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("2 vCPUs on CPUs 0-1"), std::string::npos) << again.out;
}

TEST(NextCommand, TooManyVcpusNamesTheLargestThatFits) {
  // The i7-14700F keeps 2 of its 8 P-cores... the guide's plan: 16 vCPUs on the P-cores fit, 40 do not.
  auto r = run("suggest --lscpu " + kI7 + " --vcpus 40 --reserve 2");
  EXPECT_EQ(r.exit_code, 2);
  const std::string next = quoted_command(r.err);
  ASSERT_TRUE(next.starts_with("vpt-tune suggest --lscpu " + kI7 + " --reserve 2 --vcpus ")) << r.err;
  auto again = run(next.substr(std::string("vpt-tune ").size()));
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST(PastedInput, IsThePastedMachine) {
  const fs::path err = fs::path(testing::TempDir()) / "vpt-pasted-err.txt";
  const std::string command = std::string("'") + VPT_TUNE_BINARY + "' suggest --lscpu - < '" +
                              two_core_machine().string() + "' > /dev/null 2> '" + err.string() + "'";
  EXPECT_NE(std::system(command.c_str()), 0);
  const std::string text = test::read_file_text(err);
  EXPECT_NE(text.find("the pasted machine has 2 cores"), std::string::npos) << text;
  EXPECT_EQ(text.find("this host"), std::string::npos) << text;
}

TEST(MissingFile, IsOneLineAndBadInput) {
  auto r = run("compare /nonexistent/before.json /nonexistent/after.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot read results '/nonexistent/before.json': No such file or directory\n");
}

TEST(OutputFiles, AreNotReplacedWithoutForce) {
  const fs::path out = temp_file("vpt-existing-out.xml", "mine\n");
  auto r = run("suggest --lscpu " + kI7 + " --xml " + kMinimalDomain + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot write patched definition '" + out.string() +
                       "': the file exists (use --force to replace it)\n");
  EXPECT_EQ(test::read_file_text(out), "mine\n");
  r = run("suggest --lscpu " + kI7 + " --xml " + kMinimalDomain + " --out " + out.string() + " --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(test::read_file_text(out).find("<vcpupin"), std::string::npos);
}

TEST(NextCommand, PlanShownButNotAppliedEndsWithWhatToRun) {
  auto r = run("suggest --lscpu " + kI7 + " --xml " + kMinimalDomain);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nnext: add --out FILE to write the patched definition, then `virsh define FILE`"),
            std::string::npos)
      << r.out;
}

TEST(Hook, TakesTheHostCpusFromAPlan) {
  // The passthrough guide's plan for the i7-14700F leaves the host its 12 E-cores, CPUs 16-27.
  auto plan = run("suggest --lscpu " + kI7 + " --vcpus 16 --json");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const fs::path file = temp_file("vpt-hook-plan.json", plan.out);
  auto r = run("hook --domain win11 --plan " + file.string() + " --print");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HOST_CPUS='16-27'"), std::string::npos) << r.out.substr(0, 2000);
  EXPECT_NE(r.err.find("the host keeps CPUs 16-27"), std::string::npos) << r.err;
}

TEST(Hook, NamesTheNextStepWhenTheDomainHasNoPins) {
  // libvirt's test driver defines one domain, 'test', with no <cputune>.
  auto r = run("hook -c test:///default --domain test --print");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "vpt-tune: cannot take the host's CPUs from domain 'test': its vCPUs are not pinned; run "
                   "`vpt-tune suggest --domain test --apply` first, or give --host-cpus LIST\n");
}

TEST(Help, SpeaksInWords) {
  for (const std::string command : {"probe", "bench", "compare", "suggest", "restore", "hook", "report", "check"}) {
    auto r = run(command + " --help");
    ASSERT_EQ(r.exit_code, 0) << command;
    for (const std::string label :
         {" TEXT", "UINT", "FLOAT", ":INT", "INT in [", "Needs:", "Excludes:", ":{", "POSITIVE", "NONNEGATIVE"})
      EXPECT_EQ(r.out.find(label), std::string::npos) << command << " --help shows '" << label << "'";
  }
  auto r = run("suggest --help");
  EXPECT_NE(r.out.find("--live"), std::string::npos);
  EXPECT_NE(r.out.find("needs --apply"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--emulator shared|dedicated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Cost-model weights (points charged per pair"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the VM's own count with --domain"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vpt
