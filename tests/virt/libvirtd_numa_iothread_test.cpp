// Guest NUMA cells and I/O threads attached to disks, against the real
// libvirtd of the ctest fixture (tests/virt/libvirtd-fixture.sh, QEMU's TCG).
// What libvirt and QEMU did is read from libvirt's own XML text, QEMU's
// command line in /proc, QMP and /proc thread names, not through vpt-tune.
// Domains are named vpt-test-PID-cells/-io and removed after each test.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/virt/virt_test_util.hpp"
#include "virt/apply.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;
using test::make_plan;
using test::read_file;

constexpr const char* kUri = "qemu:///system";

// stdout of a shell command ("" when it fails).
std::string capture(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    ::pclose(pipe);
  }
  return out;
}

int virsh(const std::string& args) {
  return std::system(fmt::format("virsh -q -c {} {} >/dev/null 2>&1", kUri, args).c_str());
}

std::string qemu_pid(const std::string& domain) {
  std::string pid = read_file("/run/libvirt/qemu/" + domain + ".pid");
  pid.erase(pid.find_last_not_of(" \n") + 1);
  return pid;
}

// No OS to boot: QEMU still builds the machine, its NUMA nodes, iothreads and
// disks at start, which is all these tests look at.
std::string domain_xml(const std::string& name, unsigned vcpus, const std::string& devices) {
  return fmt::format(R"(<domain type='qemu'>
  <name>{}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>{}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
{}    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
)",
                     name, vcpus, devices);
}

class LibvirtdCellsAndIothreads : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = fmt::format("vpt-test-{}", ::getpid());
    dir_ = fs::temp_directory_path() / (prefix_ + "-numa-io");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.backup_dir = (dir_ / "backups").string();
    hv_ = connect_libvirt(kUri, true);
  }
  void TearDown() override {
    for (const std::string& name : defined_) {
      virsh("destroy " + name);
      virsh("undefine " + name);
    }
    fs::remove_all(dir_);
  }
  std::string define(const std::string& suffix, unsigned vcpus, const std::string& devices = "") {
    std::string name = prefix_ + "-" + suffix;
    defined_.push_back(name);
    hv_->define(domain_xml(name, vcpus, devices));
    return name;
  }

  // 4 vCPUs as 2 sockets x 2 cores, one guest NUMA cell per socket, the
  // cells' memory bound to host nodes `first` and `second`.
  static GuestPlan two_cells(unsigned first, unsigned second) {
    GuestPlan plan = make_plan(4, 0, CpuSet{0}, {}, {2, 1, 2, 1});
    plan.vcpus = {0, 1, 0, 1};  // this host has CPUs 0 and 1
    plan.memory_nodes = CpuSet{first, second};
    plan.numa_cells = {{0, CpuSet{0, 1}, first, std::nullopt}, {1, CpuSet{2, 3}, second, std::nullopt}};
    return plan;
  }

  std::string prefix_;
  fs::path dir_;
  ApplyOptions options_;
  std::unique_ptr<Hypervisor> hv_;
  std::vector<std::string> defined_;
};

// On this 1-node host libvirt accepts the definition of a 2-cell guest whose
// second cell is bound to host node 1, and refuses only to start it.
TEST_F(LibvirtdCellsAndIothreads, TwoCellGuestWithMemnodesIsDefined) {
  const std::string name = define("cells", 4);
  ApplyResult r = apply_plan(*hv_, name, two_cells(0, 1), options_);  // reads back and checks every cell
  EXPECT_TRUE(r.defined);
  const std::string xml = capture(fmt::format("virsh -q -c {} dumpxml {}", kUri, name));
  EXPECT_NE(xml.find("<topology sockets='2' dies='1' cores='2' threads='1'/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<cell id='0' cpus='0-1' memory='65536' unit='KiB'/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<cell id='1' cpus='2-3' memory='65536' unit='KiB'/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<memory mode='strict' nodeset='0-1'/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<memnode cellid='0' mode='strict' nodeset='0'/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<memnode cellid='1' mode='strict' nodeset='1'/>"), std::string::npos) << xml;
  const std::string start = capture(fmt::format("virsh -q -c {} start {} 2>&1", kUri, name));
  EXPECT_NE(start.find("NUMA node 1 is unavailable"), std::string::npos) << start;
}

