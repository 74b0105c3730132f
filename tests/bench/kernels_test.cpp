// The kernels on the live host: what they refuse, and that they return the
// samples asked for. Timing orderings (an L1-sized chase beats a DRAM-sized
// one, core-to-core latency is symmetric) are timings: they are read in
// tests/perf/kernels_benchmark.cpp and recorded in the README, not asserted here.
#include <gtest/gtest.h>

#include <thread>
#include <utility>
#include <vector>

#include "bench/kernels.hpp"
#include "probe/probe.hpp"

namespace vpt {
namespace {

std::optional<std::uint64_t> smallest_cache(const Topology& topo, int level) {
  std::optional<std::uint64_t> size;
  for (const Cache* c : caches_at_level(topo, level))
    if (c->size_bytes && (!size || *c->size_bytes < *size)) size = c->size_bytes;
  return size;
}

CpuSet usable() { return online_cpus() & allowed_cpus(); }

TEST(CpuChecks, RefusesAnOfflineCpu) {
  // No test machine has 4096 CPUs online.
  ASSERT_FALSE(online_cpus().contains(4095));
  try {
    require_usable_cpus(CpuSet{4095});
    ADD_FAILURE() << "accepted CPU 4095";
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot measure CPU '4095': not online (online CPUs: " + online_cpus().to_string() + ")");
  }
}

TEST(CpuChecks, EveryKernelRefusesAnOfflineCpu) {
  unsigned cpu = usable().first();
  EXPECT_THROW(measure_core_to_core(cpu, 4095, {}), BenchInputError);
  EXPECT_THROW(measure_pointer_chase(4095, 4096, {}), BenchInputError);
  EXPECT_THROW(measure_interference(cpu, CpuSet{4095}, 4096, {}), BenchInputError);
  EXPECT_THROW(measure_wakeup({cpu, 4095}, {}), BenchInputError);
}

TEST(CpuChecks, RefusesACpuOutsideTheAffinityMask) {
  // sched_getaffinity(0) reports the calling thread's mask (what taskset sets
  // for a whole process): check from a thread pinned to one CPU.
  CpuSet cpus = usable();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two usable CPUs";
  unsigned keep = cpus.first(), other = cpus.last();
  std::string message;
  std::thread t([&] {
    pin_this_thread(keep);
    try {
      require_usable_cpus(CpuSet{other});
    } catch (const BenchInputError& e) {
      message = e.what();
    }
  });
  t.join();
  EXPECT_EQ(message, "cannot measure CPU '" + std::to_string(other) +
                         "': not in this process's CPU affinity (allowed CPUs: " + std::to_string(keep) +
                         "; see taskset or the cgroup cpuset)");
}

TEST(CoreToCore, RefusesTheSameCpuTwice) {
  unsigned cpu = usable().first();
  EXPECT_THROW(measure_core_to_core(cpu, cpu, {}), std::invalid_argument);
}

TEST(CoreToCore, GivesTheRequestedSamplesInBothDirections) {
  CpuSet cpus = usable();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two usable CPUs";
  unsigned a = cpus.first(), b = cpus.last();
  CoreToCoreConfig config;
  config.samples = 25;
  config.budget = std::chrono::duration<double>(5.0);
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    CoreToCoreSamples s = measure_core_to_core(from, to, config);
    ASSERT_EQ(s.one_way_ns.size(), 25u);
    for (double ns : s.one_way_ns) EXPECT_GT(ns, 0.0);
    EXPECT_GE(s.round_trips_per_sample, 1u);
  }
}

TEST(MemoryLatency, GivesTheRequestedSamplesForEachSize) {
  Topology host = probe_live_host();
  auto l1 = smallest_cache(host, 1);
  if (!l1) GTEST_SKIP() << "host model lacks an L1 size";
  unsigned cpu = usable().first();
  PointerChaseConfig config;
  config.samples = 5;
  config.loads_per_sample = 1u << 14;
  for (std::size_t bytes : {static_cast<std::size_t>(*l1 / 2), std::size_t{8} << 20}) {
    std::vector<double> ns = measure_pointer_chase(cpu, bytes, config);
    ASSERT_EQ(ns.size(), 5u) << bytes;
    for (double x : ns) EXPECT_GT(x, 0.0) << bytes;
  }
}

TEST(Interference, RefusesANeighbourOnTheChasingCpu) {
  unsigned cpu = usable().first();
  EXPECT_THROW(measure_interference(cpu, CpuSet{cpu}, 4096, {}), std::invalid_argument);
  EXPECT_THROW(measure_interference(cpu, CpuSet{}, 4096, {}), std::invalid_argument);
}

TEST(Interference, GivesQuietAndNoisySamplesOfTheRequestedCount) {
  CpuSet cpus = usable();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two usable CPUs";
  InterferenceConfig config;
  config.samples = 10;
  config.rounds = 2;
  config.loads_per_sample = 1u << 14;
  config.thrash_bytes = 8u << 20;
  InterferenceSamples s = measure_interference(cpus.first(), CpuSet{cpus.last()}, 64u << 10, config);
  EXPECT_EQ(s.quiet_ns.size(), 10u);
  EXPECT_EQ(s.noisy_ns.size(), 10u);
}

TEST(Wakeup, RecordsOneNonNegativeLatenessPerWakeup) {
  CpuSet cpus = usable();
  WakeupConfig config;
  config.count = 50;
  config.warmup = 2;
  config.interval = std::chrono::microseconds(500);
  auto all = measure_wakeup(cpus.to_vector(), config);
  ASSERT_EQ(all.size(), cpus.size());
  for (const auto& samples : all) {
    ASSERT_EQ(samples.size(), 50u);
    // clock_nanosleep(TIMER_ABSTIME) never returns before the deadline.
    for (double us : samples) EXPECT_GE(us, 0.0);
  }
}

}  // namespace
}  // namespace vpt
