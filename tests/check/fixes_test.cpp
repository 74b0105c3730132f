// check --fix: a fixed domain has no error findings, keeps every other
// element, comment and attribute, and goes through the same backup -> define
// -> read back -> verify -> roll back path as suggest --apply.
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "check/fixes.hpp"
#include "tests/check/check_test_util.hpp"
#include "tests/virt/fake_hypervisor.hpp"
#include "virt/apply.hpp"

namespace vpt {
namespace {

using test::review;
using test::Review;
using test::sample;

const Topology& i7_host() {
  static const Topology t = test::i7();
  return t;
}

PatchResult fixed(const Review& r) { return apply_fixes(r.domain.xml, collect_fixes(r.report, r.plan ? &*r.plan : nullptr)); }

// The live test's bad layout: both vCPUs, the emulator and the I/O thread on CPU 0.
std::string bad_layout() {
  return "<domain type='kvm'>\n  <name>bad</name>\n  <memory unit='MiB'>128</memory>\n  <vcpu placement='static'>2</vcpu>\n"
         "  <iothreads>1</iothreads>\n  <cputune>\n    <vcpupin vcpu='0' cpuset='0'/>\n    <vcpupin vcpu='1' cpuset='0'/>\n"
         "    <emulatorpin cpuset='0'/>\n    <iothreadpin iothread='1' cpuset='0'/>\n  </cputune>\n"
         "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  <devices>\n"
         "    <memballoon model='none'/>\n  </devices>\n</domain>\n";
}

struct Sample {
  std::string name;
  std::string xml;
  bool with_host;
};

std::vector<Sample> samples() {
  return {{"win10-untuned", sample("win10-untuned.xml"), true},  {"win10-untuned-offline", sample("win10-untuned.xml"), false},
          {"win11-gaming", sample("win11-gaming.xml"), true},    {"linux-server", sample("linux-server.xml"), true},
          {"minimal", sample("minimal.xml"), true},              {"minimal-offline", sample("minimal.xml"), false},
          {"custom-cpu", sample("custom-cpu.xml"), true},        {"bad-layout", bad_layout(), true}};
}

class EachSample : public ::testing::TestWithParam<Sample> {};

TEST_P(EachSample, FixedDomainHasNoErrorFindings) {
  const Topology* host = GetParam().with_host ? &i7_host() : nullptr;
  Review before = review(GetParam().xml, host);
  Review after = review(fixed(before).xml, host);
  for (const Finding& f : after.report.findings)
    EXPECT_NE(f.severity, Severity::Error) << f.id << ": " << f.evidence;
}

TEST_P(EachSample, FixedDomainNoLongerHasWhatFixApplied) {
  const Topology* host = GetParam().with_host ? &i7_host() : nullptr;
  Review before = review(GetParam().xml, host);
  DomainFixes fixes = collect_fixes(before.report, before.plan ? &*before.plan : nullptr);
  Review after = review(apply_fixes(before.domain.xml, fixes).xml, host);
  for (const std::string& id : fixes.applied) {
    if (id == "disk-no-iothread") continue;  // not attached automatically yet (AttachIothreads test)
    EXPECT_EQ(test::find(after.report, id), nullptr) << id << " is still found after --fix";
  }
}

TEST_P(EachSample, FixingTwiceChangesNothingMore) {
  const Topology* host = GetParam().with_host ? &i7_host() : nullptr;
  Review r = review(GetParam().xml, host);
  DomainFixes fixes = collect_fixes(r.report, r.plan ? &*r.plan : nullptr);
  const std::string once = apply_fixes(r.domain.xml, fixes).xml;
  EXPECT_EQ(apply_fixes(once, fixes).xml, once);
}

// ---- everything else stays ----------------------------------------------------

pugi::xml_document parse(const std::string& xml) {
  pugi::xml_document doc;
  auto ok = doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_comments | pugi::parse_fragment);
  EXPECT_TRUE(ok) << ok.description();
  return doc;
}

void remove_children(pugi::xml_node node, std::initializer_list<const char*> names) {
  for (const char* name : names)
    while (pugi::xml_node n = node.child(name)) node.remove_child(n);
}

void remove_if_empty(pugi::xml_node parent, const char* name) {
  pugi::xml_node n = parent.child(name);
  if (n && !n.first_child()) parent.remove_child(n);
}

// Takes out of a definition what --fix may change (the plan's elements and the
// DomainTuning settings), so that two definitions compare on everything else.
void strip_fixed(pugi::xml_node root, const DomainFixes& fixes) {
  remove_children(root, {"vcpu", "vcpus", "iothreads", "iothreadids", "numatune"});
  if (pugi::xml_node cputune = root.child("cputune")) {
    remove_children(cputune, {"vcpupin", "emulatorpin", "iothreadpin"});
    remove_if_empty(root, "cputune");
  }
  if (pugi::xml_node cpu = root.child("cpu")) {
    remove_children(cpu, {"topology", "cache", "model", "vendor"});
    while (pugi::xml_node n = cpu.find_child_by_attribute("feature", "name", "topoext")) cpu.remove_child(n);
    for (const char* attr : {"mode", "check", "migratable", "match"}) cpu.remove_attribute(attr);
    if (!cpu.first_child() && !cpu.first_attribute()) root.remove_child(cpu);
  }
  pugi::xml_node features = root.child("features");
  if (pugi::xml_node hyperv = features.child("hyperv")) {
    for (const std::string& name : fixes.tuning.hyperv_on) remove_children(hyperv, {name.c_str()});
    if (!hyperv.first_child()) features.remove_child(hyperv);
  }
  if (pugi::xml_node kvm = features.child("kvm")) {
    for (const std::string& name : fixes.tuning.kvm_on) remove_children(kvm, {name.c_str()});
    remove_if_empty(features, "kvm");
  }
  remove_if_empty(root, "features");
  if (pugi::xml_node clock = root.child("clock")) {
    for (const auto& [name, present] : fixes.tuning.timers)
      while (pugi::xml_node t = clock.find_child_by_attribute("timer", "name", name.c_str())) clock.remove_child(t);
    if (!clock.first_child()) root.remove_child(clock);
  }
  if (pugi::xml_node backing = root.child("memoryBacking")) {
    if (fixes.tuning.hugepages) remove_children(backing, {"hugepages"});
    remove_if_empty(root, "memoryBacking");
  }
  pugi::xml_node devices = root.child("devices");
  // A plan's I/O thread or the iothread fix attaches the virtio disks and
  // virtio-scsi controllers to it (<driver iothread='N'/>).
  if (fixes.plan || !fixes.iothread_devices.empty())
    for (const char* kind : {"disk", "controller"})
      for (pugi::xml_node device : devices.children(kind)) device.child("driver").remove_attribute("iothread");
  if (fixes.tuning.memballoon_none) remove_children(devices, {"memballoon"});
  for (pugi::xml_node disk : devices.children("disk")) {
    std::string target = disk.child("target").attribute("dev").value();
    for (const auto* list : {&fixes.tuning.disk_cache_none, &fixes.tuning.disk_io_native})
      if (std::find(list->begin(), list->end(), target) != list->end())
        for (const char* attr : {"cache", "io"}) disk.child("driver").remove_attribute(attr);
  }
}

std::string stripped(const std::string& xml, const DomainFixes& fixes) {
  pugi::xml_document doc = parse(xml);
  strip_fixed(doc.document_element(), fixes);
  std::ostringstream out;
  doc.print(out, "", pugi::format_raw);
  return out.str();
}

TEST_P(EachSample, FixKeepsEveryOtherElementCommentAndAttribute) {
  const Topology* host = GetParam().with_host ? &i7_host() : nullptr;
  Review r = review(GetParam().xml, host);
  DomainFixes fixes = collect_fixes(r.report, r.plan ? &*r.plan : nullptr);
  const std::string after = apply_fixes(r.domain.xml, fixes).xml;
  EXPECT_EQ(stripped(after, fixes), stripped(r.domain.xml, fixes));
}

std::string sample_name(const ::testing::TestParamInfo<Sample>& info) {
  std::string name = info.param.name;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Samples, EachSample, ::testing::ValuesIn(samples()), sample_name);

TEST(FixWin10, GetsWhatAnExpertWouldChange) {
  Review r = review(sample("win10-untuned.xml"), &i7_host());
  const std::string xml = fixed(r).xml;
  Domain d = parse_domain_xml(xml, "fixed");
  // The plan for 8 vCPUs on the i7 (tests/corpus/lscpu/intel-core-i7-14700f.txt):
  // 4 whole P-cores with their siblings, not core 0 (CPUs 0-1, the boot CPU the
  // host keeps), so CPUs 2-9; the emulator stays with the host on one of its
  // other P-cores (CPUs 10-15 in pairs): CPU 0's core comes last for helpers.
  for (unsigned v = 0; v < 8; ++v) EXPECT_EQ(d.vcpupins.at(v), CpuSet{v + 2}) << v;
  ASSERT_TRUE(d.emulatorpin);
  EXPECT_TRUE(*d.emulatorpin == (CpuSet{10, 11}) || *d.emulatorpin == (CpuSet{12, 13}) ||
              *d.emulatorpin == (CpuSet{14, 15}))
      << d.emulatorpin->to_string();
  ASSERT_TRUE(d.cpu_topology);
  EXPECT_EQ(d.cpu_topology->sockets, 1u);
  EXPECT_EQ(d.cpu_topology->cores, 4u);
  EXPECT_EQ(d.cpu_topology->threads, 2u);
  EXPECT_EQ(d.cpu_mode, "host-passthrough");
  EXPECT_EQ(d.cpu_migratable, "off");
  for (const char* name : {"relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset"})
    EXPECT_TRUE(d.hyperv.at(name)) << name;
  // Offline, the libvirt and QEMU that run it are unknown: what needs libvirt >= 4.7 is left to the user.
  for (const char* name : {"frequencies", "tlbflush", "ipi"}) EXPECT_FALSE(d.hyperv.count(name)) << name;
  // With them known (Debian 12: libvirt 9.0.0, QEMU 7.2.0), --fix applies those too.
  Review known = review(sample("win10-untuned.xml"), &i7_host(), std::nullopt, VirtVersions{9000000, 7002000});
  const Domain d2 = parse_domain_xml(fixed(known).xml, "fixed");
  for (const char* name : {"frequencies", "tlbflush", "ipi"}) EXPECT_TRUE(d2.hyperv.at(name)) << name;
  EXPECT_EQ(d.memballoon_model, "none");
  EXPECT_FALSE(d.hugepages);  // the host's pages are not known: left to the user
  // The metadata libvirt keeps in double quotes stays byte for byte.
  EXPECT_NE(xml.find("<libosinfo:os id=\"http://microsoft.com/win/10\"/>"), std::string::npos);
}

TEST(FixWin11, NeverTouchesVendorIdOrHiddenKvm) {
  Review r = review(sample("win11-gaming.xml"), &i7_host());
  const std::string xml = fixed(r).xml;
  EXPECT_NE(xml.find("<vendor_id state=\"on\" value=\"randomid\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<hidden state=\"on\"/>"), std::string::npos);
  EXPECT_EQ(parse_domain_xml(xml, "fixed").hyperv_vendor_id, "randomid");
}

TEST(FixHugepages, AppliedWhenTheLiveHostHasThePagesFree) {
  // 16 GiB = 8192 pages of 2 MiB.
  Topology host = test::live_i7([](HostState& h) { h.hugepages = {{2u << 20, std::nullopt, 8192, 8192}}; });
  Review r = review(sample("win11-gaming.xml"), &host);
  const Finding* f = test::find(r.report, "hugepages-missing");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->auto_fix, AutoFix::Tuning);
  Domain d = parse_domain_xml(fixed(r).xml, "fixed");
  EXPECT_TRUE(d.hugepages);
  EXPECT_EQ(d.hugepage_bytes, 2u << 20);  // named: the host's default size may be another
}

