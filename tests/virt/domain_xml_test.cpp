#include "common/unified_diff.hpp"
#include "virt/domain_xml.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
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
    // Which vCPUs these name follows the plan's count (libvirt refuses others).
    for (pugi::xml_node n : cputune.children())
      if (std::string_view(n.name()) == "vcpusched" || std::string_view(n.name()) == "cachetune" ||
          std::string_view(n.name()) == "memorytune")
        n.remove_attribute("vcpus");
    if (!cputune.first_child()) root.remove_child(cputune);
  }
  if (pugi::xml_node cpu = root.child("cpu")) {
    for (pugi::xml_node cell : cpu.child("numa").children("cell")) cell.remove_attribute("cpus");
    for (const char* name : {"topology", "cache", "model", "vendor"})
      while (pugi::xml_node n = cpu.child(name)) cpu.remove_child(n);
    while (pugi::xml_node n = cpu.find_child_by_attribute("feature", "name", "topoext")) cpu.remove_child(n);
    for (const char* attr : {"mode", "check", "migratable", "match"}) cpu.remove_attribute(attr);
    if (!cpu.first_child()) root.remove_child(cpu);
  }
  // Which iothread serves a device is the plan's too; a <driver> added only for it goes.
  for (pugi::xpath_node hit : root.child("devices").select_nodes(".//driver[@iothread]")) {
    pugi::xml_node driver = hit.node();
    driver.remove_attribute("iothread");
    if (!driver.first_attribute() && !driver.first_child()) driver.parent().remove_child(driver);
  }
  for (pugi::xpath_node hit : root.child("devices").select_nodes(".//driver[@name='qemu' and count(@*)=1]"))
    hit.node().parent().remove_child(hit.node());
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

TEST(PatchDomain, MovesADiskOffAnIothreadThePlanDrops) {
  // db01's disks vda, vdb, vdc use iothreads 1, 2, 5; the plan keeps two (ids 1 and 2).
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}}, {1, 1, 4, 2});
  PatchResult r = patch_domain(sample("linux-server.xml"), plan);
  Domain d = parse_domain_xml(r.xml, "x");
  ASSERT_EQ(d.iothread_devices.size(), 3u);
  EXPECT_EQ(d.iothread_devices[0].iothread, 1u);
  EXPECT_EQ(d.iothread_devices[1].iothread, 2u);
  EXPECT_EQ(d.iothread_devices[2].iothread, 1u);  // both are used once: the first id
  EXPECT_NE(std::find(r.notes.begin(), r.notes.end(),
                      "disk vdc moves from iothread 5, which the plan drops, to I/O thread 1"),
            r.notes.end());
}

TEST(PatchDomain, RefusesToDropAnIothreadAQueueMappingNames) {
  std::string xml = sample("linux-server.xml");
  const std::string driver = "<driver name='qemu' type='raw' cache='none' io='native' iothread='5'/>";
  xml.replace(xml.find(driver), driver.size(),
              "<driver name='qemu' type='raw'><iothreads><iothread id='5'/></iothreads></driver>");
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}}, {1, 1, 4, 2});
  try {
    patch_domain_xml(xml, plan);
    FAIL() << "expected DomainInputError";
  } catch (const DomainInputError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot patch domain 'db01': its <disk> maps queues to iothread 5, but the plan has 2 iothread(s) (ids 1,2)");
  }
}

