// Against a real libvirtd with the QEMU driver, started by the ctest fixture
// tests/virt/libvirtd-fixture.sh. Guests run under KVM when libvirt can use it
// (`virsh domcapabilities --virttype kvm`), else TCG; VPT_TEST_ACCEL=tcg
// forces TCG. Domains are named vpt-test-PID-N and removed after each test.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"
#include "check/findings.hpp"
#include "check/fixes.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::make_plan;
using test::read_file;

constexpr const char* kUri = "qemu:///system";

// What libvirt runs the test guests under, decided once per process.
struct Accelerator {
  std::string domain_type;  // <domain type='...'>
  std::string cpu_mode;     // the <cpu mode> a vpt-tune plan gives such a domain
  std::string name;         // vCPU threads are "CPU n/<name>"
};

const Accelerator& accelerator() {
  static const Accelerator accel = [] {
    const char* forced = std::getenv("VPT_TEST_ACCEL");
    bool kvm = (!forced || std::string(forced) != "tcg") &&
               std::system(fmt::format("virsh -q -c {} domcapabilities --virttype kvm 2>/dev/null | "
                                       "grep -q '<domain>kvm</domain>'",
                                       kUri)
                               .c_str()) == 0;
    // The tests' guests use host-passthrough: some nested KVMs (PVM) abort QEMU when it sets the
    // host CPU's MSRs (ARCH_CAPABILITIES). A QEMU still alive after 3 s (timeout's 124) runs it.
    kvm = kvm && std::system("timeout 3 qemu-system-x86_64 -accel kvm -cpu host -machine pc -nodefaults -display none "
                             "-S -monitor none >/dev/null 2>&1; test $? -eq 124") == 0;
    Accelerator a = kvm ? Accelerator{"kvm", "host-passthrough", "KVM"} : Accelerator{"qemu", "maximum", "TCG"};
    std::printf("libvirtd tests: guests run under %s (<domain type='%s'>)\n", a.name.c_str(), a.domain_type.c_str());
    return a;
  }();
  return accel;
}

std::string vcpu_thread(unsigned vcpu) { return fmt::format("CPU {}/{}", vcpu, accelerator().name); }

// No OS: SeaBIOS finds nothing to boot and waits, which is all pinning needs
// (QEMU runs one thread per vCPU either way).
std::string domain_xml(const std::string& name) {
  return fmt::format(R"(<domain type='{}'>
  <name>{}</name>
  <memory unit='KiB'>65536</memory>
  <vcpu placement='static'>2</vcpu>
  <iothreads>1</iothreads>
  <!-- kept as it is by vpt-tune -->
  <cputune>
    <shares>512</shares>
  </cputune>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'/>
    <memballoon model='none'/>
  </devices>
</domain>
)",
                     accelerator().domain_type, name);
}

int virsh(const std::string& args) {
  return std::system(fmt::format("virsh -q -c {} {} >/dev/null 2>&1", kUri, args).c_str());
}

// Cpus_allowed_list of the QEMU thread named `comm` ("CPU 0/KVM").
std::string thread_cpus(const std::string& domain, const std::string& comm) {
  std::string pid = read_file("/run/libvirt/qemu/" + domain + ".pid");
  pid.erase(pid.find_last_not_of(" \n") + 1);
  for (const auto& task : fs::directory_iterator("/proc/" + pid + "/task")) {
    std::string name = read_file((task.path() / "comm").string());
    if (name != comm + "\n") continue;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cpus_allowed_list:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 18));
  }
  return "thread not found";
}

class Libvirtd : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    name_ = fmt::format("vpt-test-{}-{}", ::getpid(), ++counter);
    dir_ = fs::temp_directory_path() / name_;
    fs::remove_all(dir_);
    options_.backup_dir = (dir_ / "backups").string();
    hv_ = connect_libvirt(kUri, true);
    hv_->define(domain_xml(name_));
    original_ = hv_->definition_xml(name_, true);
  }
  void TearDown() override {
    virsh("destroy " + name_);
    virsh("undefine " + name_);
    fs::remove_all(dir_);
  }

  // vCPU 0 -> CPU 1, vCPU 1 -> CPU 0: differs from libvirt's default on any host.
  GuestPlan plan() const {
    GuestPlan p = make_plan(2, 0, CpuSet{0}, {CpuSet{1}}, {1, 1, 2, 1});
    p.vcpus = {1, 0};
    p.require_topoext = true;
    return p;
  }

  std::string name_;
  fs::path dir_;
  ApplyOptions options_;
  std::unique_ptr<Hypervisor> hv_;
  std::string original_;
};

