#include "virt/domain_xml.hpp"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "tests/virt/virt_test_util.hpp"
#include "virt/domain.hpp"

namespace vpt {
namespace {

using test::make_plan;
using test::sample;

pugi::xml_document parse(const std::string& xml) {
  pugi::xml_document doc;
  auto ok = doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_comments | pugi::parse_fragment);
  EXPECT_TRUE(ok) << ok.description() << "\n" << xml;
  return doc;
}

std::string text_of(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw);
  return out.str();
}

// Removes what the plan owns from a parsed definition, so that two trees can
// be compared on everything else.
void strip_owned(pugi::xml_node root) {
  for (const char* name : {"vcpu", "vcpus", "iothreads", "iothreadids", "numatune"})
    while (pugi::xml_node n = root.child(name)) root.remove_child(n);
  if (pugi::xml_node cputune = root.child("cputune")) {
    for (const char* name : {"vcpupin", "emulatorpin", "iothreadpin"})
      while (pugi::xml_node n = cputune.child(name)) cputune.remove_child(n);
    if (!cputune.first_child()) root.remove_child(cputune);
  }
  if (pugi::xml_node cpu = root.child("cpu")) {
    for (const char* name : {"topology", "cache", "model", "vendor"})
      while (pugi::xml_node n = cpu.child(name)) cpu.remove_child(n);
    while (pugi::xml_node n = cpu.find_child_by_attribute("feature", "name", "topoext")) cpu.remove_child(n);
    for (const char* attr : {"mode", "check", "migratable", "match"}) cpu.remove_attribute(attr);
    if (!cpu.first_child()) root.remove_child(cpu);
  }
}

std::string without_owned(const std::string& xml) {
  pugi::xml_document doc = parse(xml);
  strip_owned(doc.document_element());
  return text_of(doc);
}

GuestPlan four_vcpu_plan() {
  return make_plan(4, 4, CpuSet{0, 1}, {CpuSet{0}}, {1, 1, 2, 2});
}

struct Case {
  const char* file;
  GuestPlan plan;
};

class PatchEachSample : public ::testing::TestWithParam<std::string> {
 protected:
  // Plans that fit each sample's devices: db01's disks use iothreads 1, 2 and 5.
  std::vector<GuestPlan> plans() const {
    std::vector<CpuSet> three{CpuSet{0}, CpuSet{1}, CpuSet{0, 1}};
    GuestPlan amd = make_plan(6, 2, CpuSet{0}, three, {1, 1, 3, 2});
    amd.require_topoext = true;
    amd.memory_nodes = CpuSet{0};
    return {make_plan(4, 4, CpuSet{0, 1}, three, {1, 1, 2, 2}), amd,
            make_plan(8, 8, CpuSet{}, three, {2, 1, 4, 1})};
  }
};

TEST_P(PatchEachSample, ChangesNothingButTheOwnedElements) {
  const std::string original = sample(GetParam());
  for (const GuestPlan& plan : plans()) {
    const std::string patched = patch_domain_xml(original, plan);
    EXPECT_NE(patched, original);
    EXPECT_EQ(without_owned(patched), without_owned(original));
  }
}

TEST_P(PatchEachSample, PatchingTwiceGivesTheSameBytes) {
  const std::string original = sample(GetParam());
  for (const GuestPlan& plan : plans()) {
    const std::string once = patch_domain_xml(original, plan);
    EXPECT_EQ(patch_domain_xml(once, plan), once);
  }
}