TEST(AttachIothreads, SpreadsThemOverTheVirtioDisksAndControllers) {
  const std::string xml = R"(<domain type='kvm'>
  <name>io</name>
  <devices>
    <disk type='file' device='disk'>
      <source file='/a.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <target dev='sda' bus='sata'/>
    </disk>
    <disk type='file' device='disk'>
      <target dev='sdb' bus='scsi'/>
      <address type='drive' controller='0'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='vhostuser' device='disk'>
      <target dev='vdc' bus='virtio'/>
    </disk>
  </devices>
</domain>
)";
  PatchResult r = attach_iothreads(xml, 2);
  Domain d = parse_domain_xml(r.xml, "io");
  EXPECT_EQ(d.iothreads, 2u);
  ASSERT_EQ(d.iothread_devices.size(), 3u);  // vda, vdb, the virtio-scsi controller (sdb goes through it)
  EXPECT_EQ(d.iothread_devices[0].label, "disk vda");
  EXPECT_EQ(d.iothread_devices[0].iothread, 1u);
  EXPECT_EQ(d.iothread_devices[1].iothread, 2u);
  EXPECT_EQ(d.iothread_devices[2].label, "virtio-scsi controller 0");
  EXPECT_EQ(d.iothread_devices[2].iothread, 1u);
  // vhost-user-blk runs outside QEMU: no I/O thread of QEMU's serves it.
  EXPECT_EQ(d.unservable_disks, (std::vector<std::string>{"disk sda (sata)", "disk vdc (vhost-user)"}));
  // A disk without <driver> gets one, on a line of its own; the other keeps its attributes.
  EXPECT_NE(r.xml.find("    <disk type='file' device='disk'>\n      <driver name='qemu' iothread='1'/>\n"
                       "      <source file='/a.img'/>"),
            std::string::npos) << r.xml;
  EXPECT_NE(r.xml.find("<driver name='qemu' type='raw' iothread='2'/>"), std::string::npos);
  EXPECT_NE(r.xml.find("    <controller type='scsi' index='0' model='virtio-scsi'>\n      <driver iothread='1'/>\n"
                       "    </controller>\n"),
            std::string::npos) << r.xml;
  EXPECT_EQ(r.notes.size(), 3u);
  // Again: nothing left to do.
  PatchResult again = attach_iothreads(r.xml, 2);
  EXPECT_EQ(again.xml, r.xml);
  EXPECT_TRUE(again.notes.empty());
  // None: the devices name none, and <iothreads> goes.
  Domain none = parse_domain_xml(attach_iothreads(r.xml, 0).xml, "io");
  EXPECT_EQ(none.iothreads, 0u);
  for (const IothreadDevice& dev : none.iothread_devices) EXPECT_FALSE(dev.iothread) << dev.label;
}

TEST(AttachIothreads, DropsPinsOfIothreadsTheDomainNoLongerHas) {
  // db01 patched with three pinned iothreads (ids 1, 2, 5), then cut to one.
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2});
  PatchResult r = attach_iothreads(patch_domain_xml(sample("linux-server.xml"), plan), 1);
  Domain d = parse_domain_xml(r.xml, "db01");
  EXPECT_EQ(d.iothread_ids, std::vector<unsigned>{1});
  EXPECT_EQ(d.iothreadpins.size(), 1u);
  for (const IothreadDevice& dev : d.iothread_devices) EXPECT_EQ(dev.iothread, 1u) << dev.label;
}

