// isolcpus= and nohz_full= from a kernel command line.
#include <gtest/gtest.h>

#include "tests/common/cpuset_printer.hpp"
#include "probe/host_state.hpp"

namespace vpt {
namespace {

TEST(KernelCmdline, ReadsIsolcpusAndNohzFull) {
  auto lists = parse_kernel_cmdline(
      "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro quiet isolcpus=2-7,10 nohz_full=2-7\n");
  EXPECT_EQ(lists.isolcpus.to_string(), "2-7,10");
  EXPECT_EQ(lists.nohz_full.to_string(), "2-7");
}

TEST(KernelCmdline, SkipsIsolcpusFlags) {
  EXPECT_EQ(parse_kernel_cmdline("isolcpus=domain,managed_irq,4-7").isolcpus.to_string(), "4-7");
  EXPECT_EQ(parse_kernel_cmdline("isolcpus=nohz,domain,managed_irq,2-5,8").isolcpus.to_string(), "2-5,8");
  EXPECT_EQ(parse_kernel_cmdline("isolcpus=managed_irq,1,3").isolcpus.to_string(), "1,3");
}

TEST(KernelCmdline, FlagsAloneIsolateNothing) {
  EXPECT_TRUE(parse_kernel_cmdline("isolcpus=domain").isolcpus.empty());
}

TEST(KernelCmdline, StopsAtDoubleDash) {
  // Everything after "--" is passed to init, not read by the kernel.
  auto lists = parse_kernel_cmdline("root=/dev/sda1 nohz_full=1 -- isolcpus=1-3 nohz_full=1-3");
  EXPECT_TRUE(lists.isolcpus.empty());
  EXPECT_EQ(lists.nohz_full.to_string(), "1");
}

TEST(KernelCmdline, WithoutTheParametersBothAreEmpty) {
  auto lists = parse_kernel_cmdline("BOOT_IMAGE=/vmlinuz root=/dev/vda1 console=ttyS0");
  EXPECT_TRUE(lists.isolcpus.empty());
  EXPECT_TRUE(lists.nohz_full.empty());
  EXPECT_TRUE(parse_kernel_cmdline("").isolcpus.empty());
}

TEST(KernelCmdline, IgnoresParametersThatOnlyEndTheSame) {
  // "rcu_nocbs=" and "xisolcpus=" are other parameters.
  auto lists = parse_kernel_cmdline("rcu_nocbs=2-7 xisolcpus=1 my_nohz_full=3");
  EXPECT_TRUE(lists.isolcpus.empty());
  EXPECT_TRUE(lists.nohz_full.empty());
}

TEST(KernelCmdline, UnparsableListIsLeftEmptyWithoutThrowing) {
  auto lists = parse_kernel_cmdline("isolcpus=banana nohz_full=7-2");
  EXPECT_TRUE(lists.isolcpus.empty());
  EXPECT_TRUE(lists.nohz_full.empty());
}

TEST(KernelCmdline, ToleratesTabsAndRepeatedSpaces) {
  auto lists = parse_kernel_cmdline("ro\tisolcpus=1,5   nohz_full=1,5\n");
  EXPECT_EQ(lists.isolcpus.to_string(), "1,5");
  EXPECT_EQ(lists.nohz_full.to_string(), "1,5");
}

}  // namespace
}  // namespace vpt

