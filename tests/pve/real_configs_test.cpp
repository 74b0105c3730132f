// Proxmox configs modelled on what qemu-server and pct write on real nodes
// (tests/corpus/proxmox, whose README names the upstream code each follows and
// the facts asserted here). Issue 21.
#include <gtest/gtest.h>

#include <regex>

#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "pve/pve_config.hpp"
#include "tests/pve/pve_test_util.hpp"
#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

using test::cpus_from;
using test::hand_plan;

std::string corpus_path(const std::string& name) { return std::string(VPT_CORPUS_DIR) + "/proxmox/" + name; }
std::string corpus(const std::string& name) { return test::read_file(corpus_path(name)); }

// 2x Xeon E5-2650: node 0 = CPUs 0-7,16-23, node 1 = CPUs 8-15,24-31.
const Topology& two_node_xeon() {
  static const Topology topo =
      load_hwloc_xml_file(std::string(VPT_DATA_DIR) + "/topologies/32em64t-2n8c2t-pci-wholeio.xml");
  return topo;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The memory= values of the numa<n>: lines of the current section, read with a regex.
unsigned numa_memory_sum(const std::string& text) {
  unsigned sum = 0;
  std::istringstream lines(text);
  static const std::regex numa(R"(^numa[0-7]: .*memory=(\d+))");
  for (std::string line; std::getline(lines, line) && !line.starts_with("[");) {
    std::smatch m;
    if (std::regex_search(line, m, numa)) sum += static_cast<unsigned>(std::stoul(m[1]));
  }
  return sum;
}

TEST(PveRealConfigs, PendingMemoryIsTheNextStartsMemory) {
  const PveConfig c = parse_pve_config(corpus("110-pending-memory.conf"), "110.conf");
  EXPECT_EQ(c.memory_mib, 20480u);        // [PENDING] memory: 20480, current 16384
  EXPECT_EQ(c.options.at("memory"), "16384");
}

TEST(PveRealConfigs, PendingNumaLinesAreRefusedWithTheKeyNamed) {
  const PveConfig c = parse_pve_config(corpus("110-pending-memory.conf"), "110.conf");
  const GuestPlan plan = hand_plan(cpus_from(0, 8), {16, 17}, {}, GuestTopology{1, 1, 8, 1}, CpuSet{0});
  std::string e = error_of([&] { patch_pve_config(c, plan, two_node_xeon()); });
  EXPECT_NE(e.find("[PENDING] section changes numa0"), std::string::npos) << e;
}

TEST(PveRealConfigs, PendingMemoryAloneIsPlannedWithItsValue) {
  // The same VM with only memory pending: the numa lines must add up to 20480, or the VM does not start.
  std::string text = corpus("110-pending-memory.conf");
  text = std::regex_replace(text, std::regex(R"(\nnuma0: [^\n]*memory=20480[^\n]*)"), "");
  const PveConfig c = parse_pve_config(text, "110.conf");
  ASSERT_EQ(c.pending_keys, std::vector<std::string>{"memory"});
  const GuestPlan plan = hand_plan(cpus_from(0, 8), {16, 17}, {}, GuestTopology{1, 1, 8, 1}, CpuSet{0});
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon());
  EXPECT_EQ(numa_memory_sum(patch.text), 20480u) << patch.text;
}

TEST(PveRealConfigs, PendingCpuHotplugWithAnArgsSmpIsRefused) {
  const PveConfig c = parse_pve_config(corpus("111-pending-hotplug.conf"), "111.conf");
  EXPECT_TRUE(c.cpu_hotplug);  // only in [PENDING]
  const GuestPlan plan = hand_plan(cpus_from(0, 8), {16, 17}, {}, GuestTopology{1, 1, 4, 2});
  std::string e = error_of([&] { patch_pve_config(c, plan, two_node_xeon()); });
  EXPECT_NE(e.find("([PENDING] hotplug)"), std::string::npos) << e;
  EXPECT_NE(e.find("-smp"), std::string::npos) << e;
}

TEST(PveRealConfigs, PendingCoresAreRefusedNotOverridden) {
  const PveConfig c = parse_pve_config(corpus("112-pending-cores.conf"), "112.conf");
  EXPECT_EQ(c.cores, 12u);  // the next start's
  const GuestPlan plan = hand_plan(cpus_from(0, 12), {16, 17}, {}, GuestTopology{1, 1, 12, 1});
  std::string e = error_of([&] { patch_pve_config(c, plan, two_node_xeon()); });
  EXPECT_NE(e.find("changes cores"), std::string::npos) << e;
  EXPECT_NE(e.find("--revert cores"), std::string::npos) << e;
}

TEST(PveRealConfigs, AContainerConfigIsRefusedAsOne) {
  std::string e = error_of([] { parse_pve_config(corpus("200-container.conf"), "200.conf"); });
  EXPECT_NE(e.find("this is a container config"), std::string::npos) << e;
}