TEST(PatchDomain, GuestNumaCellsAndMemnodesFollowThePlan) {
  // 4 vCPUs over host nodes 0 and 1, two per node; custom-cpu.xml has 8 GiB and one cell (0-3).
  GuestPlan plan = make_plan(4, 0, CpuSet{0}, {CpuSet{1}}, {2, 1, 2, 1});
  plan.memory_nodes = CpuSet{0, 1};
  plan.numa_cells = {{0, CpuSet{0, 1}, 0, std::nullopt}, {1, CpuSet{2, 3}, 1, std::nullopt}};
  PatchResult r = patch_domain(sample("custom-cpu.xml"), plan);
  Domain d = parse_domain_xml(r.xml, "x");
  ASSERT_EQ(d.numa_cells.size(), 2u);
  EXPECT_EQ(d.numa_cells[0].vcpus, (CpuSet{0, 1}));
  EXPECT_EQ(d.numa_cells[1].vcpus, (CpuSet{2, 3}));
  // The domain's 8388608 KiB split by vCPUs: 4 GiB each.
  EXPECT_EQ(d.numa_cells[0].memory_bytes, 4ull << 30);
  EXPECT_EQ(d.numa_cells[1].memory_bytes, 4ull << 30);
  EXPECT_EQ(d.numa_cells[0].memnode_nodeset, CpuSet{0});
  EXPECT_EQ(d.numa_cells[1].memnode_nodeset, CpuSet{1});
  EXPECT_EQ(d.numa_cells[1].memnode_mode, "strict");
  EXPECT_EQ(d.numatune_nodeset, (CpuSet{0, 1}));
  EXPECT_NE(r.xml.find("    <numa>\n      <cell id='0' cpus='0-1' memory='4194304' unit='KiB'/>\n"
                       "      <cell id='1' cpus='2-3' memory='4194304' unit='KiB'/>\n    </numa>\n"),
            std::string::npos) << r.xml;
  EXPECT_NE(r.xml.find("  <numatune>\n    <memory mode='strict' nodeset='0-1'/>\n"
                       "    <memnode cellid='0' mode='strict' nodeset='0'/>\n"
                       "    <memnode cellid='1' mode='strict' nodeset='1'/>\n  </numatune>\n"),
            std::string::npos) << r.xml;
  EXPECT_EQ(patch_domain_xml(r.xml, plan), r.xml);  // patching again changes nothing
  // Memory given by the plan wins over the split of <memory>.
  plan.numa_cells[0].memory_bytes = 2ull << 30;
  plan.numa_cells[1].memory_bytes = 6ull << 30;
  d = parse_domain_xml(patch_domain_xml(sample("custom-cpu.xml"), plan), "x");
  EXPECT_EQ(d.numa_cells[1].memory_bytes, 6ull << 30);
}

TEST(PlanSnippet, NumaCellsWithoutKnownMemorySayWhatToAdd) {
  GuestPlan plan = make_plan(4, 0, CpuSet{0}, {}, {2, 1, 2, 1});
  plan.memory_nodes = CpuSet{0, 1};
  plan.numa_cells = {{0, CpuSet{0, 1}, 0, std::nullopt}, {1, CpuSet{2, 3}, 1, std::nullopt}};
  const std::string snippet = plan_snippet_xml(plan);
  EXPECT_NE(snippet.find("  <numa>\n    <!-- add memory='...' unit='KiB' to each cell: the guest's memory split over "
                         "the cells -->\n    <cell id='0' cpus='0-1'/>\n    <cell id='1' cpus='2-3'/>\n  </numa>\n"),
            std::string::npos) << snippet;
  EXPECT_NE(snippet.find("<memnode cellid='1' mode='strict' nodeset='1'/>"), std::string::npos);
  EXPECT_EQ(snippet.find("iothread"), std::string::npos);  // no I/O thread, no word about attaching one
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
  // placement, cpuset, custom CPU model, and vda now served by the plan's I/O thread
  ASSERT_EQ(r.notes.size(), 4u);
  EXPECT_EQ(r.notes[2], "disk vda is served by I/O thread 1 (<driver iothread='1'/>)");
  EXPECT_NE(r.xml.find("<driver name='qemu' type='qcow2' iothread='1'/>"), std::string::npos);
}

TEST(PatchDomain, KeepsVcpuCurrentAndVcpusWhenTheCountStays) {
  GuestPlan plan = make_plan(8, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 4, 2});
  const std::string patched = patch_domain_xml(sample("linux-server.xml"), plan);
  Domain d = parse_domain_xml(patched, "x");
  EXPECT_EQ(d.max_vcpus, 8u);
  EXPECT_EQ(d.current_vcpus, 6u);
  EXPECT_NE(patched.find("<vcpu id='7' enabled='no' hotpluggable='yes'/>"), std::string::npos);
}