TEST_F(Libvirtd, ApplyBacksUpDefinesAndReadsBackEveryPin) {
  ApplyResult r = apply_plan(*hv_, name_, plan(), options_);
  EXPECT_TRUE(r.defined);
  EXPECT_EQ(read_file(r.backup), original_);
  EXPECT_NE(original_.find("passwd='s3cret'"), std::string::npos);  // the backup keeps secrets
  Domain back = parse_domain_xml(hv_->definition_xml(name_, true), name_);
  EXPECT_EQ(back.vcpupins.at(0), CpuSet{1});
  EXPECT_EQ(back.vcpupins.at(1), CpuSet{0});
  EXPECT_EQ(back.emulatorpin, CpuSet{0});
  EXPECT_EQ(back.iothreadpins.at(1), CpuSet{1});
  // TCG: QEMU's max CPU stands in for host-passthrough, which needs KVM.
  EXPECT_EQ(back.cpu_mode, accelerator().cpu_mode);
  ASSERT_TRUE(back.cpu_topology);
  EXPECT_EQ(back.cpu_topology->cores, 2u);
  EXPECT_TRUE(back.cache_passthrough);
  EXPECT_TRUE(back.require_topoext);
  EXPECT_NE(hv_->definition_xml(name_, true).find("<shares>512</shares>"), std::string::npos);
  // The patched definition boots, with the pins in force from the start.
  ASSERT_EQ(virsh("start " + name_), 0);
  EXPECT_EQ(thread_cpus(name_, vcpu_thread(0)), "1");
  EXPECT_EQ(thread_cpus(name_, vcpu_thread(1)), "0");
}

TEST_F(Libvirtd, SecondApplyOfLibvirtsOwnRewriteIsANoOp) {
  apply_plan(*hv_, name_, plan(), options_);
  const std::string after_first = hv_->definition_xml(name_, true);
  ApplyResult second = apply_plan(*hv_, name_, plan(), options_);
  EXPECT_FALSE(second.defined);
  EXPECT_EQ(hv_->definition_xml(name_, true), after_first);
  EXPECT_EQ(list_backups(options_.backup_dir, name_).size(), 1u);
}

TEST_F(Libvirtd, RefusedDefineLeavesTheDefinitionByteForByte) {
  GuestPlan bad = plan();
  bad.topology.cores = 3;  // 3 cores for 2 vCPUs: libvirt refuses the definition
  try {
    apply_plan(*hv_, name_, bad, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("CPU topology doesn't match maximum vcpu count"), std::string::npos) << what;
    EXPECT_NE(what.find("the previous definition was defined again from backup"), std::string::npos) << what;
  }
  EXPECT_EQ(hv_->definition_xml(name_, true), original_);
}

TEST_F(Libvirtd, PinToCpu4000IsRefusedBeforeAnythingChanges) {
  GuestPlan bad = plan();
  bad.vcpus[1] = 4000;
  EXPECT_THROW(apply_plan(*hv_, name_, bad, options_), DomainInputError);
  EXPECT_EQ(hv_->definition_xml(name_, true), original_);
  EXPECT_TRUE(list_backups(options_.backup_dir, name_).empty());
}

TEST_F(Libvirtd, RestorePutsTheBackupBackByteForByte) {
  ApplyResult r = apply_plan(*hv_, name_, plan(), options_);
  RestoreResult restored = restore_backup(*hv_, name_, r.backup, options_.backup_dir);
  EXPECT_EQ(hv_->definition_xml(name_, true), original_);
  EXPECT_FALSE(restored.backup_of_replaced.empty());
}

