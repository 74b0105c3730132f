// Finding a QEMU process and its threads in a /proc-shaped fixture tree, and
// joining libvirt's pins with what the kernel says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bench/domain_threads.hpp"
#include "tests/common/cpuset_printer.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

// A fake /proc with one QEMU (PID 500) of domain "web": main thread, two vCPU
// threads (TCG names), one iothread, the monitor iothread; plus an unrelated process 77.
class FakeProc : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) / ("vpt-fake-proc-" + std::string(
        testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    paths_.proc = (root_ / "proc").string();
    paths_.libvirt_run = (root_ / "run").string();
    fs::create_directories(root_ / "run");
    using namespace std::string_literals;  // "..."s keeps the NULs between arguments
    write("proc/77/cmdline", "bash\0-l\0"s);
    write("proc/500/cmdline", "/usr/bin/qemu-system-x86_64\0-name\0guest=web,debug-threads=on\0-S\0"s);
    thread(500, "qemu-system-x86", "0-3", 5, 40);
    thread(501, "CPU 0/TCG", "2", 0, 3);
    thread(502, "CPU 1/TCG", "2-3", 9, 120);
    thread(503, "IO iothread1", "1", 1, 0);
    thread(504, "IO mon_iothread", "0-1", 2, 0);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& content) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  // The lines of /proc/PID/task/TID/{comm,status,sched} that matter, in the kernel's layout.
  void thread(int tid, const std::string& comm, const std::string& cpus, int migrations, int nonvoluntary) {
    std::string dir = "proc/500/task/" + std::to_string(tid) + "/";
    write(dir + "comm", comm + "\n");
    write(dir + "status", "Name:\t" + comm + "\nCpus_allowed:\tf\nCpus_allowed_list:\t" + cpus +
                              "\nvoluntary_ctxt_switches:\t1000\nnonvoluntary_ctxt_switches:\t" +
                              std::to_string(nonvoluntary) + "\n");
    write(dir + "sched", comm + " (" + std::to_string(tid) + ", #threads: 5)\n" +
                             "-------------------------------------------------------------------\n"
                             "se.exec_start                                :      12345.678901\n"
                             "se.nr_migrations                             :                    " +
                             std::to_string(migrations) + "\n");
  }

  fs::path root_;
  ProcPaths paths_;
};

TEST_F(FakeProc, FindsQemuByItsNameArgument) {
  EXPECT_EQ(find_qemu_pid("web", paths_), 500);
  EXPECT_FALSE(find_qemu_pid("db", paths_).has_value());
  EXPECT_FALSE(find_qemu_pid("we", paths_).has_value());  // no prefix matches
}

TEST_F(FakeProc, PrefersLibvirtsPidFile) {
  // The pid file names a live process: it wins over the command-line scan.
  write("run/web.pid", "77\n");
  EXPECT_EQ(find_qemu_pid("web", paths_), 77);
  // A stale pid file (process gone) falls back to the scan.
  write("run/web.pid", "31337\n");
  EXPECT_EQ(find_qemu_pid("web", paths_), 500);
}

TEST_F(FakeProc, ClassifiesThreadsByName) {
  auto threads = list_qemu_threads(500, "web", paths_);
  ASSERT_EQ(threads.size(), 5u);
  EXPECT_EQ(threads[0].kind, ThreadKind::Emulator);
  EXPECT_EQ(threads[1].kind, ThreadKind::Vcpu);
  EXPECT_EQ(threads[1].index, 0u);
  EXPECT_EQ(threads[2].index, 1u);
  EXPECT_EQ(threads[3].kind, ThreadKind::IoThread);
  EXPECT_EQ(threads[3].index, 1u);
  EXPECT_EQ(threads[4].kind, ThreadKind::Other);
  EXPECT_EQ(threads[4].comm, "IO mon_iothread");
}

TEST(QemuThreadNames, KvmAndTcgVcpus) {
  EXPECT_EQ(classify_qemu_thread("CPU 12/KVM", 9, 1).first, ThreadKind::Vcpu);
  EXPECT_EQ(classify_qemu_thread("CPU 12/KVM", 9, 1).second, 12u);
  EXPECT_EQ(classify_qemu_thread("IO iothread7", 9, 1).second, 7u);
  EXPECT_EQ(classify_qemu_thread("worker", 9, 1).first, ThreadKind::Other);
  EXPECT_EQ(classify_qemu_thread("qemu-kvm", 1, 1).first, ThreadKind::Emulator);
}