TEST(FixHugepages, PrefersFreeGigabytePagesThatDivideTheMemory) {
  // 16 GiB = 16 pages of 1 GiB; the 2 MiB pool is short.
  Topology host = test::live_i7([](HostState& h) {
    h.hugepages = {{2u << 20, std::nullopt, 0, 0}, {1u << 30, std::nullopt, 16, 16}};
  });
  Review r = review(sample("win11-gaming.xml"), &host);
  EXPECT_EQ(parse_domain_xml(fixed(r).xml, "fixed").hugepage_bytes, 1u << 30);
  // 8 GiB + 512 MiB is no multiple of 1 GiB: not with those pages.
  std::string odd = sample("win11-gaming.xml");
  odd.replace(odd.find("<memory unit=\"KiB\">16777216</memory>"), 36, "<memory unit=\"KiB\">8912896</memory>");
  EXPECT_EQ(test::find(review(odd, &host).report, "hugepages-missing")->auto_fix, AutoFix::No);
}

TEST(FixHugepages, LeftToTheUserWithTheCommandsWhenPagesAreMissing) {
  Topology host = test::live_i7([](HostState& h) { h.hugepages = {{2u << 20, std::nullopt, 100, 8191}}; });
  Review r = review(sample("win11-gaming.xml"), &host);
  const Finding* f = test::find(r.report, "hugepages-missing");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->auto_fix, AutoFix::No);
  ASSERT_TRUE(f->fix);
  // 100 reserved + 8192 needed.
  EXPECT_NE(f->fix->find("echo 8292 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), std::string::npos)
      << *f->fix;
  EXPECT_FALSE(parse_domain_xml(fixed(r).xml, "fixed").hugepages);
}

TEST(AttachIothreads, FixGivesTheVirtioDiskAnIothreadAndTheReviewIsQuiet) {
  // win10-untuned.xml: one virtio disk (vda), no <iothreads> (read from the file by hand).
  const std::string xml = sample("win10-untuned.xml");
  const Domain before = parse_domain_xml(xml, "before");
  ASSERT_EQ(before.iothreads, 0u);
  Review rev = review(xml, &i7_host());
  DomainFixes fixes = collect_fixes(rev.report, rev.plan ? &*rev.plan : nullptr);
  EXPECT_EQ(fixes.iothread_devices, std::vector<std::string>{"disk vda"});
  EXPECT_NE(std::find(fixes.applied.begin(), fixes.applied.end(), "disk-no-iothread"), fixes.applied.end());
  const Domain after = parse_domain_xml(apply_fixes(xml, fixes).xml, "after");
  EXPECT_GE(after.iothreads, 1u);
  for (const IothreadDevice& dev : after.iothread_devices) {
    ASSERT_TRUE(dev.iothread) << dev.label;
    EXPECT_NE(std::find(after.iothread_ids.begin(), after.iothread_ids.end(), *dev.iothread), after.iothread_ids.end());
  }
  // Only the I/O-thread fix: the attachment alone, the count one.
  DomainFixes only_io;
  only_io.iothread_devices = {"disk vda"};
  const Domain attached = parse_domain_xml(apply_fixes(xml, only_io).xml, "attached");
  EXPECT_EQ(attached.iothreads, 1u);
  ASSERT_EQ(attached.iothread_devices.size(), 1u);
  EXPECT_EQ(attached.iothread_devices[0].iothread, 1u);
  Review again = review(apply_fixes(xml, only_io).xml, &i7_host());
  EXPECT_FALSE(std::any_of(again.report.findings.begin(), again.report.findings.end(),
                           [](const Finding& f) { return f.id == "disk-no-iothread"; }));
}

TEST(FixesNamedIn, NameTheFixALibvirtErrorIsAbout) {
  Review r = review(test::domain_xml([] { test::Spec s; s.os_id = "http://debian.org/debian/12"; s.pins = {0, 1, 2, 3}; s.emulatorpin = "16"; s.extra = "  <cpu mode='host-passthrough'>\n    <topology sockets='1' "
                                                         "dies='1' cores='2' threads='2'/>\n  </cpu>\n"; return s; }()),
                    &i7_host(), std::nullopt, VirtVersions{9000000, 7002000});  // hint-dedicated needs libvirt 5.7
  DomainFixes fixes = collect_fixes(r.report, r.plan ? &*r.plan : nullptr);
  ASSERT_NE(std::find(fixes.applied.begin(), fixes.applied.end(), "kvm-hint-dedicated"), fixes.applied.end());
  EXPECT_EQ(fixes_named_in("unsupported configuration: kvm-hint-dedicated=on is only applicable for cpu "
                           "host-passthrough",
                           r.report, fixes),
            std::vector<std::string>{"kvm-hint-dedicated"});
  EXPECT_TRUE(fixes_named_in("internal error: something else", r.report, fixes).empty());
}

// ---- the apply path, on a fake libvirt ---------------------------------------------

class ApplyFixes : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("vpt-check-fix-{}", ::getpid());
    std::filesystem::remove_all(dir_);
    options_.backup_dir = (dir_ / "backups").string();
    options_.what = "the fixes";
    original_ = sample("win10-untuned.xml");
    hv_.define(original_);
    r_ = review(original_, &i7_host());
    fixes_ = collect_fixes(r_.report, r_.plan ? &*r_.plan : nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ApplyResult apply() {
    return apply_patch(hv_, "win10", [&](const std::string& xml) { return apply_fixes(xml, fixes_); }, options_);
  }

  std::filesystem::path dir_;
  ApplyOptions options_;
  test::FakeHypervisor hv_;
  std::string original_;
  Review r_;
  DomainFixes fixes_;
};

TEST_F(ApplyFixes, BacksUpDefinesAndVerifies) {
  ApplyResult result = apply();
  EXPECT_TRUE(result.defined);
  EXPECT_EQ(test::read_file(result.backup), original_);
  Domain now = parse_domain_xml(hv_.definitions.at("win10"), "win10");
  EXPECT_TRUE(now.hyperv.at("stimer"));
  EXPECT_EQ(now.memballoon_model, "none");
  EXPECT_NE(result.diff.find("+++ win10 (with the fixes)"), std::string::npos);
  // A second run finds the fixes in place.
  ApplyResult again = apply();
  EXPECT_FALSE(again.defined);
  EXPECT_EQ(list_backups(options_.backup_dir, "win10").size(), 1u);
}

TEST_F(ApplyFixes, RefusedDefineRollsBackAndNamesTheFix) {
  hv_.fail_define_number = hv_.defines + 1;  // the next define: the fixes
  try {
    apply();
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot apply the fixes to domain 'win10'"), std::string::npos) << what;
    EXPECT_NE(what.find("defined again from backup"), std::string::npos) << what;
  }
  EXPECT_EQ(hv_.definitions.at("win10"), original_);
}

TEST_F(ApplyFixes, SettingLibvirtDropsIsCaughtAndRolledBack) {
  // A libvirt that silently drops <stimer>: the read-back check sees it.
  hv_.on_define = [](const std::string& xml) {
    std::string out = xml;
    auto at = out.find("<stimer state='on'/>");
    if (at != std::string::npos) out.erase(at, std::string("<stimer state='on'/>").size());
    return out;
  };
  try {
    apply();
    FAIL() << "expected ApplyError";
  } catch (const ApplyError& e) {
    EXPECT_NE(std::string(e.what()).find("<hyperv> has no stimer state='on'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(hv_.definitions.at("win10"), original_);
}

TEST_F(ApplyFixes, RestoreUndoesThem) {
  ApplyResult result = apply();
  restore_backup(hv_, "win10", result.backup, options_.backup_dir);
  EXPECT_EQ(hv_.definitions.at("win10"), original_);
}

}  // namespace
}  // namespace vpt