TEST_F(Libvirtd, UnknownDomainIsOneLine) {
  try {
    hv_->find_domain("vpt-no-such-domain");
    FAIL();
  } catch (const DomainInputError& e) {
    EXPECT_STREQ(e.what(), "cannot find domain 'vpt-no-such-domain' on 'qemu:///system': Domain not found: no "
                           "domain with matching name 'vpt-no-such-domain'");
  }
}

TEST_F(Libvirtd, CommandLineBadInputLeavesTheDefinitionUntouched) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "broken.xml") << "<domain>\n  <name>" << name_ << "</name>\n";
  std::ofstream(dir_ / "other.xml") << "<domain type='qemu'><name>someone-else</name></domain>\n";
  for (const char* file : {"broken.xml", "other.xml"}) {
    std::string cmd = fmt::format("{} restore --connect {} --domain {} {} 2>{}", VPT_TUNE_BINARY, kUri, name_,
                                  (dir_ / file).string(), (dir_ / "err").string());
    int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 2) << file;
    std::string err = read_file((dir_ / "err").string());
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(hv_->definition_xml(name_, true), original_) << file;
  }
}

TEST_F(Libvirtd, LivePinsARunningGuestAndItsThreadsFollow) {
  ASSERT_EQ(virsh("start " + name_), 0);
  ASSERT_TRUE(hv_->is_running(name_));
  options_.live = true;
  ApplyResult r = apply_plan(*hv_, name_, plan(), options_);
  EXPECT_TRUE(r.defined);
  EXPECT_TRUE(r.live_pinned);
  LivePins live = hv_->live_pins(name_);
  ASSERT_EQ(live.vcpus.size(), 2u);
  EXPECT_EQ(live.vcpus[0], CpuSet{1});
  EXPECT_EQ(live.vcpus[1], CpuSet{0});
  EXPECT_EQ(live.emulator, CpuSet{0});
  EXPECT_EQ(live.iothreads.at(1), CpuSet{1});
  // What the kernel says about QEMU's threads, independently of libvirt.
  EXPECT_EQ(thread_cpus(name_, vcpu_thread(0)), "1");
  EXPECT_EQ(thread_cpus(name_, vcpu_thread(1)), "0");
  EXPECT_EQ(thread_cpus(name_, "IO iothread1"), "1");
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [&](const std::string& n) {
    return n.find("is running: guest CPU (mode, topology, cache, features) take(s) effect at its next boot") !=
           std::string::npos;
  }));
  // Applying again changes nothing, live or defined.
  ApplyResult again = apply_plan(*hv_, name_, plan(), options_);
  EXPECT_FALSE(again.defined);
  EXPECT_FALSE(again.live_pinned);
}

// ---- the whole host: suggest --domain x3 --apply --live -------------------------

// Three domains of one host (issue: whole-host planning): A runs and is
// --dedicated, B is defined and --keep (pinned to CPU 0 by its owner), C runs
// and shares the pool. The kernel's view of the running guests' threads (from
// /proc) must match the definitions libvirt reads back; B stays byte for byte.
// Then one apply of three whose third define libvirt refuses: A and C get
// their definitions and live pins back.
class LibvirtdWholeHost : public Libvirtd {
 protected:
  void SetUp() override {
    Libvirtd::SetUp();
    for (const char* suffix : {"-a", "-b", "-c"}) {
      std::string xml = domain_xml(name_ + suffix);
      xml.replace(xml.find("<vcpu placement='static'>2</vcpu>"), 33, "<vcpu placement='static'>1</vcpu>");
      if (std::string(suffix) == "-b")
        xml.replace(xml.find("    <shares>"), 0, "    <vcpupin vcpu='0' cpuset='0'/>\n    <emulatorpin cpuset='0'/>\n");
      hv_->define(xml);
    }
  }
  void TearDown() override {
    for (const char* suffix : {"-a", "-b", "-c"}) {
      virsh("destroy " + name_ + suffix);
      virsh("undefine " + name_ + suffix);
    }
    Libvirtd::TearDown();
  }
  std::string a() const { return name_ + "-a"; }
  std::string b() const { return name_ + "-b"; }
  std::string c() const { return name_ + "-c"; }
};

