// Bad topology input: each case throws TopologyInputError with one line naming
// the file and the problem, and the vpt-tune binary turns it into exit code 2.
#include <gtest/gtest.h>

#ifdef VPT_TUNE_BINARY
#include "tests/vpt_tune_runner.hpp"
#endif
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "tests/common/cpuset_printer.hpp"
#include "probe/probe.hpp"
#include "tests/probe/corpus_facts.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

class BadInput : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) / (std::string("vpt-bad-input-") + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  fs::path dir_;
};

std::string read_corpus(const std::string& rel) {
  std::ifstream in(test::corpus_dir() / rel, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `load`, expects a TopologyInputError whose message is one line, names
// `path` the way the convention says, and mentions `problem`.
void expect_input_error(const std::function<void()>& load, const std::string& path, const std::string& problem) {
  try {
    load();
    ADD_FAILURE() << path << " was accepted";
  } catch (const TopologyInputError& e) {
    std::string message = e.what();
    EXPECT_TRUE(message.starts_with("cannot read topology '" + path + "': ")) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << "'" << problem << "' not in: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a TopologyInputError: " << e.what();
  }
}

void expect_xml_error(const std::string& path, const std::string& problem) {
  expect_input_error([&] { load_hwloc_xml_file(path); }, path, problem);
}
void expect_lscpu_error(const std::string& path, const std::string& problem) {
  expect_input_error([&] { load_lscpu_file(path); }, path, problem);
}

// ---- hwloc XML -----------------------------------------------------------------

// hwloc 2.9 itself crashes (SEGV) on this export, found by
// tests/fuzz/hwloc_xml_fuzz.cpp: one error, and this process lives on.
TEST_F(BadInput, XmlThatCrashesHwlocIsOneError) {
  expect_xml_error(write("crash.xml", "<topology version=\"2.0\"><object cpuset=\"0x\"><object type=\"PU\" "
                                      "cpuset=\"\"> </object> </object>\n</topology>\n"),
                   "hwloc crashed (Segmentation fault) reading it; the file is malformed");
}

TEST_F(BadInput, DeeplyNestedXmlIsRefusedBeforeHwlocRecursesIntoIt) {
  std::string xml = "<topology version=\"2.0\">";
  for (int i = 0; i < 100000; ++i) xml += "<object type=\"Group\">";
  xml += "<object type=\"PU\" os_index=\"0\"/>";
  for (int i = 0; i < 100000; ++i) xml += "</object>";
  xml += "</topology>";
  expect_xml_error(write("deep.xml", xml), "elements are nested more than 64 deep");
}

TEST_F(BadInput, EmptyXmlFileSaysEmpty) {
  expect_xml_error(write("empty.xml", ""), "empty");
  expect_xml_error(write("blank.xml", " \n\t\n"), "empty");
}

TEST_F(BadInput, MissingFileSaysWhy) {
  std::string path = (dir_ / "no-such-file.xml").string();
  expect_xml_error(path, "No such file");
  expect_lscpu_error(path, "No such file");
}

TEST_F(BadInput, TruncatedXmlIsNotWellFormed) {
  std::string xml = read_corpus("hwloc/Intel-Skylake-2xXeon6140.xml");
  ASSERT_GT(xml.size(), 4000u);
  expect_xml_error(write("truncated.xml", xml.substr(0, xml.size() / 2)), "not well-formed XML");
}

TEST_F(BadInput, LibvirtDomainXmlIsNotAnHwlocExport) {
  const char* domain = R"(<domain type='kvm'>
  <name>win11</name>
  <memory unit='KiB'>16777216</memory>
  <vcpu placement='static'>8</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='2'/></cputune>
</domain>
)";
  expect_xml_error(write("domain.xml", domain), "not an hwloc topology export (root element is <domain>");
}

TEST_F(BadInput, HwlocXmlVersion3IsRefusedWithTheReason) {
  std::string xml = read_corpus("hwloc/Intel-RaptorLake-Corei7-1370P.xml");
  auto at = xml.find("<topology version=\"2.0\">");
  ASSERT_NE(at, std::string::npos);
  xml.replace(at, 24, "<topology version=\"3.0\">");
  expect_xml_error(write("v3.xml", xml), "hwloc XML version 3.0");
}

TEST_F(BadInput, GarbageTextIsNeitherXmlNorAListing) {
  std::string path = write("garbage.txt", "hello world\nthis is not a topology\n");
  expect_xml_error(path, "not well-formed XML");
  expect_lscpu_error(path, "no `lscpu -e` table found");
}

TEST_F(BadInput, BinaryJunkIsRejectedByBothLoaders) {
  std::string junk;
  unsigned x = 12345;
  for (int i = 0; i < 4096; ++i) {  // deterministic bytes, NULs included
    x = x * 1103515245u + 12345u;
    junk.push_back(static_cast<char>(x >> 16));
  }
  junk[100] = '\0';
  std::string path = write("junk.bin", junk);
  expect_xml_error(path, "not well-formed XML");
  expect_lscpu_error(path, "no `lscpu -e` table found");
  // Binary junk after a valid XML prologue.
  expect_xml_error(write("junk.xml", "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">" + junk), "not well-formed");
}

TEST_F(BadInput, XmlWithoutPusSaysSo) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="0x0" complete_cpuset="0x0" nodeset="0x0" complete_nodeset="0x0"/>
</topology>
)";
  expect_xml_error(write("no-pu.xml", xml), "no PU");
}

// Two hwloc PUs (machine of two 1-thread cores) sharing one OS index.
constexpr const char* kTwoPuXml = R"(<?xml version="1.0" encoding="UTF-8"?>
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" allowed_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" allowed_nodeset="0x00000001" gp_index="1">
    <object type="NUMANode" os_index="0" cpuset="0x00000003" complete_cpuset="0x00000003" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="2" local_memory="1073741824"/>
    <object type="Core" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="3">
      <object type="PU" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="4"/>
    </object>
    <object type="Core" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="5">
      <object type="PU" os_index="SECOND" cpuset="0x00000002" complete_cpuset="0x00000002" nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="6"/>
    </object>
  </object>
</topology>
)";