TEST(PatchDomain, AShrinkingCountKeepsTheHotplugListOfTheVcpusThatStay) {
  // linux-server.xml: 8 vCPUs, 0-5 enabled (current='6'), 6-7 hot-pluggable, vcpusched 0-5.
  GuestPlan plan = make_plan(4, 2, CpuSet{0}, {CpuSet{0}, CpuSet{1}, CpuSet{1}}, {1, 1, 2, 2});
  PatchResult r = patch_domain(sample("linux-server.xml"), plan);
  pugi::xml_document doc = parse(r.xml);
  pugi::xml_node root = doc.document_element();
  std::vector<std::string> ids;
  for (pugi::xml_node v : root.child("vcpus").children("vcpu"))
    ids.push_back(fmt::format("{}:{}", v.attribute("id").value(), v.attribute("enabled").value()));
  EXPECT_EQ(ids, (std::vector<std::string>{"0:yes", "1:yes", "2:yes", "3:yes"}));
  EXPECT_STREQ(root.child("vcpu").attribute("current").value(), "4");
  // vcpusched named vCPUs 0-5: libvirt refuses vCPUs the domain lacks, so it keeps 0-3.
  EXPECT_STREQ(root.child("cputune").child("vcpusched").attribute("vcpus").value(), "0-3");
  EXPECT_TRUE(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
    return n == "<vcpusched vcpus='0-5'> now names vCPUs 0-3: the plan has vCPUs 0-3";
  }));
}

// libvirt-cpu-hotplug-startup.xml: 6 vCPUs, current='3', online 0, 4 and 5.
std::vector<std::string> online_vcpus(const std::string& xml) {
  std::vector<std::string> online;
  pugi::xml_document doc = parse(xml);
  for (pugi::xml_node v : doc.document_element().child("vcpus").children("vcpu"))
    if (std::string_view(v.attribute("enabled").value()) == "yes") online.push_back(v.attribute("id").value());
  return online;
}

TEST(PatchDomain, HotplugListKeepsWhichVcpusAreOnline) {
  const std::string domain = test::corpus_domain("libvirt-cpu-hotplug-startup.xml");
  auto plan = [](unsigned n) { return make_plan(n, 2, CpuSet{0}, {}, {1, 1, n, 1}); };

  const std::string same = patch_domain_xml(domain, plan(6));
  EXPECT_EQ(online_vcpus(same), (std::vector<std::string>{"0", "4", "5"}));
  EXPECT_EQ(parse_domain_xml(same, "x").current_vcpus, 3u);

  const std::string more = patch_domain_xml(domain, plan(8));
  EXPECT_EQ(online_vcpus(more), (std::vector<std::string>{"0", "4", "5"}));  // 6 and 7 come offline
  EXPECT_EQ(parse_domain_xml(more, "x").current_vcpus, 3u);
  EXPECT_NE(more.find("<vcpu id='7' enabled='no' hotpluggable='yes'/>"), std::string::npos);

  const std::string fewer = patch_domain_xml(domain, plan(4));
  EXPECT_EQ(online_vcpus(fewer), (std::vector<std::string>{"0"}));  // 4 and 5 are gone
  EXPECT_EQ(parse_domain_xml(fewer, "x").current_vcpus, 1u);
}

TEST(PatchDomain, NumadPlacedMemoryStaysNumadsWhenTheVcpusArePinned) {
  // <vcpu placement='auto'> and <memory mode='preferred'/> without nodeset: libvirt wants
  // a nodeset once <vcpu> is static, unless the memory says placement='auto' itself.
  PatchResult r = patch_domain(test::corpus_domain("libvirt-numatune-auto-prefer.xml"),
                               make_plan(4, 2, CpuSet{0}, {}, {1, 1, 4, 1}));
  pugi::xml_document doc = parse(r.xml);
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.child("vcpu").attribute("placement").value(), "static");
  EXPECT_STREQ(root.child("numatune").child("memory").attribute("placement").value(), "auto");
  EXPECT_STREQ(root.child("numatune").child("memory").attribute("mode").value(), "preferred");
  // Its one guest NUMA cell held vCPU 0; it holds the plan's four now.
  EXPECT_STREQ(root.child("cpu").child("numa").child("cell").attribute("cpus").value(), "0-3");
}

