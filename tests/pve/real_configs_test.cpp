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

TEST(PveRealConfigs, VcpusStaysAndTheMaximumStaysCoresTimesSockets) {
  // 113-vcpus.conf: sockets 1 x cores 8, vcpus: 6 online (qemu-server: maxcpus 8).
  const PveConfig c = parse_pve_config(corpus("113-vcpus.conf"), "113.conf");
  EXPECT_EQ(c.online_vcpus(), 6u);
  EXPECT_EQ(request_defaults_from(c, nullptr).vcpus, 6u);  // the plan is for the online vCPUs
  const GuestPlan plan = hand_plan(cpus_from(0, 6), {16, 17}, {CpuSet{18}}, GuestTopology{1, 1, 3, 2});
  const PvePatch patch = patch_pve_config(c, plan, two_node_xeon());
  EXPECT_EQ(patch.edits.count("vcpus"), 0u) << patch.text;
  EXPECT_EQ(patch.edits.count("cores"), 0u) << patch.text;
  // 8 = 1 socket x 1 die x 4 cores x 2 threads, of which the first 6 online.
  EXPECT_NE(patch.text.find("args: -smp 6,sockets=1,dies=1,cores=4,threads=2,maxcpus=8\n"), std::string::npos)
      << patch.text;

  // A topology that cannot hold 8 (3 threads a core): all planned vCPUs are present, vcpus: goes.
  const GuestPlan odd = hand_plan(cpus_from(0, 6), {16, 17}, {CpuSet{18}}, GuestTopology{1, 1, 2, 3});
  const PvePatch all = patch_pve_config(c, odd, two_node_xeon());
  ASSERT_EQ(all.edits.count("vcpus"), 1u);
  EXPECT_FALSE(all.edits.at("vcpus"));
  EXPECT_EQ(all.edits.at("cores"), "6");
}

TEST(PveRealConfigs, APendingDeleteIsSortedAsQemuServerWritesIt) {
  // A running 113 whose plan drops vcpus: the deletion waits in [PENDING] as a
  // sorted key (qemu-server writes the section's keys in `sort keys` order).
  const GuestPlan odd = hand_plan(cpus_from(0, 6), {16, 17}, {CpuSet{18}}, GuestTopology{1, 1, 2, 3});
  const PveConfig c = parse_pve_config(corpus("113-vcpus.conf"), "113.conf");
  const std::string pending = pve_pending_text(c, patch_pve_config(c, odd, two_node_xeon()));
  const std::string section = pending.substr(pending.find("[PENDING]\n"));
  std::vector<std::string> keys;
  std::istringstream lines(section);
  for (std::string line; std::getline(lines, line);)
    if (line.find(':') != std::string::npos) keys.push_back(line.substr(0, line.find(':')));
  EXPECT_EQ(keys, (std::vector<std::string>{"affinity", "args", "cores", "delete"})) << section;
  EXPECT_NE(section.find("\ndelete: vcpus\n"), std::string::npos) << section;

  // Merged into a delete: already pending (';' and '!' as qemu-server reads them): one sorted list.
  const std::string with_delete = corpus("113-vcpus.conf") + "\n[PENDING]\ndelete: onboot;!agent\n";
  const PveConfig d = parse_pve_config(with_delete, "113.conf");
  const std::string merged = pve_pending_text(d, patch_pve_config(d, odd, two_node_xeon()));
  EXPECT_NE(merged.find("\ndelete: !agent,onboot,vcpus\n"), std::string::npos) << merged;
}

TEST(PveRealConfigs, NumaLinesMustFitTheHostsNodes) {
  // 119-numa-bind.conf: numa0 bound to host node 0, numa1 to node 1, 12288 MiB each.
  const PveConfig c = parse_pve_config(corpus("119-numa-bind.conf"), "119.conf");
  const GuestPlan plan = hand_plan(cpus_from(2, 8), {0, 1}, {CpuSet{10}}, GuestTopology{1, 1, 4, 2});
  // A host with one node (the i7-14700F's lscpu -e: NODE 0 only): qemu-server would stop
  // at "host NUMA node1 doesn't exist".
  const Topology one_node = load_lscpu_file(std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt");
  std::string e = error_of([&] { patch_pve_config(c, plan, one_node); });
  EXPECT_NE(e.find("numa1 binds memory to host node(s) 1, which this host lacks (its nodes are 0)"),
            std::string::npos) << e;

  // A user's line binding more than its node holds (24em64t-2n6c2t: node 0 18421 MiB, node 1 18431 MiB).
  const Topology small_nodes =
      load_hwloc_xml_file(std::string(VPT_CORPUS_DIR) + "/hwloc/24em64t-2n6c2t-pci.xml");
  std::string text = corpus("119-numa-bind.conf");
  text = std::regex_replace(text, std::regex("hostnodes=0,memory=12288"), "hostnodes=0,memory=20480");
  text = std::regex_replace(text, std::regex("memory: 24576"), "memory: 32768");
  const PveConfig big = parse_pve_config(text, "119.conf");
  const GuestPlan no_memory_placed = hand_plan({0, 12, 2, 14, 1, 13, 3, 15}, {4}, {CpuSet{5}}, GuestTopology{1, 1, 4, 2});
  e = error_of([&] { patch_pve_config(big, no_memory_placed, small_nodes); });
  EXPECT_NE(e.find("numa0 binds 20480 MiB to host node(s) 0, which hold 18421 MiB"), std::string::npos) << e;

  // The plan's own line for all 24576 MiB on one such node prefers it instead of binding.
  const GuestPlan on_node1 = hand_plan({1, 13, 3, 15, 5, 17, 7, 19}, {9}, {CpuSet{11}}, GuestTopology{1, 1, 4, 2},
                                       CpuSet{1});
  const PvePatch patch = patch_pve_config(c, on_node1, small_nodes);
  EXPECT_EQ(patch.edits.at("numa0"), "cpus=0-7,hostnodes=1,memory=24576,policy=preferred");
  EXPECT_FALSE(patch.edits.at("numa1"));
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