TEST_P(PatchEachSample, OutputReadsBackAsThePlan) {
  const std::string original = sample(GetParam());
  for (const GuestPlan& plan : plans()) {
    Domain d = parse_domain_xml(patch_domain_xml(original, plan), "patched");
    EXPECT_EQ(d.max_vcpus, plan.vcpus.size());
    ASSERT_EQ(d.vcpupins.size(), plan.vcpus.size());
    for (unsigned i = 0; i < plan.vcpus.size(); ++i) EXPECT_EQ(d.vcpupins.at(i), CpuSet{plan.vcpus[i]}) << i;
    if (plan.emulator.empty()) EXPECT_FALSE(d.emulatorpin);
    else EXPECT_EQ(d.emulatorpin, plan.emulator);
    EXPECT_EQ(d.iothreads, plan.iothreads.size());
    ASSERT_EQ(d.iothreadpins.size(), plan.iothreads.size());
    for (unsigned i = 0; i < plan.iothreads.size(); ++i)
      EXPECT_EQ(d.iothreadpins.at(d.iothread_ids.at(i)), plan.iothreads[i]);
    EXPECT_EQ(d.cpu_mode, d.type == "qemu" ? "maximum" : "host-passthrough");
    ASSERT_TRUE(d.cpu_topology);
    EXPECT_EQ(d.cpu_topology->sockets, plan.topology.sockets);
    EXPECT_EQ(d.cpu_topology->dies, plan.topology.dies);
    EXPECT_EQ(d.cpu_topology->cores, plan.topology.cores);
    EXPECT_EQ(d.cpu_topology->threads, plan.topology.threads);
    EXPECT_TRUE(d.cache_passthrough);
    if (plan.require_topoext) {
      EXPECT_TRUE(d.require_topoext);
    }
    if (!plan.memory_nodes.empty()) {
      EXPECT_EQ(d.numatune_mode, "strict");
      EXPECT_EQ(d.numatune_nodeset, plan.memory_nodes);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DataDomains, PatchEachSample,
                         ::testing::Values("win11-gaming.xml", "linux-server.xml", "minimal.xml", "custom-cpu.xml"),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(PatchDomain, SamePinsAsTheHandWrittenOnesOnlyAddDies) {
  // win11-gaming.xml is pinned by hand exactly like this plan, minus dies='1'.
  GuestPlan plan = make_plan(16, 0, CpuSet{16}, {CpuSet{17}}, {1, 1, 8, 2});
  const std::string original = sample("win11-gaming.xml");
  std::string expected = original;
  const std::string before = R"(<topology sockets="1" cores="8" threads="2"/>)";
  expected.replace(expected.find(before), before.size(), R"(<topology sockets="1" dies="1" cores="8" threads="2"/>)");
  EXPECT_EQ(patch_domain_xml(original, plan), expected);
}

TEST(PatchDomain, InsertsCputuneIothreadsAndCpuWhereLibvirtPutsThem) {
  const std::string patched = patch_domain_xml(sample("minimal.xml"), four_vcpu_plan());
  pugi::xml_document doc = parse(patched);
  std::vector<std::string> order;
  for (pugi::xml_node child : doc.document_element().children()) order.push_back(child.name());
  EXPECT_EQ(order, (std::vector<std::string>{"name", "memory", "vcpu", "iothreads", "cputune", "os", "cpu",
                                             "devices"}));
  // Inserted elements are indented like their neighbours.
  EXPECT_NE(patched.find("\n  <cputune>\n    <vcpupin vcpu='0' cpuset='4'/>\n"), std::string::npos) << patched;
  EXPECT_NE(patched.find("\n    <iothreadpin iothread='1' cpuset='0'/>\n  </cputune>\n"), std::string::npos);
  // minimal.xml is a TCG domain (type='qemu'): QEMU's max CPU, not host-passthrough.
  EXPECT_NE(patched.find("  <cpu mode='maximum' check='none' migratable='off'>\n"
                         "    <topology sockets='1' dies='1' cores='2' threads='2'/>\n"
                         "    <cache mode='passthrough'/>\n  </cpu>\n"),
            std::string::npos);
}

TEST(PatchDomain, KeepsOtherCputuneChildrenInTheirOrder) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0, 1}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2});
  pugi::xml_document doc = parse(patch_domain_xml(sample("linux-server.xml"), plan));
  std::vector<std::string> order;
  for (pugi::xml_node child : doc.document_element().child("cputune").children()) order.push_back(child.name());
  std::vector<std::string> expected{"shares", "period", "quota"};
  expected.insert(expected.end(), 8, "vcpupin");
  expected.insert(expected.end(), {"emulatorpin", "iothreadpin", "iothreadpin", "iothreadpin", "vcpusched"});
  EXPECT_EQ(order, expected);
  EXPECT_STREQ(doc.document_element().child("cputune").child_value("shares"), "2048");
}

