// Inputs every parser must bound (issue 15, docs/fuzzing.md): huge CPU ids and
// counts, deep nesting, entity expansion, NUL bytes, binary garbage,
// duplicated elements, numbers out of range, NaN/Infinity in JSON, and files
// of any size. Each, fed to the real binary as a user would, gives exit code
// 2 and exactly one line on stderr naming the input, within two seconds
// (times VPT_TIME_LIMIT_FACTOR for sanitizer builds).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <random>
#include <string>

#include "tests/vpt_tune_runner.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

const std::string kData = VPT_DATA_DIR;
const std::string kI7 = kData + "/lscpu/intel-core-i7-14700f.txt";

std::string read(const std::string& path) { return test::read_file_text(path); }

std::string garbage(std::size_t bytes) {
  std::mt19937_64 rng(15);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Ten levels of ten entities each: 10^10 "lol"s if anything expanded them.
std::string billion_laughs(const std::string& root) {
  std::string dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE " + root + " [\n<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 10; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) dtd += "&lol" + std::to_string(i - 1) + ";";
    dtd += "\">\n";
  }
  return dtd + "]>\n";
}

std::string with_nul(std::string text) {
  text.insert(text.size() / 2, std::string("\0\0garbage\0", 10));
  return text;
}

const std::string kLscpuHeader = "CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE    MAXMHZ   MINMHZ\n";

std::string lscpu_with_cpus(std::size_t n) {
  std::string text = kLscpuHeader;
  text.reserve(n * 40);
  for (std::size_t i = 0; i < n; ++i)
    text += std::to_string(i) + " 0 0 " + std::to_string(i) + " " + std::to_string(i) + ":" + std::to_string(i) + ":" +
            std::to_string(i) + ":0 yes 3000.0 800.0\n";
  return text;
}

const std::string kSmallHwloc =
    "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">\n"
    "<object type=\"Machine\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" "
    "allowed_cpuset=\"0x00000003\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" allowed_nodeset=\"0x00000001\">\n"
    "<object type=\"Package\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" "
    "nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\">\n"
    "<object type=\"L3Cache\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" nodeset=\"0x00000001\" "
    "complete_nodeset=\"0x00000001\" cache_size=\"CACHE\" depth=\"3\" cache_linesize=\"64\" cache_associativity=\"16\" "
    "cache_type=\"0\">\n"
    "<object type=\"Core\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" nodeset=\"0x00000001\" "
    "complete_nodeset=\"0x00000001\">\n"
    "<object type=\"PU\" os_index=\"PU0\" cpuset=\"0x00000001\" complete_cpuset=\"0x00000001\" nodeset=\"0x00000001\" "
    "complete_nodeset=\"0x00000001\"/>\n"
    "<object type=\"PU\" os_index=\"PU1\" cpuset=\"0x00000002\" complete_cpuset=\"0x00000002\" nodeset=\"0x00000001\" "
    "complete_nodeset=\"0x00000001\"/>\n"
    "</object>\n</object>\n</object>\n"
    "<object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x00000003\" complete_cpuset=\"0x00000003\" "
    "nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" local_memory=\"1073741824\"/>\n"
    "</object>\n</topology>\n";

std::string small_hwloc(const std::string& cache, const std::string& pu0, const std::string& pu1) {
  std::string xml = kSmallHwloc;
  xml.replace(xml.find("CACHE"), 5, cache);
  xml.replace(xml.find("PU0"), 3, pu0);
  xml.replace(xml.find("PU1"), 3, pu1);
  return xml;
}

std::string replace_once(std::string text, const std::string& what, const std::string& with) {
  auto at = text.find(what);
  if (at == std::string::npos) throw std::runtime_error("fixture has no '" + what + "'");
  return text.replace(at, what.size(), with);
}

// A valid plan and results file, from the binary itself.
std::string plan_json(const fs::path& dir) {
  test::CommandResult r = test::run_vpt_tune("suggest --lscpu " + kI7 + " --vcpus 4 --json", dir);
  if (r.exit_code != 0) throw std::runtime_error("suggest failed: " + r.err);
  return r.out;
}
std::string findings_json(const fs::path& dir) {
  test::CommandResult r =
      test::run_vpt_tune("check --xml " + kData + "/domains/win10-untuned.xml --lscpu " + kI7 + " --json", dir);
  if (r.exit_code != 0) throw std::runtime_error("check failed: " + r.err);
  return r.out;
}
std::string results_json() { return read(std::string(VPT_SOURCE_DIR) + "/docs/samples/i7-14700f-after.json"); }

