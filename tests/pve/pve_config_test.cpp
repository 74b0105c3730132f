// Reading Proxmox VM configs: the fixtures under data/proxmox/ (facts read
// off the files by hand) and bad inputs.
#include <gtest/gtest.h>

#include "probe/probe.hpp"
#include "pve/pve_config.hpp"
#include "tests/pve/pve_test_util.hpp"

namespace vpt {
namespace {

using test::data_file;
using test::read_data;

TEST(PveConfigOfGamingVm, ReadsWhatThePlanNeeds) {
  PveConfig c = load_pve_config_file(data_file("101.conf"));
  EXPECT_EQ(c.vmid, 101u);
  EXPECT_EQ(c.name, "win11-gaming");
  EXPECT_EQ(c.sockets, 1u);
  EXPECT_EQ(c.cores, 8u);
  EXPECT_EQ(c.vcpus(), 8u);
  EXPECT_EQ(c.memory_mib, 16384u);
  EXPECT_FALSE(c.numa);
  EXPECT_EQ(c.cpu_type, "host");
  // hostpci0: 0000:01:00 (all functions: the first is .0), hostpci1: 0000:0b:00.3
  EXPECT_EQ(c.hostpci, (std::vector<std::string>{"0000:01:00.0", "0000:0b:00.3"}));
  // scsi0 with iothread=1 on virtio-scsi-single: qemu-server's "iothread-virtioscsi0".
  EXPECT_EQ(c.iothread_ids, (std::vector<std::string>{"iothread-virtioscsi0"}));
  EXPECT_TRUE(c.disks_without_iothread.empty());  // ide2 is a CD-ROM
  // Two snapshot sections; their keys (vga: std, snaptime) are not the current config's.
  EXPECT_EQ(c.sections, (std::vector<std::string>{"clean-install", "drivers-installed"}));
  EXPECT_EQ(c.options.at("vga"), "none");
  EXPECT_EQ(c.options.count("snaptime"), 0u);
  EXPECT_EQ(c.options.at("parent"), "drivers-installed");
}

TEST(PveConfigOfNumaServer, ReadsSocketsNumaAndVirtioIothreads) {
  PveConfig c = load_pve_config_file(data_file("102.conf"));
  EXPECT_EQ(c.vcpus(), 16u);  // sockets: 2, cores: 8
  EXPECT_TRUE(c.numa);
  ASSERT_EQ(c.numa_nodes.size(), 2u);
  EXPECT_EQ(c.numa_nodes.at(1), "cpus=8-15,hostnodes=1,memory=16384,policy=bind");
  EXPECT_EQ(c.cpu_type, "x86-64-v2-AES");
  EXPECT_EQ(c.iothread_ids, (std::vector<std::string>{"iothread-virtio0", "iothread-virtio1"}));
}

TEST(PveConfigWithHandPinning, ReadsAffinityArgsAndHotpluggedVcpus) {
  PveConfig c = load_pve_config_file(data_file("103.conf"));
  EXPECT_EQ(c.affinity, CpuSet::range(2, 9));
  EXPECT_EQ(c.args,
            "-smp 8,sockets=1,cores=4,threads=2 -device 'intel-hda,id=sound0' -device hda-duplex,bus=sound0.0 "
            "-global kvm-pit.lost_tick_policy=discard");
  EXPECT_EQ(c.hotplugged_vcpus, 6u);
  EXPECT_EQ(c.hostpci, (std::vector<std::string>{"0000:2d:00.0", "0000:2d:00.1"}));
  EXPECT_TRUE(c.iothread_ids.empty());  // sata0 gets none
  EXPECT_EQ(c.memory_mib, 8192u);
}

TEST(PveConfigWithPendingChanges, ListsThePendingKeys) {
  PveConfig c = load_pve_config_file(data_file("104.conf"));
  // What the next start uses: [PENDING]'s cores 6 and memory 12288 (issue 21).
  EXPECT_EQ(c.cores, 6u);
  EXPECT_EQ(c.memory_mib, 12288u);
  EXPECT_EQ(c.options.at("cores"), "4");  // the current section as written
  EXPECT_EQ(c.pending_keys, (std::vector<std::string>{"cores", "memory"}));
}

TEST(PveConfigWithUnknownKeys, KeepsThem) {
  PveConfig c = load_pve_config_file(data_file("105.conf"));
  EXPECT_EQ(c.options.at("frobnicate"), "yes");
  EXPECT_EQ(c.options.at("x-some-new-option"), "value with spaces");
}

TEST(PveConfigWithUnknownKeys, AnIndexWithALeadingZeroIsAnotherKey) {
  // qemu-server's schema has numa0-numa7, virtio0-15, hostpci0-15: "numa07" or
  // "virtio01" is an unknown key it ignores, so vpt-tune neither reads nor edits it.
  PveConfig c = parse_pve_config("cores: 2\nnuma07: cpus=0-1\nvirtio01: local:vm-1-disk-0,iothread=1\n"
                                 "hostpci00: 01:00.0\n", "x.conf");
  EXPECT_TRUE(c.numa_nodes.empty());
  EXPECT_TRUE(c.iothread_ids.empty());
  EXPECT_TRUE(c.hostpci.empty());
  EXPECT_EQ(c.options.at("numa07"), "cpus=0-1");
}

TEST(PveConfigValues, FollowQemuServersDefaultsAndForms) {
  // memory: [current=]N; sockets from the old smp:; hotplug 1 = network,disk,usb.
  PveConfig c = parse_pve_config("memory: current=4096\nsmp: 2\ncores: 3\nhotplug: 1\n", "x.conf");
  EXPECT_EQ(c.memory_mib, 4096u);
  EXPECT_EQ(c.vcpus(), 6u);
  EXPECT_FALSE(c.cpu_hotplug);
  EXPECT_FALSE(c.vmid);  // not named <digits>.conf
  c = parse_pve_config("name: x\nhotplug: disk,cpu,memory\n", "/etc/pve/qemu-server/7.conf");
  EXPECT_TRUE(c.cpu_hotplug);
  EXPECT_TRUE(c.memory_hotplug);
  EXPECT_EQ(c.vcpus(), 1u);
  EXPECT_EQ(c.memory_mib, 512u);  // qemu-server's default
  EXPECT_EQ(c.vmid, 7u);
  // CRLF line ends: qemu-server trims \s.
  c = parse_pve_config("cores: 4\r\nname: crlf\r\n\r\n[snap]\r\ncores: 2\r\n", "x.conf");
  EXPECT_EQ(c.cores, 4u);
  EXPECT_EQ(c.name, "crlf");
}

TEST(PveConfigIothreads, FollowQemuServersRules) {
  // scsi iothreads only on virtio-scsi-single; virtio always; scsi before virtio;
  // a disk without iothread=1 is listed as one that could have one.
  PveConfig c = parse_pve_config(
      "scsihw: virtio-scsi-pci\nscsi0: a:1,iothread=1\nvirtio2: a:2,iothread=on\nvirtio10: a:3,iothread=1\n"
      "virtio1: a:4\n",
      "x.conf");
  EXPECT_EQ(c.iothread_ids, (std::vector<std::string>{"iothread-virtio2", "iothread-virtio10"}));
  EXPECT_EQ(c.disks_without_iothread, (std::vector<std::string>{"scsi0", "virtio1"}));
}

TEST(PveConfigRequest, DefaultsComeFromTheConfig) {
  PveConfig c = load_pve_config_file(data_file("101.conf"));
  GuestRequest r = request_defaults_from(c);
  EXPECT_EQ(r.name, "win11-gaming");
  EXPECT_EQ(r.vcpus, 8u);
  EXPECT_EQ(r.iothreads, 1u);
  EXPECT_EQ(r.gpu, "0000:01:00.0");
  // Without a name: vm<VMID>.
  EXPECT_EQ(request_defaults_from(parse_pve_config("cores: 2\n", "/x/300.conf")).name, "vm300");
}

// Each bad input: PveConfigError naming the file and the line.
struct BadConfig {
  const char* file;
  const char* expected;  // part of the message
};

class PveBadConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(PveBadConfig, IsRefusedWithTheLineAndTheProblem) {
  const BadConfig& bad = GetParam();
  try {
    load_pve_config_file(data_file(bad.file));
    FAIL() << bad.file << " was accepted";
  } catch (const PveConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(bad.file), std::string::npos) << message;
    EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, PveBadConfig,
    ::testing::Values(BadConfig{"bad/not-a-config.xml", "line 1: expected 'key: value'"},
                      BadConfig{"bad/binary.conf", "line 3: contains a NUL byte"},
                      BadConfig{"bad/empty.conf", "no 'key: value' option"},
                      BadConfig{"bad/bad-cores.conf", "line 1: cores: 'eight' is not a whole number"},
                      BadConfig{"bad/bad-affinity.conf", "line 1: affinity: '7-3' is not a CPU list"},
                      BadConfig{"bad/garbage-line.conf", "line 3: expected 'key: value'"},
                      BadConfig{"bad/missing-file.conf", "No such file"}));

TEST(PveBadConfigText, NamesTheProblem) {
  auto message = [](std::string_view text) {
    try {
      parse_pve_config(text, "t.conf");
    } catch (const PveConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("cores:\n").find("line 1: 'cores:' has no value"), std::string::npos);
  EXPECT_NE(message("cores: 0\n").find("out of range"), std::string::npos);
  EXPECT_NE(message("cores: 99999999999\n").find("not a whole number"), std::string::npos);
  EXPECT_NE(message("memory: lots\n").find("memory"), std::string::npos);
  EXPECT_NE(message("hostpci0: gpu0\n").find("not a PCI address"), std::string::npos);
  EXPECT_NE(message("numa9: cpus=0\n").find("numa7"), std::string::npos);
  EXPECT_NE(message("hugepages: 4\n").find("not 2, 1024 or any"), std::string::npos);
  EXPECT_NE(message("#only a description\n\n").find("no 'key: value'"), std::string::npos);
  EXPECT_NE(message("[snap]\ncores: 2\n").find("no 'key: value'"), std::string::npos);
  EXPECT_NE(message("  cores: 2\n").find("expected 'key: value'"), std::string::npos);
  // Indices too large for any counter are still just keys, never a crash.
  EXPECT_EQ(message("cores: 2\nvirtio99999999999999999999: a:1,iothread=1\nhostpci77777777777777: 01:00\n"),
            "accepted");
}

}  // namespace
}  // namespace vpt