std::string two_pu_xml(const std::string& second_os_index) {
  std::string xml = kTwoPuXml;
  xml.replace(xml.find("SECOND"), 6, second_os_index);
  return xml;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

TEST_F(BadInput, TwoPusWithOneOsIndexAreDuplicates) {
  // Control: with distinct numbers the same document loads.
  Topology ok = load_hwloc_xml(two_pu_xml("1"), "two-pu.xml");
  EXPECT_EQ(all_cpus(ok), (CpuSet{0, 1}));
  // Both PUs are P#0 with cpuset 0x1 (hwloc 2.9 itself accepts this).
  std::string dup = replace_all(replace_all(two_pu_xml("0"), "0x00000002", "0x00000001"), "0x00000003", "0x00000001");
  expect_xml_error(write("dup-pu.xml", dup), "CPU 0 is listed twice");
}

TEST_F(BadInput, PuWhoseOsIndexDisagreesWithItsCpusetIsRejected) {
  // The second PU says P#0 but its cpuset is CPU 1: a corrupt export.
  expect_xml_error(write("mismatch.xml", two_pu_xml("0")), "PU P#0 does not match its CPU set");
  // P#4000000000 must not be taken at its word either: a CpuSet that large would
  // need half a gigabyte (this took minutes and gigabytes before the check).
  expect_xml_error(write("huge-pu.xml", two_pu_xml("4000000000")),
                   "<object type=\"PU\"> has os_index=\"4000000000\": expected a whole number up to 1048575");
}

// ---- lscpu -e text ---------------------------------------------------------------

constexpr const char* kHeader = "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE\n";

TEST_F(BadInput, EmptyListingSaysEmpty) {
  expect_lscpu_error(write("empty.txt", ""), "empty");
  expect_lscpu_error(write("blank.txt", "\n  \n"), "empty");
}

TEST_F(BadInput, ListingWithoutCacheColumnSaysSharingIsUnknown) {
  std::string text =
      "CPU NODE SOCKET CORE ONLINE MAXMHZ MINMHZ\n"
      "  0    0      0    0    yes 4000.0 800.0\n"
      "  1    0      0    1    yes 4000.0 800.0\n";
  expect_lscpu_error(write("no-cache.txt", text), "no L1d:L1i:L2:L3 column");
}

TEST_F(BadInput, ListingWithoutCoreColumnIsRejected) {
  expect_lscpu_error(write("no-core.txt", "CPU NODE SOCKET L1d:L1i:L2:L3\n0 0 0 0:0:0:0\n"), "CORE or SOCKET");
}

TEST_F(BadInput, DuplicateCpuNumbersNameBothLines) {
  std::string text = std::string(kHeader) +
                     "0 0 0 0 0:0:0:0 yes\n"
                     "1 0 0 1 1:1:1:0 yes\n"
                     "1 0 0 2 2:2:2:0 yes\n";
  expect_lscpu_error(write("dup.txt", text), "line 4: CPU 1 is listed twice (first on line 3)");
}

TEST_F(BadInput, WrongColumnCountNamesTheLine) {
  std::string text = std::string(kHeader) +
                     "0 0 0 0 0:0:0:0 yes\n"
                     "1 0 0 1:1:1:0 yes\n";
  expect_lscpu_error(write("columns.txt", text), "line 3: 5 columns where the header has 6");
  expect_lscpu_error(write("columns-extra.txt", std::string(kHeader) + "0 0 0 0 0:0:0:0 yes extra\n"),
                     "line 2: 7 columns where the header has 6");
}

TEST_F(BadInput, HeaderNamingAColumnTwiceIsRejected) {
  // Found by tests/fuzz/lscpu_fuzz.cpp: the second CPU column was read as the CPU
  // number without a check (a disengaged std::optional dereferenced).
  expect_lscpu_error(write("two-cpu-columns.txt", "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE CPU\n"
                                                  "0 0 0 0 0:0:0:0 yes x\n"),
                     "line 1: the header names column 'CPU' twice");
  expect_lscpu_error(write("two-core-columns.txt", "CPU NODE SOCKET CORE L1d:L1i:L2:L3 CORE\n0 0 0 0 0:0:0:0 0\n"),
                     "line 1: the header names column 'CORE' twice");
}

TEST_F(BadInput, HeaderWithoutRowsSaysSo) {
  expect_lscpu_error(write("header-only.txt", kHeader), "header but no CPU rows");
}

TEST_F(BadInput, NonNumericIdNamesTheColumn) {
  expect_lscpu_error(write("bad-core.txt", std::string(kHeader) + "0 0 0 x 0:0:0:0 yes\n"),
                     "'x' is not a number in the CORE column");
  expect_lscpu_error(write("bad-cache.txt", std::string(kHeader) + "0 0 0 0 0:z:0:0 yes\n"),
                     "'z' is not a number in the cache column");
}

TEST_F(BadInput, CacheFieldWithTooManyOrTooFewIdsIsRejected) {
  expect_lscpu_error(write("many.txt", std::string(kHeader) + "0 0 0 0 0:0:0:0:0 yes\n"), "more ids than the header");
  expect_lscpu_error(write("few.txt", std::string(kHeader) + "0 0 0 0 0:0:0 yes\n"), "fewer ids than the header");
}

TEST_F(BadInput, UnknownCacheNameInHeaderIsRejected) {
  expect_lscpu_error(write("l9.txt", "CPU NODE SOCKET CORE L1d:L9 ONLINE\n0 0 0 0 0:0 yes\n"), "unknown cache 'L9'");
}

TEST_F(BadInput, AllCpusOfflineIsRejected) {
  expect_lscpu_error(write("offline.txt", std::string(kHeader) + "0 - - - - no\n1 - - - - no\n"),
                     "every CPU in the listing is offline");
}

TEST_F(BadInput, AbsurdCpuNumberIsRejectedNotAllocated) {
  // A typo or corrupt paste; no machine has four billion CPUs.
  expect_lscpu_error(write("huge.txt", std::string(kHeader) + "4000000000 0 0 0 0:0:0:0 yes\n"),
                     "CPU 4000000000 is out of range");
}

// ---- The vpt-tune binary ---------------------------------------------------------

#ifdef VPT_TUNE_BINARY
using RunResult = test::CommandResult;
using test::run_vpt_tune;

void expect_one_line_exit_2(const RunResult& run, const std::string& path) {
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.out, "");
  ASSERT_FALSE(run.err.empty());
  EXPECT_EQ(run.err.back(), '\n');
  EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << run.err;  // exactly one line
  EXPECT_TRUE(run.err.starts_with("vpt-tune: cannot read topology '" + path + "': ")) << run.err;
}