TEST(PatchDomain, GuestNumaCellsShareOutTheVcpusWhenThePlanHasNoCells) {
  const std::string domain = test::corpus_domain("numa-rt-two-cells.xml");
  auto cells = [](const std::string& xml) {
    std::vector<std::string> out;
    pugi::xml_document doc = parse(xml);
    for (pugi::xml_node c : doc.document_element().child("cpu").child("numa").children("cell"))
      out.push_back(fmt::format("{}:{}:{}{}", c.attribute("id").value(), c.attribute("cpus").value(),
                                c.attribute("memory").value(), c.attribute("unit").value()));
    return out;
  };
  PatchResult twelve = patch_domain(domain, make_plan(12, 2, CpuSet{0}, {CpuSet{1}}, {1, 1, 6, 2}));
  EXPECT_EQ(cells(twelve.xml), (std::vector<std::string>{"0:0-5:16GiB", "1:6-11:16GiB"}));
  EXPECT_NE(twelve.xml.find("<vcpusched vcpus=\"8-11\" scheduler=\"fifo\" priority=\"1\"/>"), std::string::npos);

  PatchResult five = patch_domain(domain, make_plan(5, 2, CpuSet{0}, {CpuSet{1}}, {1, 1, 5, 1}));
  EXPECT_EQ(cells(five.xml), (std::vector<std::string>{"0:0-2:16GiB", "1:3-4:16GiB"}));
  EXPECT_EQ(five.xml.find("<vcpusched"), std::string::npos);  // it named only vCPUs 8-15
  EXPECT_TRUE(std::any_of(five.notes.begin(), five.notes.end(), [](const std::string& n) {
    return n == "<vcpusched vcpus='8-15'> dropped: the plan has vCPUs 0-4";
  }));

  try {
    patch_domain(domain, make_plan(1, 2, CpuSet{0}, {CpuSet{1}}, {1, 1, 1, 1}));
    FAIL() << "one vCPU cannot fill two cells";
  } catch (const DomainInputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 2 cells with vCPUs and the plan 1 vCPUs"), std::string::npos) << e.what();
  }
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

TEST(PatchDomain, ALineInsideAValueSpanningLinesIsNotSwappedBack) {
  // Double quotes are the file's style; machine='...' spans three lines and
  // the last one closes it with '. Copied back from the original into the
  // double-quoted output, that ' would not close the value: the definition
  // would not parse (found by tests/fuzz/domain_patch_fuzz.cpp).
  const std::string xml =
      "<domain type=\"kvm\">\n  <name>a</name>\n  <vcpu placement=\"static\">4</vcpu>\n  <os>\n"
      "    <type arch=\"x86_64\" machine='pc\n  <x a=\"1\"/>\n'>hvm</type>\n  </os>\n</domain>\n";
  const std::string once = patch_domain_xml(xml, four_vcpu_plan());
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(once.c_str())) << once;
  // (An XML parser reads each line break in a value as a space.)
  EXPECT_STREQ(doc.child("domain").child("os").child("type").attribute("machine").value(), "pc   <x a=\"1\"/> ");
  EXPECT_STREQ(doc.child("domain").child("os").child_value("type"), "hvm");
  EXPECT_EQ(patch_domain_xml(once, four_vcpu_plan()), once);
}