// Bound to the one node this host has, the same guest starts, and QEMU builds
// the two guest NUMA nodes with their memory bound as the memnodes say.
TEST_F(LibvirtdCellsAndIothreads, TwoCellGuestStartsWithQemuNumaNodes) {
  const std::string name = define("cells", 4);
  apply_plan(*hv_, name, two_cells(0, 0), options_);
  ASSERT_EQ(virsh("start " + name), 0);
  std::string cmdline = read_file("/proc/" + qemu_pid(name) + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  EXPECT_NE(cmdline.find("-numa node,nodeid=0,cpus=0-1,memdev=ram-node0"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("-numa node,nodeid=1,cpus=2-3,memdev=ram-node1"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find(R"("id":"ram-node1","size":67108864,"host-nodes":[0],"policy":"bind")"), std::string::npos)
      << cmdline;
}

// A disk without an I/O thread gets the plan's: QEMU runs the thread, the
// disk's device names it, and the thread runs on the pinned CPU.
TEST_F(LibvirtdCellsAndIothreads, DiskIsServedByTheIothreadThePatchAttached) {
  const fs::path image = dir_ / "disk.img";
  { std::ofstream(image).put('\0'); }
  fs::resize_file(image, 1 << 20);  // a raw image: just bytes
  const std::string name = define("io", 1,
                                  fmt::format("    <disk type='file' device='disk'>\n"
                                              "      <driver name='qemu' type='raw'/>\n"
                                              "      <source file='{}'/>\n"
                                              "      <target dev='vda' bus='virtio'/>\n"
                                              "    </disk>\n",
                                              image.string()));
  GuestPlan plan = make_plan(1, 0, CpuSet{0}, {CpuSet{1}}, {1, 1, 1, 1});
  ApplyResult r = apply_plan(*hv_, name, plan, options_);
  EXPECT_TRUE(std::find(r.notes.begin(), r.notes.end(),
                        "disk vda is served by I/O thread 1 (<driver iothread='1'/>)") != r.notes.end())
      << ::testing::PrintToString(r.notes);
  const std::string xml = capture(fmt::format("virsh -q -c {} dumpxml {}", kUri, name));
  EXPECT_NE(xml.find("<driver name='qemu' type='raw' iothread='1'/>"), std::string::npos) << xml;
  ASSERT_EQ(virsh("start " + name), 0);

  // QMP: the iothread and its thread id, and the disk's device bound to it.
  const std::string threads =
      capture(fmt::format(R"(virsh -q -c {} qemu-monitor-command {} '{{"execute":"query-iothreads"}}')", kUri, name));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(threads, m, std::regex(R"re("thread-id":\s*(\d+)[^}]*"id":\s*"iothread1")re")))
      << threads;
  const std::string tid = m[1];
  const std::string bound = capture(fmt::format(
      R"(virsh -q -c {} qemu-monitor-command {} '{{"execute":"qom-get","arguments":{{"path":"/machine/peripheral/virtio-disk0","property":"iothread"}}}}')",
      kUri, name));
  EXPECT_NE(bound.find(R"("return":"/objects/iothread1")"), std::string::npos) << bound;
  // /proc: that thread is QEMU's "IO iothread1", allowed on CPU 1 only.
  const fs::path task = fs::path("/proc") / qemu_pid(name) / "task" / tid;
  EXPECT_EQ(read_file((task / "comm").string()), "IO iothread1\n");
  std::ifstream status(task / "status");
  std::string allowed;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Cpus_allowed_list:", 0) == 0) allowed = line.substr(line.find_first_not_of(" \t", 18));
  EXPECT_EQ(allowed, "1");
}

}  // namespace
}  // namespace vpt