TEST_F(LibvirtdWholeHost, AppliesLiveKeepsTheKeptOneAndRollsBackWhole) {
  ASSERT_EQ(virsh("start " + a()), 0);
  ASSERT_EQ(virsh("start " + c()), 0);
  const std::string kept_before = hv_->definition_xml(b(), true);
  fs::create_directories(dir_);
  const std::string cmd = fmt::format(
      "{} suggest --connect {} --domain {} --domain {} --domain {} --dedicated {} --keep {} --reserve 0 --apply --live "
      "--backup-dir {} >{} 2>&1",
      VPT_TUNE_BINARY, kUri, a(), b(), c(), a(), b(), options_.backup_dir, (dir_ / "out").string());
  const int status = std::system(cmd.c_str());
  const std::string out = read_file((dir_ / "out").string());
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;

  const Domain da = parse_domain_xml(hv_->definition_xml(a(), true), a());
  const Domain dc = parse_domain_xml(hv_->definition_xml(c(), true), c());
  ASSERT_EQ(da.vcpupins.size(), 1u) << out;
  ASSERT_EQ(dc.vcpupins.size(), 1u) << out;
  EXPECT_FALSE(da.vcpupins.at(0).intersects(dc.vcpupins.at(0))) << out;  // the pool is off the dedicated vCPU
  EXPECT_FALSE(da.vcpupins.at(0).contains(0u)) << out;                   // nor on the kept guest's core
  // The running guests' threads, as the kernel has them.
  EXPECT_EQ(thread_cpus(a(), vcpu_thread(0)), da.vcpupins.at(0).to_string());
  EXPECT_EQ(thread_cpus(c(), vcpu_thread(0)), dc.vcpupins.at(0).to_string());
  EXPECT_EQ(hv_->definition_xml(b(), true), kept_before);
  EXPECT_EQ(list_backups(options_.backup_dir, b()).size(), 0u);

  // One apply of three, the third refused by libvirt: everything goes back.
  const std::string a_before = hv_->definition_xml(a(), true), c_before = hv_->definition_xml(c(), true);
  const LivePins a_live = hv_->live_pins(a()), c_live = hv_->live_pins(c());
  GuestPlan moved = make_plan(1, 0, CpuSet{1}, {CpuSet{1}}, {1, 1, 1, 1});
  moved.vcpus = {0};
  GuestPlan refused = moved;
  refused.topology.cores = 3;  // 3 cores for 1 vCPU: libvirt refuses the definition
  std::vector<DomainChange> changes;
  changes.push_back({a(), [&](const std::string& xml) { return patch_domain(xml, moved); }});
  changes.push_back({c(), [&](const std::string& xml) { return patch_domain(xml, moved); }});
  changes.push_back({b(), [&](const std::string& xml) { return patch_domain(xml, refused); }});
  options_.live = true;
  try {
    apply_changes(*hv_, changes, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
  }
  EXPECT_EQ(hv_->definition_xml(a(), true), a_before);
  EXPECT_EQ(hv_->definition_xml(c(), true), c_before);
  EXPECT_EQ(hv_->definition_xml(b(), true), kept_before);
  EXPECT_EQ(hv_->live_pins(a()).vcpus, a_live.vcpus);
  EXPECT_EQ(hv_->live_pins(c()).vcpus, c_live.vcpus);
  EXPECT_EQ(thread_cpus(a(), vcpu_thread(0)), da.vcpupins.at(0).to_string());
  EXPECT_EQ(thread_cpus(c(), vcpu_thread(0)), dc.vcpupins.at(0).to_string());
}

// ---- vpt-tune check --fix --apply -------------------------------------------------

// The fixture's domain as a Windows 11 guest whose timers need fixing: an
// HPET, no Hyper-V clock, no enlightenments.
std::string windows_domain(const std::string& name, const std::string& uuid) {
  std::string xml = domain_xml(name);
  xml.replace(xml.find("  <memory"), 0, "  <uuid>" + uuid + "</uuid>\n");
  xml.replace(xml.find("  <memory"), 0,
              "  <metadata>\n    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
              "      <libosinfo:os id=\"http://microsoft.com/win/11\"/>\n    </libosinfo:libosinfo>\n  </metadata>\n");
  xml.replace(xml.find("  <devices>"), 0, "  <clock offset='localtime'>\n    <timer name='hpet' present='yes'/>\n  </clock>\n");
  return xml;
}

TEST_F(Libvirtd, CheckFixApplyDefinesTheFixesAndTheyReadBack) {
  hv_->define(windows_domain(name_, parse_domain_xml(original_, name_).uuid));
  const std::string before = hv_->definition_xml(name_, true);
  // This 2-CPU host keeps no core of its own for a 2-vCPU guest: --reserve 0 lets the plan share.
  std::string cmd = fmt::format("{} check --connect {} --domain {} --reserve 0 --fix --apply --backup-dir {} >{} 2>&1",
                                VPT_TUNE_BINARY, kUri, name_, options_.backup_dir, (dir_ / "out").string());
  fs::create_directories(dir_);
  int status = std::system(cmd.c_str());
  std::string out = read_file((dir_ / "out").string());
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("new definition defined and verified"), std::string::npos) << out;
  ASSERT_EQ(list_backups(options_.backup_dir, name_).size(), 1u);
  EXPECT_EQ(read_file(list_backups(options_.backup_dir, name_).front().path), before);

  // Read back from libvirt, independently of what vpt-tune printed.
  Domain back = parse_domain_xml(hv_->definition_xml(name_, true), name_);
  ASSERT_TRUE(back.cpu_topology);  // cpu-topology-missing: the plan's topology
  EXPECT_EQ(back.cpu_topology->sockets * back.cpu_topology->cores * back.cpu_topology->threads, 2u);
  EXPECT_EQ(back.vcpupins.size(), 2u);
  if (accelerator().domain_type == "kvm") {
    // Windows under KVM: Hyper-V enlightenments and timers.
    EXPECT_TRUE(back.hyperv.at("stimer"));
    EXPECT_TRUE(back.hyperv.at("synic"));
    EXPECT_TRUE(back.hyperv.at("vpindex"));
    EXPECT_EQ(back.timers.at("hypervclock"), true);
    EXPECT_EQ(back.timers.at("hpet"), false);
  } else {
    EXPECT_TRUE(back.hyperv.empty()) << "TCG: Hyper-V checks are KVM-only";
  }
  EXPECT_NE(hv_->definition_xml(name_, true).find("<shares>512</shares>"), std::string::npos);

  // Running it again finds the fixes in place; restore puts the old definition back.
  status = std::system(cmd.c_str());
  out = read_file((dir_ / "out").string());
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("already applied, nothing changed"), std::string::npos) << out;
  restore_backup(*hv_, name_, list_backups(options_.backup_dir, name_).front().path, options_.backup_dir);
  EXPECT_EQ(hv_->definition_xml(name_, true), before);
}

TEST_F(Libvirtd, AFixLibvirtRefusesRollsBackAndIsNamed) {
  // A guest topology of 3 cores for 2 vCPUs: libvirt refuses the definition.
  CheckReport report;
  Finding f;
  f.id = "cpu-topology-missing";
  f.fix = "<cpu>\n  <topology sockets='1' dies='1' cores='3' threads='1'/>\n</cpu>";
  f.auto_fix = AutoFix::Tuning;
  f.tuning.topology = GuestTopology{1, 1, 3, 1};
  report.findings.push_back(f);
  DomainFixes fixes = collect_fixes(report, nullptr);
  options_.what = "the fixes";
  try {
    apply_patch(*hv_, name_, [&](const std::string& xml) { return apply_fixes(xml, fixes); }, options_);
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("CPU topology doesn't match maximum vcpu count"), std::string::npos) << what;
    EXPECT_NE(what.find("the previous definition was defined again from backup"), std::string::npos) << what;
    EXPECT_EQ(fixes_named_in(what, report, fixes), std::vector<std::string>{"cpu-topology-missing"});
  }
  EXPECT_EQ(hv_->definition_xml(name_, true), original_);
}

}  // namespace
}  // namespace vpt