TEST(PveRealConfigs, AnEmptyBootOrderIsKeptByteForByte) {
  const std::string text = corpus("115-empty-boot.conf");
  ASSERT_NE(text.find("\nboot: \n"), std::string::npos);
  const PveConfig c = parse_pve_config(text, "115.conf");
  EXPECT_EQ(c.options.at("boot"), "");
  const GuestPlan plan = hand_plan(cpus_from(0, 4), {16, 17}, {}, GuestTopology{1, 1, 4, 1});
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon());
  EXPECT_NE(patch.text.find("\nboot: \n"), std::string::npos) << patch.text;
  // "boot:" without a blank is no option for qemu-server either.
  std::string e = error_of([&] { parse_pve_config(std::regex_replace(text, std::regex("\nboot: \n"), "\nboot:\n"), "x.conf"); });
  EXPECT_NE(e.find("'boot:' has no value"), std::string::npos) << e;
}

TEST(PveRealConfigs, ACrlfConfigKeepsCrlfOnEveryLine) {
  const std::string text = corpus("116-crlf.conf");
  ASSERT_NE(text.find("\r\n"), std::string::npos);
  const PveConfig c = parse_pve_config(text, "116.conf");
  const GuestPlan plan = hand_plan(cpus_from(0, 4), {16, 17}, {}, GuestTopology{1, 1, 2, 2});
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon());
  ASSERT_NE(patch.text, text);
  std::size_t lines = 0;
  for (std::size_t at = patch.text.find('\n'); at != std::string::npos; at = patch.text.find('\n', at + 1)) {
    ++lines;
    EXPECT_TRUE(at > 0 && patch.text[at - 1] == '\r') << "line " << lines << " of\n" << patch.text;
  }
  EXPECT_GT(lines, 17u);
}

TEST(PveRealConfigs, ARunningVmsChangesGoIntoPendingAsQmSetWritesThem) {
  const std::string text = test::read_data("101.conf");
  const PveConfig c = parse_pve_config(text, "101.conf");
  const GuestPlan plan = hand_plan(cpus_from(0, 8), {16, 17}, {{18, 19}}, GuestTopology{1, 1, 4, 2});
  PvePatchOptions options;
  options.hookscript = "local:snippets/vpt-tune-101.sh";
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon(), options);
  const std::string pending = pve_pending_text(c, patch);
  const PveConfig after = parse_pve_config(pending, "101.conf");
  // The current section still describes the QEMU that runs, but for the hookscript.
  std::map<std::string, std::string> expected = c.options;
  expected["hookscript"] = "local:snippets/vpt-tune-101.sh";
  EXPECT_EQ(after.options, expected);
  // What the next start gets is the patch's.
  const PveConfig next = parse_pve_config(patch.text, "101.conf");
  EXPECT_EQ(after.affinity, next.affinity);
  EXPECT_EQ(after.args, next.args);
  EXPECT_EQ(after.cores, next.cores);
  // [PENDING] sits between the current section and the snapshots, which stay byte for byte.
  const auto pending_at = pending.find("\n[PENDING]\n"), snapshot_at = pending.find("\n[clean-install]\n");
  ASSERT_NE(pending_at, std::string::npos) << pending;
  EXPECT_LT(pending_at, snapshot_at);
  EXPECT_EQ(pending.substr(snapshot_at), text.substr(text.find("\n[clean-install]\n")));
}

TEST(PveRealConfigs, TheQmSetCommandSetsWhatThePatchSets) {
  const PveConfig c = parse_pve_config(test::read_data("103.conf"), "103.conf");
  const GuestPlan plan = hand_plan(cpus_from(0, 8), {16, 17}, {}, GuestTopology{1, 1, 4, 2});
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon());
  const std::string command = pve_qm_set_command(103, patch);
  EXPECT_TRUE(command.starts_with("qm set 103 ")) << command;
  for (const auto& [key, value] : patch.edits) {
    // The value in single quotes, a quote inside written '\'' for the shell.
    if (value) {
      EXPECT_NE(command.find(fmt::format("--{} '{}'", key, std::regex_replace(*value, std::regex("'"), "'\\''"))),
                std::string::npos)
          << command;
    } else {
      EXPECT_NE(command.find("--delete"), std::string::npos) << command;
    }
  }
  EXPECT_NE(command.find("--affinity"), std::string::npos) << command;
}

class PveRealConfigsCli : public ::testing::Test {
 protected:
  test::TempDir dir_;
};

TEST_F(PveRealConfigsCli, ALockedVmIsRefusedInEveryMode) {
  const std::string lscpu = std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt";
  test::CommandResult r = test::run_vpt_tune(
      fmt::format("suggest --lscpu '{}' --pve-config '{}'", lscpu, corpus_path("114-lock.conf")), dir_.path());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("it is locked (backup)"), std::string::npos) << r.err;
}

TEST_F(PveRealConfigsCli, EveryModePrintsTheQmSetCommandAndWhereTheHookscriptGoes) {
  const std::string lscpu = std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt";
  test::CommandResult r = test::run_vpt_tune(
      fmt::format("suggest --lscpu '{}' --pve-config '{}' --vmid 118 --hookscript-out '{}'", lscpu,
                  corpus_path("118-pve9.conf"),
                  dir_ / "h.sh"),
      dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("qm set 118 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("install the script as /var/lib/vz/snippets/vpt-tune-118.sh"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vpt