// ---- read_host_state on a fake /proc, /sys and /etc ----------------------------

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vpt {
namespace {

namespace fs = std::filesystem;

class FakeHostTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("vpt-host-tree-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    paths_ = {(root_ / "proc").string(), (root_ / "sys").string(), (root_ / "etc").string()};
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& path, const std::string& text) {
    fs::path p = root_ / path;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

  fs::path root_;
  HostPaths paths_;
};

TEST_F(FakeHostTree, ReadsWhatTheChecksNeed) {
  write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=managed_irq,domain,2-7 nohz_full=2-7\n");
  write("sys/devices/system/cpu/smt/active", "1\n");
  write("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "powersave\n");
  write("sys/devices/system/cpu/cpu0/cpufreq/scaling_driver", "intel_pstate\n");
  write("sys/devices/system/cpu/cpu0/cpufreq/energy_performance_preference", "balance_performance\n");
  write("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n");
  write("sys/devices/system/cpu/cpu2/online", "1\n");  // no cpufreq directory: not listed
  write("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  write("sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never\n");
  write("sys/module/kvm/parameters/halt_poll_ns", "200000\n");
  write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "1024\n");
  write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "1000\n");
  write("sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages", "4\n");
  write("sys/devices/system/node/node0/hugepages/hugepages-1048576kB/free_hugepages", "4\n");
  // IRQ 24: a virtio device's; IRQ 40: an NVMe queue, managed per debugfs; IRQ 150: the GPU's MSI vector.
  write("proc/irq/24/smp_affinity_list", "0-7\n");
  write("sys/kernel/irq/24/actions", "virtio0-config\n");
  write("proc/irq/40/smp_affinity_list", "2-3\n");
  write("sys/kernel/irq/40/actions", "nvme0q1\n");
  write("sys/kernel/debug/irq/irqs/40", "handler:  handle_edge_irq\ndstate:   0x3740d200\n"
                                        "            IRQD_ACTIVATED\n            IRQD_AFFINITY_MANAGED\n");
  write("proc/irq/150/smp_affinity_list", "0-1\n");
  write("sys/kernel/irq/150/actions", "vfio-msi[0](0000:01:00.0)\n");
  write("sys/bus/pci/devices/0000:01:00.0/msi_irqs/150", "msi\n");
  write("sys/bus/pci/devices/0000:01:00.0/irq", "16\n");
  write("proc/irq/default_smp_affinity", "ff\n");  // not an IRQ
  // irqbalance (pid 812) with a banned list in its environment; pid 900 is something else.
  write("proc/812/comm", "irqbalance\n");
  write("proc/812/environ", std::string("PATH=/usr/bin\0IRQBALANCE_BANNED_CPULIST=2-7\0", 44));
  write("proc/900/comm", "bash\n");
  write("etc/libvirt/hooks/qemu.d/vpt-tune-win11", "#!/bin/sh\n");

  HostState h = read_host_state(paths_);
  EXPECT_TRUE(h.known);
  EXPECT_EQ(h.isolcpus, CpuSet::range(2, 7));
  EXPECT_TRUE(h.isolcpus_managed_irq);
  EXPECT_EQ(h.nohz_full, CpuSet::range(2, 7));
  EXPECT_EQ(h.smt_active, true);
  ASSERT_EQ(h.cpufreq.size(), 2u);
  EXPECT_EQ(h.cpufreq.at(0).governor, "powersave");
  EXPECT_EQ(h.cpufreq.at(0).driver, "intel_pstate");
  EXPECT_EQ(h.cpufreq.at(0).epp, "balance_performance");
  EXPECT_EQ(h.cpufreq.at(1).governor, "performance");
  EXPECT_EQ(h.cpufreq.at(1).epp, "");
  EXPECT_EQ(h.thp_enabled, "madvise");
  EXPECT_EQ(h.thp_defrag, "madvise");
  EXPECT_EQ(h.kvm_halt_poll_ns, 200000u);
  ASSERT_EQ(h.hugepages.size(), 2u);
  for (const HugepagePool& p : h.hugepages) {
    if (p.numa) {
      EXPECT_EQ(*p.numa, 0u);
      EXPECT_EQ(p.page_bytes, 1ull << 30);
      EXPECT_EQ(p.free, 4u);
    } else {
      EXPECT_EQ(p.page_bytes, 2ull << 20);
      EXPECT_EQ(p.total, 1024u);
      EXPECT_EQ(p.free, 1000u);
    }
  }
  ASSERT_EQ(h.irqs.size(), 3u);
  EXPECT_EQ(h.irqs[0].irq, 24u);
  EXPECT_EQ(h.irqs[0].actions, "virtio0-config");
  EXPECT_EQ(h.irqs[0].affinity, CpuSet::range(0, 7));
  EXPECT_FALSE(h.irqs[0].managed.has_value());  // no debugfs file for it
  EXPECT_EQ(h.irqs[1].managed, true);
  EXPECT_EQ(h.irqs[2].device, "0000:01:00.0");   // its MSI vector, not INTx line 16
  ASSERT_TRUE(h.irqbalance);
  EXPECT_EQ(h.irqbalance->pid, 812);
  EXPECT_EQ(h.irqbalance->banned, CpuSet::range(2, 7));
  EXPECT_EQ(h.libvirt_qemu_hooks, std::vector<std::string>{"qemu.d/vpt-tune-win11"});
}

TEST_F(FakeHostTree, AnEmptyTreeLeavesEverythingUnknown) {
  HostState h = read_host_state(paths_);
  EXPECT_TRUE(h.cpufreq.empty());
  EXPECT_EQ(h.thp_enabled, "");
  EXPECT_FALSE(h.kvm_halt_poll_ns);
  EXPECT_FALSE(h.irqbalance);
  EXPECT_TRUE(h.irqs.empty());
  EXPECT_TRUE(h.libvirt_qemu_hooks.empty());
}

TEST_F(FakeHostTree, IrqbalanceWithoutABanListBansNothingItself) {
  write("proc/77/comm", "irqbalance\n");
  write("proc/77/environ", std::string("PATH=/usr/bin\0", 14));
  HostState h = read_host_state(paths_);
  ASSERT_TRUE(h.irqbalance);
  EXPECT_FALSE(h.irqbalance->banned);
}

TEST(CpuMask, ReadsIrqbalanceAndProcMasks) {
  // irqbalance(1)'s own examples: fc0 = CPUs 6-11; ff000000,00000001 = CPU 0 and CPUs 56-63.
  EXPECT_EQ(parse_cpu_mask("fc0"), CpuSet::range(6, 11));
  EXPECT_EQ(parse_cpu_mask("ff000000,00000001"), CpuSet{0} | CpuSet::range(56, 63));
  EXPECT_EQ(parse_cpu_mask("F"), CpuSet::range(0, 3));
  EXPECT_TRUE(parse_cpu_mask("xyz").empty());
  EXPECT_TRUE(parse_cpu_mask("").empty());
}

TEST(KernelCmdline, NotesTheManagedIrqFlag) {
  EXPECT_TRUE(parse_kernel_cmdline("isolcpus=managed_irq,domain,2-7").isolcpus_managed_irq);
  EXPECT_FALSE(parse_kernel_cmdline("isolcpus=domain,2-7").isolcpus_managed_irq);
}

}  // namespace
}  // namespace vpt
