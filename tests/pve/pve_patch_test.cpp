// Merging a plan into Proxmox configs: only the owned keys change (checked by
// an independent line split, byte for byte), to values worked out by hand
// from qemu-server's rules (docs/proxmox-notes.md).
#include <gtest/gtest.h>

#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "pve/pve_config.hpp"
#include "tests/pve/pve_test_util.hpp"

namespace vpt {
namespace {

using test::cpus_from;
using test::hand_plan;
using test::read_data;
using test::split_config;

const Topology& i7_14700f() {
  static const Topology topo = load_lscpu_file(std::string(VPT_DATA_DIR) + "/lscpu/intel-core-i7-14700f.txt");
  return topo;
}

// 2x Xeon E5-2650: node 0 = CPUs 0-7,16-23, node 1 = CPUs 8-15,24-31 (SMT siblings n, n+16).
const Topology& two_node_xeon() {
  static const Topology topo =
      load_hwloc_xml_file(std::string(VPT_DATA_DIR) + "/topologies/32em64t-2n8c2t-pci-wholeio.xml");
  return topo;
}

// Asserts that `after` differs from `before` only in the owned keys, which
// must now read `owned`; the snapshot and other sections stay byte for byte.
void expect_only_owned_keys_changed(const std::string& before, const std::string& after,
                                    const std::map<std::string, std::string>& owned) {
  test::ConfigParts b = split_config(before), a = split_config(after);
  EXPECT_EQ(a.other_lines, b.other_lines);
  EXPECT_EQ(a.tail, b.tail);
  EXPECT_EQ(a.owned, owned);
}

TEST(PvePatchOfGamingVm, SetsTheOwnedKeysAndKeepsEveryOtherByte) {
  const std::string before = read_data("101.conf");
  PveConfig config = parse_pve_config(before, "101.conf");
  // The i7-14700F plan of the README: vCPUs on the 8 P-cores (CPUs 0-15), emulator on 16, I/O on 17.
  GuestPlan plan = hand_plan(cpus_from(0, 16), {16}, {{17}}, {1, 1, 8, 2});
  PvePatch patch = patch_pve_config(config, plan, i7_14700f(), {"local:snippets/vpt-tune-101.sh", std::nullopt});
  expect_only_owned_keys_changed(before, patch.text,
                                 {{"affinity", "0-17"},
                                  {"args", "-smp 16,sockets=1,dies=1,cores=8,threads=2,maxcpus=16"},
                                  {"cores", "16"},  // 8 cores x 2 threads in the one socket
                                  {"sockets", "1"},
                                  {"numa", "0"},
                                  {"hookscript", "local:snippets/vpt-tune-101.sh"}});
  // New keys go where qemu-server's writer sorts them: affinity first (after the
  // description), args after agent, hookscript before hostpci0.
  EXPECT_NE(patch.text.find("#Set up 2024-05-02 following the r/VFIO wiki.\naffinity: 0-17\nagent: 1\nargs: -smp"),
            std::string::npos);
  EXPECT_NE(patch.text.find("size=4M\nhookscript: local:snippets/vpt-tune-101.sh\nhostpci0:"), std::string::npos);
  EXPECT_TRUE(patch.warnings.empty());
}

TEST(PvePatchOfNumaServer, WritesOneGuestNodePerHostNode) {
  const std::string before = read_data("102.conf");
  PveConfig config = parse_pve_config(before, "102.conf");
  // 16 vCPUs: 0-7 on node 0 (cores 0-3 with their siblings), 8-15 on node 1 (cores 8-11).
  GuestPlan plan = hand_plan({0, 16, 1, 17, 2, 18, 3, 19, 8, 24, 9, 25, 10, 26, 11, 27}, {5, 21}, {{4, 20}, {12, 28}},
                             {2, 1, 4, 2}, {0, 1});
  PvePatch patch = patch_pve_config(config, plan, two_node_xeon());
  // The config's own numa0/numa1 already say this: those lines stay as they were.
  expect_only_owned_keys_changed(before, patch.text,
                                 {{"affinity", "0-5,8-12,16-21,24-28"},
                                  {"args", "-smp 16,sockets=2,dies=1,cores=4,threads=2,maxcpus=16"},
                                  {"cores", "8"},
                                  {"sockets", "2"},
                                  {"numa", "1"},
                                  {"numa0", "cpus=0-7,hostnodes=0,memory=16384,policy=bind"},
                                  {"numa1", "cpus=8-15,hostnodes=1,memory=16384,policy=bind"}});
}

TEST(PvePatchOfNumaServer, SplitsMemoryByVcpusInWholeHugepages) {
  PveConfig config = parse_pve_config(read_data("102.conf"), "102.conf");
  // 24 vCPUs: 16 on node 0 (all 8 cores), 8 on node 1 (cores 8-11).
  std::vector<unsigned> vcpus;
  for (unsigned c = 0; c < 8; ++c) vcpus.insert(vcpus.end(), {c, c + 16});
  for (unsigned c = 8; c < 12; ++c) vcpus.insert(vcpus.end(), {c, c + 16});
  GuestPlan plan = hand_plan(vcpus, {12, 28}, {{13, 29}}, {1, 1, 12, 2}, {0, 1});
  // 32768 MiB x 16/24 = 21845.3: 21844 in 2 MiB pages, the rest (10924) on node 1.
  PvePatch patch = patch_pve_config(config, plan, two_node_xeon(), {"", "2"});
  test::ConfigParts after = split_config(patch.text);
  EXPECT_EQ(after.owned["numa0"], "cpus=0-15,hostnodes=0,memory=21844,policy=bind");
  EXPECT_EQ(after.owned["numa1"], "cpus=16-23,hostnodes=1,memory=10924,policy=bind");
  EXPECT_EQ(after.owned["hugepages"], "2");
  EXPECT_EQ(after.owned["sockets"], "1");
  EXPECT_EQ(after.owned["cores"], "24");
  // Without hugepages, whole MiB: 21845 and 10923.
  patch = patch_pve_config(config, plan, two_node_xeon());
  after = split_config(patch.text);
  EXPECT_EQ(after.owned["numa0"], "cpus=0-15,hostnodes=0,memory=21845,policy=bind");
  EXPECT_EQ(after.owned["numa1"], "cpus=16-23,hostnodes=1,memory=10923,policy=bind");
  // 1 GiB pages: 32768 = 32 pages, 21 and 11 (21.3 rounded down to whole pages).
  patch = patch_pve_config(config, plan, two_node_xeon(), {"", "1024"});
  after = split_config(patch.text);
  EXPECT_EQ(after.owned["numa0"], "cpus=0-15,hostnodes=0,memory=21504,policy=bind");
  EXPECT_EQ(after.owned["numa1"], "cpus=16-23,hostnodes=1,memory=11264,policy=bind");
}

TEST(PvePatchOfNumaServer, RefusesMemoryThatIsNoWholeNumberOfPages) {
  PveConfig config = parse_pve_config("memory: 3000\ncores: 2\n", "9.conf");
  GuestPlan plan = hand_plan({0, 16}, {1}, {}, {1, 1, 1, 2}, {0});
  EXPECT_THROW(patch_pve_config(config, plan, two_node_xeon(), {"", "1024"}), RequestError);
}

TEST(PvePatchOfNumaServer, DropsNumaLinesThatNoLongerFitOnOneNode) {
  const std::string before = read_data("102.conf");
  PveConfig config = parse_pve_config(before, "102.conf");
  // 12 vCPUs on the i7 (one node), no memory placement: numa0/numa1 listed vCPUs 0-15.
  GuestPlan plan = hand_plan(cpus_from(0, 12), {16}, {{17}, {17}}, {1, 1, 6, 2});
  PvePatch patch = patch_pve_config(config, plan, i7_14700f());
  test::ConfigParts after = split_config(patch.text);
  EXPECT_EQ(after.owned.count("numa0"), 0u);
  EXPECT_EQ(after.owned.count("numa1"), 0u);
  EXPECT_EQ(after.owned["numa"], "1");
  EXPECT_EQ(after.owned["sockets"], "1");
  EXPECT_EQ(after.owned["cores"], "12");
  bool noted = false;
  for (const std::string& note : patch.notes) noted |= note.find("numa<n> lines removed") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(PvePatchOfHandPinnedVm, ReplacesItsSmpInPlaceAndKeepsTheRestOfArgs) {
  const std::string before = read_data("103.conf");
  PveConfig config = parse_pve_config(before, "103.conf");
  GuestPlan plan = hand_plan(cpus_from(0, 8), {16}, {}, {1, 1, 4, 2});
  PvePatch patch = patch_pve_config(config, plan, i7_14700f());
  expect_only_owned_keys_changed(before, patch.text,
                                 {{"affinity", "0-7,16"},
                                  {"args",
                                   "-smp 8,sockets=1,dies=1,cores=4,threads=2,maxcpus=8 -device 'intel-hda,id=sound0' "
                                   "-device hda-duplex,bus=sound0.0 -global kvm-pit.lost_tick_policy=discard"},
                                  {"cores", "8"},
                                  {"sockets", "1"}});  // vcpus: 6 is gone
}

TEST(PvePatchOfUnknownKeys, KeepsThemByteForByte) {
  const std::string before = read_data("105.conf");
  PvePatch patch = patch_pve_config(parse_pve_config(before, "105.conf"),
                                    hand_plan(cpus_from(0, 2), {16}, {}, {1, 1, 1, 2}), i7_14700f());
  expect_only_owned_keys_changed(before, patch.text,
                                 {{"affinity", "0-1,16"},
                                  {"args", "-smp 2,sockets=1,dies=1,cores=1,threads=2,maxcpus=2"},
                                  {"cores", "2"}});
  EXPECT_NE(patch.text.find("\nfrobnicate: yes\n"), std::string::npos);
  EXPECT_NE(patch.text.find("\nx-some-new-option: value with spaces\n"), std::string::npos);
}

// What Perl's Text::ParseWords::shellwords (qemu-server's split_args) gives, from
//   perl -MText::ParseWords -e 'print join("|", shellwords(q{...}))'
// on Debian 12's perl: inside double quotes a backslash escapes any character.
TEST(PveArgs, BackslashesInDoubleQuotesFollowShellwords) {
  std::vector<ArgsWord> words = split_pve_args(R"(a "b\nc" d\ e)");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[1].text, "bnc");
  EXPECT_EQ(words[2].text, "d e");
  words = split_pve_args(R"(x "y\"z" 'p\q')");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[1].text, "y\"z");
  EXPECT_EQ(words[2].text, "p\\q");
}

// shellwords returns no words at all for these (perl gives an empty list), so
// qemu-server passes none of args: to QEMU: the config is refused, and never
// patched (found by tests/fuzz/pve_config_fuzz.cpp: the -smp vpt-tune appended
// ended up inside the open quote).
TEST(PveArgs, AQuoteLeftOpenOrAFinalBackslashIsRefused) {
  EXPECT_THROW(split_pve_args(R"(-smp 4 "-device x)"), std::invalid_argument);
  EXPECT_THROW(split_pve_args("-device 'x"), std::invalid_argument);
  EXPECT_THROW(split_pve_args(R"(-smp 4 a\)"), std::invalid_argument);
  try {
    parse_pve_config("cores: 4\nargs: -cpu host \"-smp 8\n", "300.conf");
    FAIL() << "accepted";
  } catch (const PveConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read Proxmox config '300.conf': line 2: args: '-cpu host \"-smp 8' does not split into words: its "
              "double quote is not closed (qemu-server would pass none of it to QEMU)");
  }
}

TEST(PveArgs, AnSmpWhoseValueIsAnotherSmpIsReplacedWithIt) {
  // QEMU reads "-smp -smp 4" as -smp with the value "-smp", then a stray "4".
  // The pair goes, the stray word stays. (The -smp once vanished here: the
  // second -smp was edited as one of its own, after its value was replaced.)
  PveConfig config = parse_pve_config("args: -a -smp -smp 4 -b\ncores: 2\n", "300.conf");
  GuestPlan plan = hand_plan({0, 1}, {2}, {}, {1, 1, 1, 2});
  PvePatch patch = patch_pve_config(config, plan, two_node_xeon());
  EXPECT_EQ(split_config(patch.text).owned["args"], "-a -smp 2,sockets=1,dies=1,cores=1,threads=2,maxcpus=2 4 -b");
}

TEST(PveArgs, SplitLikeShellwords) {
  std::vector<ArgsWord> words = split_pve_args(R"(  -device 'intel-hda,id=a b' "x \"y\"" c\ d -e)");
  ASSERT_EQ(words.size(), 5u);
  EXPECT_EQ(words[0].text, "-device");
  EXPECT_EQ(words[1].text, "intel-hda,id=a b");
  EXPECT_EQ(words[2].text, "x \"y\"");
  EXPECT_EQ(words[3].text, "c d");
  EXPECT_EQ(words[4].text, "-e");
  EXPECT_EQ(words[0].begin, 2u);
  EXPECT_EQ(words[1].begin, 10u);
  EXPECT_EQ(words[1].end, 28u);
}

TEST(PveArgs, KeepOneSmpAtTheLastOnesPlace) {
  PveConfig config = parse_pve_config("cores: 4\nargs: -smp 4 -foo -smp 2,threads=2 -bar\n", "9.conf");
  GuestPlan plan = hand_plan(cpus_from(0, 4), {16}, {}, {1, 1, 2, 2});
  PvePatch patch = patch_pve_config(config, plan, i7_14700f());
  EXPECT_EQ(split_config(patch.text).owned["args"], "-foo -smp 4,sockets=1,dies=1,cores=2,threads=2,maxcpus=4 -bar");
}

TEST(PvePatchWithCpuHotplug, LeavesArgsAloneAndWarns) {
  PveConfig config = parse_pve_config("cores: 4\nhotplug: disk,cpu\nvcpus: 2\n", "9.conf");
  GuestPlan plan = hand_plan(cpus_from(0, 8), {16}, {}, {1, 1, 4, 2});
  PvePatch patch = patch_pve_config(config, plan, i7_14700f());
  test::ConfigParts after = split_config(patch.text);
  EXPECT_EQ(after.owned.count("args"), 0u);
  EXPECT_EQ(after.owned["cores"], "8");
  EXPECT_EQ(after.owned.count("vcpus"), 0u);
  ASSERT_EQ(patch.warnings.size(), 1u);
  EXPECT_NE(patch.warnings[0].find("CPU hotplug"), std::string::npos);
}

TEST(PvePatchWithPendingChanges, RefusesWhenTheyTouchAnOwnedKey) {
  PveConfig config = parse_pve_config(read_data("104.conf"), "104.conf");
  // 8 vCPUs set cores: 8, which [PENDING] changes to 6 at the next start.
  EXPECT_THROW(patch_pve_config(config, hand_plan(cpus_from(0, 8), {16}, {{17}}, {1, 1, 4, 2}), i7_14700f()),
               PveConfigError);
  // 4 vCPUs would keep cores: 4, but the next start has 6: a pending vCPU layout is refused too.
  EXPECT_THROW(patch_pve_config(config, hand_plan(cpus_from(0, 4), {16}, {{17}}, {1, 1, 2, 2}), i7_14700f()),
               PveConfigError);
  // Pending memory alone is planned with (the next start's value) and its section kept.
  std::string memory_only = read_data("104.conf");
  memory_only.erase(memory_only.find("[PENDING]\ncores: 6\n") + 10, 9);
  config = parse_pve_config(memory_only, "104.conf");
  PvePatch patch = patch_pve_config(config, hand_plan(cpus_from(0, 4), {16}, {{17}}, {1, 1, 2, 2}), i7_14700f());
  EXPECT_EQ(split_config(patch.text).tail, split_config(memory_only).tail);
}

TEST(PvePatchHookscript, KeepsAForeignOneAndReplacesAnOlderOwnOne) {
  GuestPlan plan = hand_plan(cpus_from(0, 4), {16}, {}, {1, 1, 2, 2});
  PveConfig foreign = parse_pve_config("cores: 4\nhookscript: local:snippets/gpu-reset.sh\n", "9.conf");
  PvePatch patch = patch_pve_config(foreign, plan, i7_14700f(), {"local:snippets/vpt-tune-9.sh", std::nullopt});
  EXPECT_EQ(split_config(patch.text).owned["hookscript"], "local:snippets/gpu-reset.sh");
  ASSERT_EQ(patch.warnings.size(), 1u);
  EXPECT_NE(patch.warnings[0].find("one hookscript per VM"), std::string::npos);
  PveConfig own = parse_pve_config("cores: 4\nhookscript: nfs:snippets/vpt-tune-9.sh\n", "9.conf");
  patch = patch_pve_config(own, plan, i7_14700f(), {"local:snippets/vpt-tune-9.sh", std::nullopt});
  EXPECT_EQ(split_config(patch.text).owned["hookscript"], "local:snippets/vpt-tune-9.sh");
}

TEST(PvePatch, KeepsAFileWithoutFinalNewlineSo) {
  PveConfig config = parse_pve_config("cores: 2\nname: x", "9.conf");
  PvePatch patch = patch_pve_config(config, hand_plan(cpus_from(0, 2), {16}, {}, {1, 1, 1, 2}), i7_14700f());
  EXPECT_EQ(patch.text,
            "affinity: 0-1,16\nargs: -smp 2,sockets=1,dies=1,cores=1,threads=2,maxcpus=2\ncores: 2\nname: x");
}

// Patching what a patch wrote with the same plan changes nothing.
class PvePatchTwice : public ::testing::TestWithParam<const char*> {};

TEST_P(PvePatchTwice, ChangesNothingTheSecondTime) {
  PveConfig config = parse_pve_config(read_data(GetParam()), GetParam());
  GuestPlan plan = hand_plan(cpus_from(0, 8), {16}, {{17}, {18}}, {1, 1, 4, 2});
  PvePatchOptions options{"local:snippets/vpt-tune-1.sh", "2"};
  try {
    PvePatch once = patch_pve_config(config, plan, i7_14700f(), options);
    PvePatch twice = patch_pve_config(parse_pve_config(once.text, GetParam()), plan, i7_14700f(), options);
    EXPECT_EQ(twice.text, once.text);
  } catch (const PveConfigError& e) {
    EXPECT_STREQ(GetParam(), "104.conf") << e.what();  // its [PENDING] cores clash
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PvePatchTwice,
                         ::testing::Values("101.conf", "102.conf", "103.conf", "104.conf", "105.conf"));

}  // namespace
}  // namespace vpt