TEST(PatchDomain, PinsIothreadsByTheIdsInIothreadids) {
  // db01 lists iothread ids 1, 2, 5: the plan's third iothread is id 5.
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{9}}, {1, 1, 4, 2});
  Domain d = parse_domain_xml(patch_domain_xml(sample("linux-server.xml"), plan), "x");
  EXPECT_EQ(d.iothread_ids, (std::vector<unsigned>{1, 2, 5}));
  EXPECT_EQ(d.iothreadpins.at(5), CpuSet{9});
}

TEST(PatchDomain, AddsTheSmallestUnusedIothreadIdForAnExtraIothread) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}, CpuSet{0}}, {1, 1, 4, 2});
  const std::string patched = patch_domain_xml(sample("linux-server.xml"), plan);
  Domain d = parse_domain_xml(patched, "x");
  EXPECT_EQ(d.iothreads, 4u);
  EXPECT_EQ(d.iothread_ids, (std::vector<unsigned>{1, 2, 5, 3}));
  EXPECT_NE(patched.find("    <iothread id='5'/>\n    <iothread id='3'/>\n  </iothreadids>"), std::string::npos);
}

TEST(PatchDomain, RefusesToDropAnIothreadADiskUses) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}}, {1, 1, 4, 2});
  try {
    patch_domain_xml(sample("linux-server.xml"), plan);
    FAIL() << "expected DomainInputError";
  } catch (const DomainInputError& e) {
    EXPECT_STREQ(e.what(), "cannot patch domain 'db01': its <disk> uses iothread 5, but the plan has 2 iothread(s) (ids 1,2)");
  }
}

TEST(PatchDomain, HostModelBecomesHostPassthroughAndKeepsItsFeatures) {
  PatchResult r = patch_domain(sample("linux-server.xml"),
                               make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2}));
  pugi::xml_document doc = parse(r.xml);  // kept: the node lives in it (ASan found a use after free)
  pugi::xml_node cpu = doc.document_element().child("cpu");
  EXPECT_STREQ(cpu.attribute("mode").value(), "host-passthrough");
  EXPECT_STREQ(cpu.attribute("check").value(), "none");
  EXPECT_STREQ(cpu.find_child_by_attribute("feature", "name", "svm").attribute("policy").value(), "disable");
  ASSERT_FALSE(r.notes.empty());
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(),
                          [](const std::string& n) { return n.find("host-model") != std::string::npos; }));
}

TEST(PatchDomain, CustomCpuLosesModelAndVendorButKeepsFeaturesAndNumaCells) {
  GuestPlan plan = make_plan(4, 4, CpuSet{0}, {CpuSet{1}}, {1, 1, 4, 1});
  plan.require_topoext = true;
  pugi::xml_document doc = parse(patch_domain_xml(sample("custom-cpu.xml"), plan));
  pugi::xml_node cpu = doc.document_element().child("cpu");
  EXPECT_FALSE(cpu.child("model"));
  EXPECT_FALSE(cpu.child("vendor"));
  EXPECT_FALSE(cpu.attribute("match"));
  std::vector<std::string> children;
  for (pugi::xml_node c : cpu.children())
    children.push_back(std::string(c.name()) + (c.attribute("name") ? std::string(":") + c.attribute("name").value() : ""));
  EXPECT_EQ(children, (std::vector<std::string>{"topology", "cache", "feature:pcid", "feature:hle", "feature:topoext",
                                                "numa"}));
  EXPECT_STREQ(cpu.child("numa").child("cell").attribute("cpus").value(), "0-3");
}

