// isolcpus= and nohz_full= from a kernel command line.
#include <gtest/gtest.h>

#include "tests/probe/cpuset_printer.hpp"
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