TEST(PatchDomain, KeepsTheRootsQuoteWhenThePatchRemovesMostQuotesOfThatKind) {
  // Single-quoted owned elements (<vcpus> entries the plan drops) and a
  // double-quoted rest: counting quotes picked ' for the first patch and "
  // for the second. With a value that spans lines and holds the other quote
  // (machine=), the second patch could not copy the lines back and rewrote
  // every line in " (found by tests/fuzz/domain_patch_fuzz.cpp; its input is
  // in tests/fuzz/regressions/domain_patch).
  std::string xml = "<domain type='kvm'>\n  <name>a</name>\n  <vcpu placement='static'>8</vcpu>\n  <vcpus>\n";
  for (int v = 0; v < 8; ++v)
    xml += fmt::format("    <vcpu id='{}' enabled='yes' hotpluggable='no' order='{}'/>\n", v, v + 1);
  xml += "  </vcpus>\n  <os>\n    <type arch=\"x86_64\" machine='q35 \"x\"\n'>hvm</type>\n  </os>\n  <devices>\n";
  for (int i = 0; i < 15; ++i) xml += "    <interface type=\"bridge\">\n      <source bridge=\"br0\"/>\n    </interface>\n";
  xml += "  </devices>\n</domain>\n";
  const std::string once = patch_domain_xml(xml, four_vcpu_plan());
  EXPECT_EQ(once.find("<vcpu id='4'"), std::string::npos) << once;
  EXPECT_NE(once.find("<vcpupin vcpu='0' cpuset='4'/>"), std::string::npos) << once;
  EXPECT_NE(once.find("<source bridge=\"br0\"/>"), std::string::npos) << once;
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
            "</cpu>\n"
            "<!-- and in each virtio <disk> and virtio-scsi <controller>: <driver ... iothread='1'/> -->\n");
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

// ---- DomainTuning: what check --fix sets besides a plan ------------------------

std::vector<std::string> child_names(pugi::xml_node node) {
  std::vector<std::string> names;
  for (pugi::xml_node c : node.children())
    if (c.type() == pugi::node_element) names.push_back(c.name());
  return names;
}

TEST(PatchTuning, BuildsWhatIsMissingInLibvirtsOrder) {
  DomainTuning t;
  t.hyperv_on = {"stimer", "relaxed", "spinlocks"};  // out of order on purpose
  t.kvm_on = {"hint-dedicated"};
  t.timers = {{"hypervclock", true}, {"hpet", false}};
  t.memballoon_none = true;
  t.hugepages = true;
  t.topology = GuestTopology{1, 1, 2, 1};
  PatchResult r = patch_domain(sample("minimal.xml"), t);
  pugi::xml_document doc = parse(r.xml);
  pugi::xml_node root = doc.document_element();
  // libvirt's order of <domain>'s children (docs/formatdomain): memoryBacking before vcpu,
  // features and cpu after os, clock after cpu.
  EXPECT_EQ(child_names(root), (std::vector<std::string>{"name", "memory", "memoryBacking", "vcpu", "os", "features",
                                                         "cpu", "clock", "devices"}));
  EXPECT_EQ(child_names(root.child("features").child("hyperv")),
            (std::vector<std::string>{"relaxed", "spinlocks", "stimer"}));
  EXPECT_STREQ(root.child("features").child("hyperv").child("spinlocks").attribute("retries").value(), "8191");
  EXPECT_STREQ(root.child("features").child("kvm").child("hint-dedicated").attribute("state").value(), "on");
  EXPECT_STREQ(root.child("clock").attribute("offset").value(), "utc");  // libvirt's default: the time stays
  EXPECT_STREQ(root.child("clock").find_child_by_attribute("timer", "name", "hpet").attribute("present").value(), "no");
  EXPECT_STREQ(root.child("devices").child("memballoon").attribute("model").value(), "none");
  EXPECT_TRUE(root.child("memoryBacking").child("hugepages"));
  EXPECT_STREQ(root.child("cpu").child("topology").attribute("cores").value(), "2");
  // The same tuning again changes nothing.
  EXPECT_EQ(patch_domain(r.xml, t).xml, r.xml);
}