namespace vpt {
namespace {

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST(PveAdvice, SaysWhatTheConfigLacksInProxmoxTerms) {
  PveConfig config = parse_pve_config("cores: 4\ncpu: kvm64\nscsi0: a:1,size=8G\nscsihw: virtio-scsi-pci\n", "9.conf");
  Plan plan;
  plan.guests = {test::hand_plan(cpus_from(0, 4), {16}, {}, {1, 1, 2, 2})};
  plan.host = CpuSet::range(16, 27);
  plan.isolate = CpuSet::range(0, 15);
  std::vector<std::string> advice = pve_advice(config, plan, i7_14700f(), {});
  EXPECT_TRUE(mentions(advice, "Set cpu: host. With cpu: kvm64"));
  EXPECT_TRUE(mentions(advice, "add --confine-host"));
  EXPECT_TRUE(mentions(advice, "isolcpus=0-15"));
  EXPECT_TRUE(mentions(advice, "--hugepages 1024"));
  EXPECT_TRUE(mentions(advice, "Give scsi0 iothread=1"));
  EXPECT_FALSE(mentions(advice, "<memoryBacking>"));  // nothing libvirt
  advice = pve_advice(config, plan, i7_14700f(), {true, true});
  EXPECT_TRUE(mentions(advice, "its hookscript keeps the host's own processes"));
  EXPECT_FALSE(mentions(advice, "--hugepages"));
}

}  // namespace
}  // namespace vpt
