#include "virt/domain.hpp"

#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"

namespace vpt {
namespace {

using test::sample;

TEST(ParseDomain, ReadsTheGamingVmLikeTheGuideWroteIt) {
  Domain d = parse_domain_xml(sample("win11-gaming.xml"), "win11-gaming.xml");
  EXPECT_EQ(d.name, "win11");
  EXPECT_EQ(d.uuid, "0c6f3f4e-9a55-4c1f-8d0b-5f3e2a7d1b90");
  EXPECT_EQ(d.type, "kvm");
  EXPECT_EQ(d.max_vcpus, 16u);
  EXPECT_EQ(d.current_vcpus, 16u);
  ASSERT_EQ(d.vcpupins.size(), 16u);
  EXPECT_EQ(d.vcpupins.at(9), CpuSet{9});
  EXPECT_EQ(d.emulatorpin, CpuSet{16});
  EXPECT_EQ(d.iothreads, 1u);
  EXPECT_EQ(d.iothread_ids, std::vector<unsigned>{1});
  EXPECT_EQ(d.iothreadpins.at(1), CpuSet{17});
  EXPECT_EQ(d.cpu_mode, "host-passthrough");
  ASSERT_TRUE(d.cpu_topology);
  EXPECT_EQ(d.cpu_topology->cores, 8u);
  EXPECT_EQ(d.cpu_topology->threads, 2u);
  EXPECT_EQ(d.cpu_topology->dies, 1u);  // not written: libvirt's default
  EXPECT_TRUE(d.cache_passthrough);
  EXPECT_FALSE(d.require_topoext);
  EXPECT_EQ(d.hostdevs, (std::vector<std::string>{"0000:01:00.0", "0000:01:00.1"}));
  EXPECT_FALSE(d.numatune_nodeset);
}

TEST(ParseDomain, ReadsHotplugVcpusIothreadIdsAndHostModel) {
  Domain d = parse_domain_xml(sample("linux-server.xml"), "linux-server.xml");
  EXPECT_EQ(d.max_vcpus, 8u);
  EXPECT_EQ(d.current_vcpus, 6u);
  EXPECT_EQ(d.iothreads, 3u);
  EXPECT_EQ(d.iothread_ids, (std::vector<unsigned>{1, 2, 5}));
  EXPECT_TRUE(d.vcpupins.empty());
  EXPECT_EQ(d.emulatorpin, (CpuSet{0, 1}));
  EXPECT_EQ(d.cpu_mode, "host-model");
  EXPECT_FALSE(d.cpu_topology);
  EXPECT_EQ(d.numatune_mode, "preferred");
  EXPECT_EQ(d.numatune_nodeset, CpuSet{0});
  EXPECT_TRUE(d.hostdevs.empty());
}

TEST(ParseDomain, MinimalDomainHasNoTuning) {
  Domain d = parse_domain_xml(sample("minimal.xml"), "minimal.xml");
  EXPECT_EQ(d.name, "tiny");
  EXPECT_EQ(d.uuid, "");
  EXPECT_EQ(d.max_vcpus, 2u);
  EXPECT_EQ(d.iothreads, 0u);
  EXPECT_FALSE(d.cpu_mode);
  EXPECT_FALSE(d.emulatorpin);
}

TEST(ParseDomain, CustomCpuAndCpusetExclusions) {
  Domain d = parse_domain_xml(sample("custom-cpu.xml"), "custom-cpu.xml");
  EXPECT_EQ(d.cpu_mode, "custom");
  EXPECT_EQ(d.cpu_model, "Skylake-Client-IBRS");
  EXPECT_EQ(parse_libvirt_cpuset("0-7,^3"), (CpuSet{0, 1, 2, 4, 5, 6, 7}));
  EXPECT_EQ(parse_libvirt_cpuset("0-2,^0,0"), (CpuSet{0, 1, 2}));
  EXPECT_THROW(parse_libvirt_cpuset("1,^1"), std::invalid_argument);
}

TEST(ParseDomain, IothreadsWithoutIdsAreNumberedFromOne) {
  Domain d = parse_domain_xml("<domain><name>a</name><iothreads>3</iothreads></domain>", "a.xml");
  EXPECT_EQ(d.iothread_ids, (std::vector<unsigned>{1, 2, 3}));
  // libvirt fills ids missing from <iothreadids> with the smallest unused ones.
  d = parse_domain_xml(
      "<domain><name>a</name><iothreads>3</iothreads><iothreadids><iothread id='2'/></iothreadids></domain>", "a");
  EXPECT_EQ(d.iothread_ids, (std::vector<unsigned>{2, 1, 3}));
}

TEST(ParseDomain, ReadsWhatCheckReviews) {
  Domain d = parse_domain_xml(sample("win11-gaming.xml"), "win11-gaming.xml");
  EXPECT_EQ(d.memory_bytes, 16777216ull * 1024);  // <memory unit="KiB">16777216</memory>
  EXPECT_EQ(d.os_id, "http://microsoft.com/win/11");
  EXPECT_EQ(d.machine, "pc-q35-8.2");
  EXPECT_EQ(d.cpu_migratable, "off");
  EXPECT_EQ(d.hyperv_mode, "custom");
  EXPECT_TRUE(d.hyperv.at("relaxed"));
  EXPECT_TRUE(d.hyperv.at("spinlocks"));
  EXPECT_FALSE(d.hyperv.count("stimer"));
  EXPECT_EQ(d.hyperv_vendor_id, "randomid");
  EXPECT_TRUE(d.kvm_features.at("hidden"));
  EXPECT_EQ(d.timers.at("hpet"), false);
  EXPECT_EQ(d.timers.at("hypervclock"), true);
  EXPECT_EQ(d.timers.at("rtc"), std::nullopt);  // no present= written
  EXPECT_FALSE(d.hugepages);
  EXPECT_EQ(d.memballoon_model, "none");
  ASSERT_EQ(d.disks.size(), 2u);
  EXPECT_EQ(d.disks[0].target, "sda");
  EXPECT_EQ(d.disks[0].bus, "scsi");
  EXPECT_EQ(d.disks[0].cache, "writeback");
  EXPECT_EQ(d.disks[0].io, "threads");
  EXPECT_EQ(d.disks[0].controller, 0u);
  EXPECT_EQ(d.disks[1].type, "block");
  EXPECT_EQ(d.disks[1].bus, "sata");
  ASSERT_EQ(d.controllers.size(), 3u);
  EXPECT_EQ(d.controllers[0].model, "virtio-scsi");
  EXPECT_EQ(d.controllers[0].iothread, 1u);
  EXPECT_EQ(d.controllers[0].queues, 8u);
}

TEST(ParseDomain, MemoryUnitsAndHugepageSizes) {
  auto with = [](const std::string& body) {
    return parse_domain_xml("<domain><name>m</name>" + body + "</domain>", "m.xml");
  };
  EXPECT_EQ(with("<memory unit='GiB'>4</memory>").memory_bytes, 4ull << 30);
  EXPECT_EQ(with("<memory unit='MB'>3</memory>").memory_bytes, 3000000u);
  EXPECT_EQ(with("<memory>1024</memory>").memory_bytes, 1024u * 1024);  // KiB by default
  Domain d = with("<memory unit='G'>8</memory><memoryBacking><hugepages><page size='1' unit='G'/></hugepages>"
                  "</memoryBacking>");
  EXPECT_TRUE(d.hugepages);
  EXPECT_EQ(d.hugepage_bytes, 1ull << 30);
  EXPECT_FALSE(with("<memoryBacking><hugepages/></memoryBacking>").hugepage_bytes);
  EXPECT_THROW(with("<memory unit='parsecs'>4</memory>"), DomainInputError);
  // libvirt's units are case-insensitive; a letter + "B" is a power of 1000
  // (tests/corpus/domains/README.md, "Memory units").
  EXPECT_EQ(with("<memory unit='mib'>500</memory>").memory_bytes, 500ull << 20);
  EXPECT_EQ(with("<memory unit='K'>1024</memory>").memory_bytes, 1024ull * 1024);
  EXPECT_EQ(with("<memory unit='gb'>8</memory>").memory_bytes, 8000000000ull);
  EXPECT_EQ(with("<memory unit='GB'>8</memory>").memory_bytes, 8000000000ull);
  EXPECT_EQ(with("<memory unit='tib'>1</memory>").memory_bytes, 1ull << 40);
  EXPECT_EQ(with("<memory unit=''>4</memory>").memory_bytes, 4096u);
  EXPECT_EQ(with("<memory unit='Bytes'>4096</memory>").memory_bytes, 4096u);
  EXPECT_THROW(with("<memory unit='kibi'>4</memory>"), DomainInputError);
  EXPECT_THROW(with("<memory unit='EiB'>99999</memory>"), DomainInputError);  // beyond any host
}

void expect_input_error(const std::string& xml, const std::string& message) {
  try {
    parse_domain_xml(xml, "vm.xml");
    FAIL() << "expected DomainInputError for " << xml;
  } catch (const DomainInputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ParseDomain, BadInputGivesOneClearLine) {
  expect_input_error("<domain>\n  <name>a</name>\n  <vcpu>2</vcpu>\n</domian>\n",
                     "cannot read domain 'vm.xml': not well-formed XML at line 4, column 3: Start-end tags mismatch");
  expect_input_error("<network><name>default</name></network>",
                     "cannot read domain 'vm.xml': the root element is <network>, not <domain> (expected the "
                     "output of `virsh dumpxml`)");
  expect_input_error("", "cannot read domain 'vm.xml': no XML element in the input (empty file?)");
  expect_input_error("<domain><vcpu>2</vcpu></domain>", "cannot read domain 'vm.xml': <domain> has no <name>");
  expect_input_error("<domain><name>a</name><vcpu>two</vcpu></domain>",
                     "cannot read domain 'vm.xml': <vcpu> 'two' is not a number");
  expect_input_error("<domain><name>a</name><cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>",
                     "cannot read domain 'vm.xml': <vcpupin cpuset='x'>: 'x' is not a CPU number in CPU list 'x'");
  EXPECT_THROW(load_domain_xml_file("/nonexistent/vm.xml"), DomainInputError);
}

// Found by fuzzing (docs/fuzzing.md): what libvirt reads the first of, the
// patch would edit the first of, and a second one would contradict.
TEST(ParseDomain, RefusesDuplicatedElements) {
  expect_input_error("<domain><name>a</name><vcpu>2</vcpu><vcpu>4</vcpu></domain>",
                     "cannot read domain 'vm.xml': <domain> has more than one <vcpu>");
  expect_input_error("<domain><name>a</name><cputune/><cputune/></domain>",
                     "cannot read domain 'vm.xml': <domain> has more than one <cputune>");
  expect_input_error("<domain><name>a</name><vcpu>2</vcpu><cputune><vcpupin vcpu='1' cpuset='0'/>"
                     "<vcpupin vcpu='1' cpuset='1'/></cputune></domain>",
                     "cannot read domain 'vm.xml': <vcpupin vcpu='1'> is given twice");
  expect_input_error("<domain><name>a</name><cputune><emulatorpin cpuset='0'/><emulatorpin cpuset='1'/></cputune></domain>",
                     "cannot read domain 'vm.xml': <cputune> has more than one <emulatorpin>");
  expect_input_error("<domain><name>a</name><iothreadids><iothread id='2'/><iothread id='2'/></iothreadids></domain>",
                     "cannot read domain 'vm.xml': <iothread id='2'> is listed twice");
}

// <iothreads>4000000000</iothreads> once made the parser number four billion
// iothreads one by one; counts are bounded now.
TEST(ParseDomain, RefusesCountsNoQemuRuns) {
  expect_input_error("<domain><name>a</name><vcpu>4294967295</vcpu></domain>",
                     "cannot read domain 'vm.xml': <vcpu> 4294967295 is more vCPUs than any QEMU runs (16384 at most)");
  expect_input_error("<domain><name>a</name><iothreads>4000000000</iothreads></domain>",
                     "cannot read domain 'vm.xml': <iothreads> 4000000000 is more than 16384");
  expect_input_error("<domain><name>a</name><vcpu>99999999999999999999</vcpu></domain>",
                     "cannot read domain 'vm.xml': <vcpu> '99999999999999999999' is not a number");
}

TEST(RequestDefaults, ComeFromTheDomain) {
  GuestRequest r = request_defaults_from(parse_domain_xml(sample("linux-server.xml"), "x"));
  EXPECT_EQ(r.name, "db01");
  EXPECT_EQ(r.vcpus, 8u);  // the maximum: the guest topology covers hot-pluggable vCPUs too
  EXPECT_EQ(r.iothreads, 3u);  // three virtio disks, three iothreads
  EXPECT_FALSE(r.gpu);
  EXPECT_EQ(r.memory_bytes, 32ull << 30);  // <memory unit='KiB'>33554432</memory>
  EXPECT_TRUE(r.notes.empty());
  // minimal.xml has no disk at all: an I/O thread would serve nothing.
  r = request_defaults_from(parse_domain_xml(sample("minimal.xml"), "x"));
  EXPECT_EQ(r.iothreads, 0u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("No I/O thread: domain 'tiny' has no virtio disk or virtio-scsi controller"),
            std::string::npos) << r.notes[0];
  // custom-cpu.xml: one virtio disk (vda) and no <iothreads>: one I/O thread for it.
  r = request_defaults_from(parse_domain_xml(sample("custom-cpu.xml"), "x"));
  EXPECT_EQ(r.iothreads, 1u);
}

TEST(RequestDefaults, NoMoreIothreadsThanDevicesToServe) {
  // win11-gaming.xml: sda behind the virtio-scsi controller, sdb on SATA, a GPU passed through.
  Domain d = parse_domain_xml(sample("win11-gaming.xml"), "x");
  ASSERT_EQ(d.iothread_devices.size(), 1u);
  EXPECT_EQ(d.iothread_devices[0].label, "virtio-scsi controller 0");
  EXPECT_EQ(d.iothread_devices[0].iothread, 1u);
  EXPECT_EQ(d.unservable_disks, std::vector<std::string>{"disk sdb (sata)"});
  std::vector<std::string> notes;
  EXPECT_EQ(iothreads_for(d, 3, notes), 1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "1 I/O thread, not 3: domain 'win11' has 1 device an I/O thread can serve "
                      "(virtio-scsi controller 0); another would do nothing.");
  notes.clear();
  EXPECT_EQ(iothreads_for(d, 1, notes), 1u);
  EXPECT_TRUE(notes.empty());
  // An iothread the domain defines stays, even with nothing to serve; none is added.
  Domain bare = parse_domain_xml("<domain><name>bare</name><iothreads>1</iothreads></domain>", "x");
  EXPECT_EQ(iothreads_for(bare, 2, notes), 1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "1 I/O thread as domain 'bare' defines, but it has no virtio disk or virtio-scsi controller for "
                      "one to serve: one serves nothing (none is added).");
}

TEST(ParseDomain, ReadsMemoryCellsAndMemnodes) {
  Domain d = parse_domain_xml(R"(<domain><name>a</name><memory unit='GiB'>4</memory>
    <numatune><memory mode='strict' nodeset='0-1'/><memnode cellid='1' mode='preferred' nodeset='1'/></numatune>
    <cpu><numa><cell id='0' cpus='0-1' memory='1048576' unit='KiB'/><cell id='1' cpus='2-3' memory='3' unit='G'/></numa></cpu>
  </domain>)", "a");
  EXPECT_EQ(d.memory_bytes, 4ull << 30);
  ASSERT_EQ(d.numa_cells.size(), 2u);
  EXPECT_EQ(d.numa_cells[0].vcpus, (CpuSet{0, 1}));
  EXPECT_EQ(d.numa_cells[0].memory_bytes, 1ull << 30);
  EXPECT_FALSE(d.numa_cells[0].memnode_nodeset);
  EXPECT_EQ(d.numa_cells[1].memory_bytes, 3ull << 30);
  EXPECT_EQ(d.numa_cells[1].memnode_nodeset, CpuSet{1});
  EXPECT_EQ(d.numa_cells[1].memnode_mode, "preferred");
  EXPECT_THROW(parse_domain_xml("<domain><name>a</name><memory unit='parsecs'>4</memory></domain>", "a"),
               DomainInputError);
  EXPECT_THROW(parse_domain_xml("<domain><name>a</name><numatune><memnode cellid='3' nodeset='0'/></numatune></domain>",
                                "a"),
               DomainInputError);
}

TEST(RequestDefaults, GpuIsTheFirstHostdevTheHostCallsAGpu) {
  Domain d = parse_domain_xml(sample("win11-gaming.xml"), "x");
  EXPECT_EQ(request_defaults_from(d).gpu, "0000:01:00.0");  // unknown host: the first hostdev
  Topology host;
  PciDevice audio, gpu;
  audio.address = "0000:01:00.0";
  audio.device_class = PciDevice::Class::Other;
  gpu.address = "0000:01:00.1";
  gpu.device_class = PciDevice::Class::Gpu;
  host.pci = {audio, gpu};
  EXPECT_EQ(request_defaults_from(d, &host).gpu, "0000:01:00.1");
}

}  // namespace
}  // namespace vpt
