// Steal from the host's side: /proc/PID/task/TID/schedstat read right, and the
// sampler measuring real run-queue wait: two busy threads pinned to one CPU
// each wait about half of the time (the kernel's fair share), one alone on a
// CPU hardly waits. Run under the shared lock (nothing else on the CPUs).
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/kernels.hpp"
#include "bench/statistics.hpp"
#include "bench/steal.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

TEST(Schedstat, ReadsTheThreeFieldsAndNothingFromAGoneThread) {
  fs::path root = fs::path(testing::TempDir()) / "vpt-steal-proc";
  fs::remove_all(root);
  fs::create_directories(root / "500/task/501");
  fs::create_directories(root / "500/task/502");
  std::ofstream(root / "500/task/501/schedstat") << "123456789 2000000 42\n";
  std::ofstream(root / "500/task/502/schedstat") << "garbage\n";
  ProcPaths paths;
  paths.proc = root.string();
  auto s = read_schedstat(500, 501, paths);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->run_ns, 123456789u);
  EXPECT_EQ(s->wait_ns, 2000000u);
  EXPECT_EQ(s->timeslices, 42u);
  EXPECT_FALSE(read_schedstat(500, 502, paths).has_value());
  EXPECT_FALSE(read_schedstat(500, 999, paths).has_value());
  fs::remove_all(root);
}

// Busy threads of this process, each pinned to a given CPU, until destruction.
class Spinners {
 public:
  explicit Spinners(const std::vector<unsigned>& cpus) {
    tids_.resize(cpus.size());
    for (std::size_t i = 0; i < cpus.size(); ++i)
      threads_.emplace_back([this, i, cpu = cpus[i]] {
        pin_this_thread(cpu);
        tids_[i] = static_cast<int>(::syscall(SYS_gettid));
        ++started_;
        volatile unsigned long x = 0;
        while (!stop_) x = x + 1;
      });
    while (started_ < cpus.size()) std::this_thread::yield();
  }
  ~Spinners() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  std::vector<QemuThread> as_vcpus() const {
    std::vector<QemuThread> out;
    for (std::size_t i = 0; i < tids_.size(); ++i)
      out.push_back({tids_[i], "spinner", ThreadKind::Vcpu, static_cast<unsigned>(i)});
    return out;
  }

 private:
  std::vector<std::thread> threads_;
  std::vector<int> tids_;
  std::atomic<unsigned> started_{0};
  std::atomic<bool> stop_{false};
};

TEST(StealSampler, TwoBusyThreadsOnOneCpuEachWaitAboutHalfTheTime) {
  const unsigned cpu = (online_cpus() & allowed_cpus()).first();
  Spinners busy({cpu, cpu});
  StealSampler sampler(::getpid(), busy.as_vcpus(), std::chrono::milliseconds(100));
  for (int i = 0; i < 5; ++i) sampler.sample();
  StealWindow w = sampler.window("quiet", "test", 1);
  ASSERT_EQ(w.vcpus.size(), 2u);
  for (const VcpuSteal& v : w.vcpus) {
    EXPECT_TRUE(v.error.empty()) << v.error;
    ASSERT_EQ(v.wait_percent.count(), 5u);
    EXPECT_NEAR(*median(v.wait_percent.pooled()), 50, 20) << "vCPU " << v.vcpu;
    EXPECT_NEAR(*median(v.run_percent.pooled()), 50, 20) << "vCPU " << v.vcpu;
    EXPECT_GT(v.timeslices, 0u);
  }
}

TEST(StealSampler, ABusyThreadAloneOnItsCpuHardlyWaits) {
  const CpuSet cpus = online_cpus() & allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two usable CPUs";
  Spinners busy({cpus.last()});
  StealSampler sampler(::getpid(), busy.as_vcpus(), std::chrono::milliseconds(100));
  sampler.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(650));
  sampler.stop();
  // Samples taken on the sampler's thread are split into consecutive rounds.
  StealWindow w = sampler.window("guest probe", "test", 3);
  ASSERT_EQ(w.vcpus.size(), 1u);
  EXPECT_EQ(w.vcpus[0].wait_percent.rounds.size(), 3u);
  EXPECT_GE(w.vcpus[0].wait_percent.count(), 5u);
  EXPECT_LT(*median(w.vcpus[0].wait_percent.pooled()), 10);
  EXPECT_GT(*median(w.vcpus[0].run_percent.pooled()), 80);
}

TEST(StealSampler, AThreadThatEndsIsAnErrorNotACrash) {
  StealSampler sampler(::getpid(), {{999999999, "gone", ThreadKind::Vcpu, 0u}}, std::chrono::milliseconds(10));
  sampler.sample();
  StealWindow w = sampler.window("quiet", "test", 1);
  ASSERT_EQ(w.vcpus.size(), 1u);
  EXPECT_EQ(w.vcpus[0].error, "thread 999999999 ended or its schedstat could not be read");
  EXPECT_TRUE(w.vcpus[0].wait_percent.empty());
}

}  // namespace
}  // namespace vpt