TEST(PatchDomain, DropsVcpuPlacementAutoAndCpusetForStaticPins) {
  PatchResult r = patch_domain(sample("custom-cpu.xml"), make_plan(4, 4, CpuSet{0}, {CpuSet{1}}, {1, 1, 4, 1}));
  EXPECT_NE(r.xml.find("\n  <vcpu placement='static'>4</vcpu>\n"), std::string::npos);
  EXPECT_EQ(r.notes.size(), 3u);  // placement, cpuset, custom CPU model
}

TEST(PatchDomain, KeepsVcpuCurrentAndVcpusWhenTheCountStays) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2});
  const std::string patched = patch_domain_xml(sample("linux-server.xml"), plan);
  Domain d = parse_domain_xml(patched, "x");
  EXPECT_EQ(d.max_vcpus, 8u);
  EXPECT_EQ(d.current_vcpus, 6u);
  EXPECT_NE(patched.find("<vcpu id='7' enabled='no' hotpluggable='yes'/>"), std::string::npos);
}

TEST(PatchDomain, DropsVcpusAndTooHighCurrentWhenTheCountShrinks) {
  GuestPlan plan = make_plan(4, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 2, 2});
  PatchResult r = patch_domain(sample("linux-server.xml"), plan);
  pugi::xml_document doc = parse(r.xml);
  EXPECT_FALSE(doc.document_element().child("vcpus"));
  EXPECT_FALSE(doc.document_element().child("vcpu").attribute("current"));
  // vcpusched names vCPUs 0-5: the user is told, the element is not ours to edit.
  EXPECT_STREQ(doc.document_element().child("cputune").child("vcpusched").attribute("vcpus").value(), "0-5");
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(),
                          [](const std::string& n) { return n.find("<vcpusched vcpus='0-5'>") != std::string::npos; }));
}

TEST(PatchDomain, KeepsCommentsWhereTheyWere) {
  const std::string original = sample("win11-gaming.xml");
  const std::string patched = patch_domain_xml(original, four_vcpu_plan());
  for (const char* comment : {"<!-- Hand-pinned after lscpu -e", "<!-- Game library", "<!-- Keyboard and mouse",
                              "<!-- RTX 4070"})
    EXPECT_NE(patched.find(comment), std::string::npos) << comment;
  // The comment above <cputune> still directly precedes it.
  EXPECT_NE(patched.find("for the host. -->\n  <cputune>\n"), std::string::npos);
  const std::string custom = patch_domain_xml(sample("custom-cpu.xml"), four_vcpu_plan());
  EXPECT_EQ(custom.substr(0, custom.find("<domain")),
            sample("custom-cpu.xml").substr(0, sample("custom-cpu.xml").find("<domain")));
  EXPECT_NE(custom.find("<cputune>\n    <!-- CI builder"), std::string::npos);
}

TEST(PatchDomain, KeepsTheFilesQuoteStyle) {
  const std::string patched = patch_domain_xml(sample("win11-gaming.xml"), four_vcpu_plan());
  EXPECT_NE(patched.find(R"(<vcpupin vcpu="3" cpuset="7"/>)"), std::string::npos);
  EXPECT_EQ(patched.find("='"), std::string::npos);
}

TEST(PatchDomain, KeepsEntitiesAndCrLfLineEnds) {
  const std::string original =
      "<domain type='kvm'>\r\n  <name>a</name>\r\n  <description>It&apos;s &quot;fast&quot; &amp; &lt;big&gt;</description>\r\n"
      "  <vcpu>2</vcpu>\r\n</domain>\r\n";
  const std::string patched = patch_domain_xml(original, four_vcpu_plan());
  EXPECT_NE(patched.find("<description>It&apos;s &quot;fast&quot; &amp; &lt;big&gt;</description>\r\n"),
            std::string::npos);
  EXPECT_EQ(patched.find("\n", 0) , patched.find("\r\n") + 1);
  for (std::size_t pos = patched.find('\n'); pos != std::string::npos; pos = patched.find('\n', pos + 1))
    EXPECT_EQ(patched[pos - 1], '\r') << "bare LF at " << pos;
}