struct Case {
  std::string name;
  std::string command;                                 // {} is replaced by the input file's path
  std::function<std::string(const fs::path&)> input;   // its contents; null: the command names its own input
  std::string message;                                 // the line starts "vpt-tune: " + this ({} = the path)
};

std::string with_path(std::string s, const std::string& path) {
  for (auto at = s.find("{}"); at != std::string::npos; at = s.find("{}", at + path.size())) s.replace(at, 2, path);
  return s;
}

std::vector<Case> cases() {
  const std::string topo = "cannot read topology '{}': ";
  const std::string domain = "cannot read domain '{}': ";
  const std::string plan = "cannot read plan '{}': ";
  const std::string results = "cannot read results '{}': ";
  const std::string findings = "cannot read findings '{}': ";
  const std::string pve = "cannot read Proxmox config '{}': ";
  const std::string report_findings = "report --lscpu " + kI7 + " --findings {}";
  const std::string suggest_pve = "suggest --lscpu " + kI7 + " --pve-config {}";
  auto gaming_vm = [](const fs::path&) { return read(kData + "/proxmox/101.conf"); };
  const std::string suggest_xml = "suggest --lscpu " + kI7 + " --xml {}";
  const std::string report_plan = "report --lscpu " + kI7 + " --plan {}";
  auto i7 = [](const fs::path&) { return read(kI7); };
  auto win11 = [](const fs::path&) { return read(kData + "/domains/win11-gaming.xml"); };
  return {
      // ---- lscpu -e text (probe --lscpu) ----
      {"LscpuHugeCpuId", "probe --lscpu {}", [](const fs::path&) { return kLscpuHeader + "4294967296 0 0 0 0:0:0:0 yes 3000 800\n"; },
       topo},
      {"LscpuMillionCpus", "probe --lscpu {}", [](const fs::path&) { return lscpu_with_cpus(1000000); },
       topo + "line 4098: more than 4096 CPUs: vpt-tune handles hosts of up to 4096 CPUs"},
      {"LscpuNulBytes", "probe --lscpu {}", [&](const fs::path& d) { return with_nul(i7(d)); }, topo},
      {"LscpuBinaryGarbage", "probe --lscpu {}", [](const fs::path&) { return garbage(16 << 20); }, topo},
      {"LscpuDuplicatedCpu", "probe --lscpu {}",
       [&](const fs::path& d) { return i7(d) + "  3    0      0    1 4:4:1:0          yes 5300.0000 800.0000  897.8860\n"; },
       topo},
      {"LscpuNumberOutOfRange", "probe --lscpu {}",
       [&](const fs::path& d) { return replace_once(i7(d), "  3    0      0    1 4:4:1:0", "  3    0      0    99999999999999999999 4:4:1:0"); },
       topo},
      {"LscpuEndlessInput", "probe --lscpu /dev/zero", nullptr, "cannot read topology '/dev/zero': it is larger than 64 MiB"},
      // ---- hwloc XML (probe --topology) ----
      {"HwlocDeepNesting", "probe --topology {}",
       [](const fs::path&) {
         return "<topology version=\"2.0\">" + repeat("<object type=\"Group\">", 200000) + "<object type=\"PU\"/>" +
                repeat("</object>", 200000) + "</topology>";
       },
       topo},
      {"HwlocEntityExpansion", "probe --topology {}",
       [](const fs::path&) { return billion_laughs("topology") + "<topology version=\"2.0\">&lol10;</topology>\n"; }, topo},
      {"HwlocNulBytes", "probe --topology {}", [](const fs::path&) { return with_nul(small_hwloc("1048576", "0", "1")); }, topo},
      {"HwlocBinaryGarbage", "probe --topology {}",
       [](const fs::path&) {
         std::string g = garbage(16 << 20);
         g[0] = '<';  // looks like XML for a byte
         return g;
       },
       topo},
      {"HwlocDuplicatedCpu", "probe --topology {}", [](const fs::path&) { return small_hwloc("1048576", "0", "0"); }, topo},
      {"HwlocHugeCpuId", "probe --topology {}", [](const fs::path&) { return small_hwloc("1048576", "0", "4294967295"); },
       topo},
      {"HwlocNumberOutOfRange", "probe --topology {}",
       [](const fs::path&) { return small_hwloc("99999999999999999999999", "0", "1"); },
       topo + "<object type=\"L3Cache\"> has cache_size=\"99999999999999999999999\": expected a whole number up to "
              "1099511627776"},
      // ---- domain XML (suggest --xml) ----
      {"DomainDeepNesting", suggest_xml,
       [](const fs::path&) { return "<domain><name>a</name>" + repeat("<x>", 200000) + repeat("</x>", 200000) + "</domain>"; },
       domain + "elements are nested more than 256 deep"},
      {"DomainEntityExpansion", suggest_xml,
       [](const fs::path&) { return billion_laughs("domain") + "<domain><name>&lol10;</name></domain>\n"; },
       domain + "it declares entities in a <!DOCTYPE>"},
      {"DomainNulBytes", suggest_xml, [&](const fs::path& d) { return with_nul(win11(d)); }, domain},
      {"DomainBinaryGarbage", suggest_xml, [](const fs::path&) { return garbage(16 << 20); }, domain},
      {"DomainDuplicatedVcpu", suggest_xml,
       [&](const fs::path& d) { return replace_once(win11(d), "<vcpu placement=\"static\">16</vcpu>", "<vcpu>16</vcpu><vcpu>4</vcpu>"); },
       domain + "<domain> has more than one <vcpu>"},
      {"DomainHugeVcpuCount", suggest_xml,
       [&](const fs::path& d) { return replace_once(win11(d), ">16</vcpu>", ">4294967295</vcpu>"); }, domain},
      {"DomainNumberOutOfRange", suggest_xml,
       [&](const fs::path& d) { return replace_once(win11(d), "<vcpupin vcpu=\"0\"", "<vcpupin vcpu=\"99999999999999999999\""); },
       domain},
      {"DomainEndlessInput", "suggest --lscpu " + kI7 + " --xml /dev/zero", nullptr,
       "cannot read domain '/dev/zero': it is larger than 64 MiB"},
      // ---- plan JSON (report --plan) ----
      {"PlanDeepNesting", report_plan, [](const fs::path&) { return repeat("[", 500000) + repeat("]", 500000); }, plan},
      {"PlanNulBytes", report_plan, [](const fs::path& d) { return with_nul(plan_json(d)); }, plan},
      {"PlanBinaryGarbage", report_plan, [](const fs::path&) { return garbage(16 << 20); }, plan},
      {"PlanDuplicatedKey", report_plan,
       [](const fs::path& d) { return replace_once(plan_json(d), "\"guests\"", "\"host\": [0], \"guests\""); },
       plan + "key \"host\" appears twice in one object"},
      {"PlanHugeCpuId", report_plan,
       [](const fs::path& d) { return replace_once(plan_json(d), "\"vcpus\": [", "\"vcpus\": [4000000000, "); }, plan},
      {"PlanNumberOutOfRange", report_plan,
       [](const fs::path& d) { return replace_once(plan_json(d), "\"total\": ", "\"total\": 1e999, \"x\": "); }, plan},
      {"PlanNaN", report_plan, [](const fs::path& d) { return replace_once(plan_json(d), "\"total\": ", "\"total\": NaN, \"x\": "); },
       plan},
      {"PlanInfinity", report_plan,
       [](const fs::path& d) { return replace_once(plan_json(d), "\"total\": ", "\"total\": -Infinity, \"x\": "); }, plan},
      // ---- results JSON (compare) ----
      {"ResultsDeepNesting", "compare {} {}", [](const fs::path&) { return repeat("{\"a\":", 300000) + "1" + repeat("}", 300000); },
       results},
      {"ResultsNulBytes", "compare {} {}", [](const fs::path&) { return with_nul(results_json()); }, results},
      {"ResultsBinaryGarbage", "compare {} {}", [](const fs::path&) { return garbage(16 << 20); }, results},
      {"ResultsDuplicatedKey", "compare {} {}",
       [](const fs::path&) { return replace_once(results_json(), "\"mode\"", "\"mode\": \"quick\", \"mode\""); },
       results + "key \"mode\" appears twice in one object"},
      {"ResultsHugeCpuId", "compare {} {}",
       [](const fs::path&) { return replace_once(results_json(), "\"from\": ", "\"from\": 4000000000, \"x\": "); }, results},
      {"ResultsMillionsOfSamples", "compare {} {}",
       [](const fs::path&) {
         return replace_once(results_json(), "\"samples_ns\": [", "\"samples_ns\": [" + repeat("1.5, ", 3000000));
       },
       results + "core_to_core.pairs[0].samples_ns: 3000020 numbers, more than the 100000 this list may hold"},
      {"ResultsNumberOutOfRange", "compare {} {}",
       [](const fs::path&) { return replace_once(results_json(), "\"duration_s\": ", "\"duration_s\": 1e999, \"x\": "); },
       results},
      {"ResultsNaN", "compare {} {}",
       [](const fs::path&) { return replace_once(results_json(), "\"duration_s\": ", "\"duration_s\": NaN, \"x\": "); }, results},
      {"ResultsInfinity", "compare {} {}",
       [](const fs::path&) { return replace_once(results_json(), "\"duration_s\": ", "\"duration_s\": Infinity, \"x\": "); },
       results},
      {"ResultsEndlessInput", "compare /dev/zero /dev/zero", nullptr, "cannot read results '/dev/zero': it is larger than 64 MiB"},
      // ---- check findings JSON (report --findings) ----
      {"FindingsDeepNesting", report_findings, [](const fs::path&) { return repeat("[", 500000) + repeat("]", 500000); },
       findings},
      {"FindingsNulBytes", report_findings, [](const fs::path& d) { return with_nul(findings_json(d)); }, findings},
      {"FindingsBinaryGarbage", report_findings, [](const fs::path&) { return garbage(16 << 20); }, findings},
      {"FindingsDuplicatedKey", report_findings,
       [](const fs::path& d) { return replace_once(findings_json(d), "\"schema\"", "\"findings\": [], \"schema\""); },
       findings + "key \"findings\" appears twice in one object"},
      {"FindingsNaN", report_findings,
       [](const fs::path& d) { return replace_once(findings_json(d), "\"schema\"", "\"x\": NaN, \"schema\""); }, findings},
      {"FindingsEndlessInput", "report --lscpu " + kI7 + " --findings /dev/zero", nullptr,
       "cannot read findings '/dev/zero': it is larger than 64 MiB"},
      // ---- Proxmox VE config (suggest --pve-config) ----
      {"PveNulBytes", suggest_pve, [&](const fs::path& d) { return with_nul(gaming_vm(d)); },
       pve + "line "},
      {"PveBinaryGarbage", suggest_pve, [](const fs::path&) { return garbage(16 << 20); }, pve},
      {"PveHugeCpuId", suggest_pve,
       [&](const fs::path& d) { return replace_once(gaming_vm(d), "agent: 1", "affinity: 0-4294967295\nagent: 1"); },
       pve + "line 4: affinity: '0-4294967295' is not a CPU list"},
      {"PveNumberOutOfRange", suggest_pve,
       [&](const fs::path& d) { return replace_once(gaming_vm(d), "cores: 8", "cores: 99999999999999999999"); },
       pve + "line 8: cores: '99999999999999999999' is not a whole number"},
      {"PveEndlessInput", "suggest --lscpu " + kI7 + " --pve-config /dev/zero", nullptr,
       "cannot read Proxmox config '/dev/zero': it is larger than 64 MiB"},
      // ---- CPU lists (--cpus; bytes from the file, as a shell would pass them) ----
      {"CpuListHugeId", "suggest --lscpu " + kI7 + " --cpus \"$(cat '{}')\"", [](const fs::path&) { return "0-4294967295"; },
       "cannot read --cpus '0-4294967295': CPU 4294967295 is out of range"},
      {"CpuListNumberOutOfRange", "suggest --lscpu " + kI7 + " --cpus \"$(cat '{}')\"",
       [](const fs::path&) { return "99999999999999999999"; }, "cannot read --cpus '99999999999999999999': "},
      {"CpuListGarbage", "suggest --lscpu " + kI7 + " --exclude \"$(cat '{}')\"",
       [](const fs::path&) {
         std::string g = garbage(4000);
         std::erase(g, '\0');
         return g;
       },
       "cannot read --exclude '"},
      {"CpuListHugeCount", "suggest --lscpu " + kI7 + " --cpus \"$(cat '{}')\"",
       [](const fs::path&) { return repeat("1048575,", 12000) + "0"; },
       "cannot plan: CPUs 1048575 given to --cpus are not online CPUs of this host"},
  };
}

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class BoundedInput : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("vpt-bounded-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

double time_limit_seconds() {
  const char* factor = std::getenv("VPT_TIME_LIMIT_FACTOR");
  return 2.0 * (factor ? std::atof(factor) : 1.0);
}

TEST_P(BoundedInput, IsOneLineAndExitCodeTwoWithinTwoSeconds) {
  const Case& c = GetParam();
  std::string path = (dir_ / "input").string();
  if (c.input) std::ofstream(path, std::ios::binary) << c.input(dir_);
  auto start = std::chrono::steady_clock::now();
  test::CommandResult r = test::run_vpt_tune(with_path(c.command, path), dir_);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << r.err.substr(0, 2000);
  EXPECT_TRUE(r.err.starts_with("vpt-tune: " + with_path(c.message, path))) << r.err.substr(0, 2000);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err.substr(0, 2000);
  EXPECT_LE(r.err.size(), 1100u) << r.err.substr(0, 2000);
  EXPECT_EQ(r.out, "");
  EXPECT_LT(seconds, time_limit_seconds());
}

INSTANTIATE_TEST_SUITE_P(Inputs, BoundedInput, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace vpt