TEST_F(FakeProc, MarksThreadsASourceNamesAsIothreads) {
  // A Proxmox VM's iothreads cannot be told by name; QMP gave thread 504 as iothread 2.
  auto threads = list_qemu_threads(500, "web", paths_);
  mark_iothreads(threads, {{504, 2}});
  EXPECT_EQ(threads[4].kind, ThreadKind::IoThread);
  EXPECT_EQ(threads[4].index, 2u);
  EXPECT_EQ(threads[3].kind, ThreadKind::IoThread);  // named "IO iothread1": unchanged
  EXPECT_EQ(threads[3].index, 1u);
  EXPECT_EQ(threads[0].kind, ThreadKind::Emulator);
}

TEST_F(FakeProc, UsesStatusXmlWhenThreadsAreUnnamed) {
  // QEMU without debug-threads=on: every thread is called like the binary.
  for (int tid : {501, 502}) write("proc/500/task/" + std::to_string(tid) + "/comm", "qemu-system-x86\n");
  write("run/web.xml", "<domstatus state='running' pid='500'><vcpus><vcpu id='0' pid='501'/>"
                       "<vcpu id='1' pid='502'/></vcpus><domain type='kvm'><name>web</name></domain></domstatus>");
  auto threads = list_qemu_threads(500, "web", paths_);
  ASSERT_EQ(threads.size(), 5u);
  EXPECT_EQ(threads[1].kind, ThreadKind::Vcpu);
  EXPECT_EQ(threads[1].index, 0u);
  EXPECT_EQ(threads[2].index, 1u);
}

TEST_F(FakeProc, ReadsAffinityMigrationsAndInvoluntarySwitches) {
  ThreadCounters c = read_thread_counters(500, 502, paths_);
  EXPECT_EQ(c.cpus_allowed, (CpuSet{2, 3}));
  EXPECT_EQ(c.migrations, 9u);
  EXPECT_EQ(c.nonvoluntary_switches, 120u);
  ThreadCounters gone = read_thread_counters(500, 999, paths_);
  EXPECT_FALSE(gone.cpus_allowed || gone.migrations || gone.nonvoluntary_switches);
}

TEST_F(FakeProc, ChecksEachThreadAgainstItsPinAndCountsGrowth) {
  LivePins pins;
  pins.vcpus = {CpuSet{2}, CpuSet{3}};  // vCPU 1 actually allowed 2-3: mismatch
  pins.emulator = CpuSet{0, 1};         // main thread allowed 0-3: mismatch; monitor 0-1: match
  pins.iothreads = {{1, CpuSet{1}}};
  auto threads = list_qemu_threads(500, "web", paths_);
  std::vector<ThreadCounters> before, after;
  for (const auto& t : threads) before.push_back(read_thread_counters(500, t.tid, paths_));
  thread(502, "CPU 1/TCG", "2-3", 14, 150);  // during the run: +5 migrations, +30 involuntary
  for (const auto& t : threads) after.push_back(read_thread_counters(500, t.tid, paths_));

  auto checks = check_threads(pins, threads, before, after);
  ASSERT_EQ(checks.size(), 5u);
  EXPECT_EQ(checks[0].matches, false);  // emulator: 0-3 vs pin 0-1
  EXPECT_EQ(checks[1].matches, true);   // vCPU 0: 2 vs 2
  EXPECT_EQ(checks[2].matches, false);  // vCPU 1: 2-3 vs 3
  EXPECT_EQ(checks[2].pinned, CpuSet{3});
  EXPECT_EQ(checks[2].actual, (CpuSet{2, 3}));
  EXPECT_EQ(checks[2].migrations, 5u);
  EXPECT_EQ(checks[2].nonvoluntary_switches, 30u);
  EXPECT_EQ(checks[1].migrations, 0u);
  EXPECT_EQ(checks[3].matches, true);   // iothread 1: 1 vs 1
  EXPECT_EQ(checks[4].matches, true);   // monitor thread follows the emulator pin
}

}  // namespace
}  // namespace vpt