TEST(PatchDomain, TcgDomainsAndMaximumCpusGetTheMaximumMode) {
  GuestPlan plan = four_vcpu_plan();
  const std::string tcg = "<domain type='qemu'><name>a</name><vcpu>4</vcpu><cpu mode='host-model'/></domain>";
  PatchResult r = patch_domain(tcg, plan);
  EXPECT_STREQ(parse(r.xml).document_element().child("cpu").attribute("mode").value(), "maximum");
  EXPECT_EQ(r.notes.back().rfind("<cpu mode='host-model'> becomes maximum", 0), 0u) << r.notes.back();
  const std::string kvm = "<domain type='kvm'><name>a</name><vcpu>4</vcpu><cpu mode='maximum'/></domain>";
  EXPECT_STREQ(parse(patch_domain_xml(kvm, plan)).document_element().child("cpu").attribute("mode").value(), "maximum");
  const std::string kvm_none = "<domain type='kvm'><name>a</name><vcpu>4</vcpu></domain>";
  EXPECT_STREQ(parse(patch_domain_xml(kvm_none, plan)).document_element().child("cpu").attribute("mode").value(),
               "host-passthrough");
}

TEST(PatchDomain, ExpandsASelfClosingCpuLikeTheGuideSays) {
  // The guide's starting point: virt-manager's "Copy host CPU configuration".
  const std::string original =
      "<domain type=\"kvm\">\n  <name>w</name>\n  <vcpu placement=\"static\">4</vcpu>\n"
      "  <cpu mode=\"host-passthrough\" check=\"none\" migratable=\"on\"/>\n</domain>\n";
  GuestPlan plan = four_vcpu_plan();
  plan.require_topoext = true;
  const std::string patched = patch_domain_xml(original, plan);
  EXPECT_NE(patched.find("  <cpu mode=\"host-passthrough\" check=\"none\" migratable=\"off\">\n"
                         "    <topology sockets=\"1\" dies=\"1\" cores=\"2\" threads=\"2\"/>\n"
                         "    <cache mode=\"passthrough\"/>\n"
                         "    <feature policy=\"require\" name=\"topoext\"/>\n"
                         "  </cpu>\n</domain>\n"),
            std::string::npos)
      << patched;
  EXPECT_EQ(patch_domain_xml(patched, plan), patched);
}

TEST(PatchDomain, UpdatesAnExistingTopoextFeatureInsteadOfAddingOne) {
  const std::string original =
      "<domain><name>a</name><vcpu>4</vcpu><cpu mode='host-passthrough'>"
      "<feature policy='optional' name='topoext'/></cpu></domain>";
  GuestPlan plan = four_vcpu_plan();
  plan.require_topoext = true;
  pugi::xml_document doc = parse(patch_domain_xml(original, plan));
  pugi::xml_node cpu = doc.document_element().child("cpu");
  EXPECT_EQ(std::distance(cpu.children("feature").begin(), cpu.children("feature").end()), 1);
  EXPECT_STREQ(cpu.child("feature").attribute("policy").value(), "require");
}

TEST(PatchDomain, LeavesNumatuneAloneWhenThePlanDoesNotPlaceMemory) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2});
  const std::string patched = patch_domain_xml(sample("linux-server.xml"), plan);
  EXPECT_NE(patched.find("<memory mode='preferred' nodeset='0'/>"), std::string::npos);
}

TEST(PatchDomain, CompactXmlStaysCompact) {
  const std::string patched =
      patch_domain_xml("<domain><name>a</name><vcpu>1</vcpu><devices/></domain>", four_vcpu_plan());
  EXPECT_EQ(patched.find('\n'), std::string::npos) << patched;
  EXPECT_EQ(patch_domain_xml(patched, four_vcpu_plan()), patched);
}