TEST(PatchTuning, SwitchesOnWhatIsOffAndNeverTouchesVendorId) {
  const std::string original = sample("win11-gaming.xml");
  std::string off = original;
  off.replace(off.find("<relaxed state=\"on\"/>"), 21, "<relaxed state=\"off\"/>");
  DomainTuning t;
  t.hyperv_on = {"relaxed", "vpindex", "synic", "stimer"};
  PatchResult r = patch_domain(off, t);
  Domain d = parse_domain_xml(r.xml, "x");
  for (const char* name : {"relaxed", "vpindex", "synic", "stimer"}) EXPECT_TRUE(d.hyperv.at(name)) << name;
  EXPECT_EQ(d.hyperv_vendor_id, "randomid");
  pugi::xml_document doc = parse(r.xml);
  // vpindex and synic go before vendor_id, as libvirt writes them.
  EXPECT_EQ(child_names(doc.document_element().child("features").child("hyperv")),
            (std::vector<std::string>{"relaxed", "vapic", "spinlocks", "vpindex", "synic", "stimer", "vendor_id"}));
}

TEST(PatchTuning, BalloonBecomesNoneWithoutItsAddress) {
  DomainTuning t;
  t.memballoon_none = true;
  PatchResult r = patch_domain(sample("linux-server.xml"), t);
  EXPECT_NE(r.xml.find("<memballoon model='none'/>"), std::string::npos) << r.xml;
  EXPECT_EQ(r.xml.find("bus='0x03' slot='0x00'"), std::string::npos);  // the balloon's address is gone
}

TEST(PatchTuning, HostPassthroughDropsTheModelAndSaysSo) {
  DomainTuning t;
  t.cpu_host_passthrough = true;
  PatchResult r = patch_domain(sample("custom-cpu.xml"), t);
  Domain d = parse_domain_xml(r.xml, "x");
  EXPECT_EQ(d.cpu_mode, "host-passthrough");
  EXPECT_EQ(d.cpu_migratable, "off");
  EXPECT_FALSE(d.cpu_model);
  ASSERT_TRUE(d.cpu_topology);  // kept
  EXPECT_EQ(d.cpu_topology->cores, 4u);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("<cpu mode='custom'> with model 'Skylake-Client-IBRS' becomes host-passthrough"),
            std::string::npos);
}

TEST(PatchTuning, DiskCacheAndIoModeChangeOnlyTheirDisk) {
  DomainTuning t;
  t.disk_cache_none = {"vda"};
  t.disk_io_native = {"vda"};
  PatchResult r = patch_domain(sample("linux-server.xml"), t);
  Domain d = parse_domain_xml(r.xml, "x");
  EXPECT_EQ(d.disks[0].cache, "none");
  EXPECT_EQ(d.disks[0].io, "native");
  EXPECT_EQ(d.disks[0].iothread, 1u);  // the rest of <driver> stays
  t.disk_cache_none = {"vdz"};
  EXPECT_THROW(patch_domain(sample("linux-server.xml"), t), DomainInputError);
}

TEST(PatchKeepsLines, DoubleQuotedMetadataStaysAsWritten) {
  // virsh dumpxml keeps an application's <metadata> in double quotes in a single-quoted file.
  const std::string original =
      "<domain type='kvm'>\n  <name>w</name>\n  <metadata>\n    <app:x xmlns:app=\"http://example.org/app\">\n"
      "      <app:y id=\"1\"/>\n    </app:x>\n  </metadata>\n  <vcpu placement='static'>2</vcpu>\n</domain>\n";
  DomainTuning t;
  t.hugepages = true;
  PatchResult r = patch_domain(original, t);
  EXPECT_NE(r.xml.find("    <app:x xmlns:app=\"http://example.org/app\">\n      <app:y id=\"1\"/>\n"), std::string::npos)
      << r.xml;
  EXPECT_NE(r.xml.find("<memoryBacking>"), std::string::npos);
  // The plan's patch too.
  PatchResult p = patch_domain(original, make_plan(2, 0, CpuSet{2}, {}, {1, 1, 2, 1}));
  EXPECT_NE(p.xml.find("<app:y id=\"1\"/>"), std::string::npos) << p.xml;
}

}  // namespace
}  // namespace vpt