TEST_F(BadInput, BinaryExitsWith2AndOneLineForBadXml) {
  std::string path = write("truncated.xml", read_corpus("hwloc/Intel-Skylake-2xXeon6140.xml").substr(0, 5000));
  expect_one_line_exit_2(run_vpt_tune("probe --topology '" + path + "'", dir_), path);
  std::string empty = write("empty.xml", "");
  expect_one_line_exit_2(run_vpt_tune("probe --json --topology '" + empty + "'", dir_), empty);
}

TEST_F(BadInput, BinaryExitsWith2AndOneLineForBadListing) {
  std::string path = write("dup.txt", std::string(kHeader) + "0 0 0 0 0:0:0:0 yes\n0 0 0 0 0:0:0:0 yes\n");
  expect_one_line_exit_2(run_vpt_tune("probe --lscpu '" + path + "'", dir_), path);
  std::string junk = write("junk.bin", std::string("\x7f" "ELF\0\0\x01\x02garbage\xff\xfe", 18));
  expect_one_line_exit_2(run_vpt_tune("probe --lscpu '" + junk + "'", dir_), junk);
}

TEST_F(BadInput, BinaryAcceptsAGoodFile) {
  std::string path = (test::corpus_dir() / "lscpu/amd-ryzen7-5800x.txt").string();
  RunResult run = run_vpt_tune("probe --json --lscpu '" + path + "'", dir_);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"schema\""), std::string::npos);
}
#endif

}  // namespace
}  // namespace vpt