// Found by fuzzing (tests/fuzz/regressions/domain_patch): text that is not
// only layout in front of the pins grew a blank line on every patch.
TEST(PatchDomain, StrayTextInCputuneDoesNotGrowWithEveryPatch) {
  const std::string xml =
      "<domain type='kvm'>\n  <name>a</name>\n  <vcpu>4</vcpu>\n  <cputune>\n    stray words\n"
      "    <vcpupin vcpu='0' cpuset='1'/>\n  </cputune>\n</domain>\n";
  std::string once = patch_domain_xml(xml, four_vcpu_plan());
  EXPECT_EQ(patch_domain_xml(once, four_vcpu_plan()), once);
  EXPECT_NE(once.find("    stray words\n    <vcpupin vcpu='0' cpuset='4'/>"), std::string::npos) << once;
  // The same with spaces after the words, before a <vendor> the patch removes.
  const std::string custom =
      "<domain type='kvm'>\n  <name>a</name>\n  <vcpu>4</vcpu>\n  <cpu mode='custom'>\n    <model>EPYC</model>\n"
      "  +  <vendor>AMD</vendor>\n    <topology sockets='1' dies='1' cores='4' threads='1'/>\n  </cpu>\n</domain>\n";
  once = patch_domain_xml(custom, four_vcpu_plan());
  EXPECT_EQ(patch_domain_xml(once, four_vcpu_plan()), once);
}

TEST(PatchDomain, RejectsMalformedAndNonDomainXml) {
  EXPECT_THROW(patch_domain_xml("<domain><name>a</name>", four_vcpu_plan()), DomainInputError);
  EXPECT_THROW(patch_domain_xml("<network><name>a</name></network>", four_vcpu_plan()), DomainInputError);
  EXPECT_THROW(patch_domain_xml("", four_vcpu_plan()), DomainInputError);
}

TEST(PlanSnippet, HoldsEveryOwnedElementInPasteableForm) {
  GuestPlan plan = make_plan(2, 6, CpuSet{0, 1}, {CpuSet{1}}, {1, 1, 1, 2});
  plan.require_topoext = true;
  plan.memory_nodes = CpuSet{1};
  EXPECT_EQ(plan_snippet_xml(plan),
            "<vcpu placement='static'>2</vcpu>\n"
            "<iothreads>1</iothreads>\n"
            "<cputune>\n"
            "  <vcpupin vcpu='0' cpuset='6'/>\n"
            "  <vcpupin vcpu='1' cpuset='7'/>\n"
            "  <emulatorpin cpuset='0-1'/>\n"
            "  <iothreadpin iothread='1' cpuset='1'/>\n"
            "</cputune>\n"
            "<numatune>\n"
            "  <memory mode='strict' nodeset='1'/>\n"
            "</numatune>\n"
            "<cpu mode='host-passthrough' check='none' migratable='off'>\n"
            "  <topology sockets='1' dies='1' cores='1' threads='2'/>\n"
            "  <cache mode='passthrough'/>\n"
            "  <feature policy='require' name='topoext'/>\n"
            "</cpu>\n");
}

TEST(UnifiedDiff, IsEmptyForEqualTexts) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiff, PrintsOneHunkWithContext) {
  EXPECT_EQ(unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n", "old", "new"),
            "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, SplitsFarApartChangesIntoHunks) {
  std::string a, b;
  for (int i = 1; i <= 20; ++i) {
    a += std::to_string(i) + "\n";
    b += (i == 2 ? std::string("two") : i == 18 ? std::string("eighteen") : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(unified_diff(a, b, "a", "b"),
            "--- a\n+++ b\n"
            "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n");
}

TEST(UnifiedDiff, NumbersInsertionsIntoAnEmptyFileAndMarksAMissingNewline) {
  EXPECT_EQ(unified_diff("", "a\nb", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n");
}

}  // namespace
}  // namespace vpt
