// run_bench as a whole on the live host, and the labels it gives working sets.
#include <gtest/gtest.h>

#include <algorithm>

#include "bench/bench.hpp"
#include "bench/kernels.hpp"
#include "probe/probe.hpp"
#include "tests/common/cpuset_printer.hpp"
#include "tests/virt/fake_hypervisor.hpp"

namespace vpt {
namespace {

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB;

TEST(LevelForBytes, LabelsByTheSmallestCacheThatHoldsTheWorkingSet) {
  std::vector<CacheSize> caches{{1, 48 * KiB}, {2, 1 * MiB}, {3, 32 * MiB}};
  EXPECT_EQ(level_for_bytes(4 * KiB, caches), "L1");
  EXPECT_EQ(level_for_bytes(48 * KiB, caches), "L1");
  EXPECT_EQ(level_for_bytes(64 * KiB, caches), "L2");
  EXPECT_EQ(level_for_bytes(32 * MiB, caches), "L3");
  EXPECT_EQ(level_for_bytes(64 * MiB, caches), "L3-DRAM");   // under 4 x L3: partly cached
  EXPECT_EQ(level_for_bytes(128 * MiB, caches), "DRAM");
}

TEST(LevelForBytes, SaysSoWhenL3IsUnknown) {
  std::vector<CacheSize> caches{{1, 48 * KiB}, {2, 1 * MiB}};
  EXPECT_EQ(level_for_bytes(256 * MiB, caches), "beyond L2 (L3 unknown)");
  EXPECT_EQ(level_for_bytes(1, {}), "unknown (no cache sizes)");
}

TEST(RunBench, QuickRunAgainstADomainFillsEverySection) {
  // Pins as libvirt would report them for a domain whose QEMU is not on this
  // host: vCPU 1 may run on a CPU this machine does not have.
  const CpuSet usable = online_cpus() & allowed_cpus();
  LivePins pins;
  pins.vcpus = {usable, CpuSet{4095}};
  pins.emulator = usable;
  test::FakeHypervisor connection;
  connection.definitions["vpt-test-no-such-qemu"] = "<domain><name>vpt-test-no-such-qemu</name></domain>";
  connection.running = true;
  connection.live = pins;
  MeasuredDomain domain = open_measured_domain(connection, "vpt-test-no-such-qemu");
  BenchOptions options;
  options.quick = true;
  std::vector<std::string> steps;
  Results r = run_bench(options, probe_live_host(), &domain, [&](std::string_view s) { steps.emplace_back(s); });

  EXPECT_EQ(r.schema, "vpt-tune/bench/2");
  EXPECT_EQ(r.mode, "quick");
  EXPECT_EQ(r.rounds, 5u);
  EXPECT_FALSE(steps.empty());
  // The foreign CPU is dropped with a warning, the rest measured.
  EXPECT_EQ(r.measured_cpus, usable);
  ASSERT_TRUE(r.domain.has_value());
  EXPECT_EQ(r.domain->pins, pins);
  EXPECT_FALSE(r.domain->qemu_pid.has_value());
  auto warned = [&](const std::string& part) {
    for (const auto& w : r.warnings)
      if (w.find(part) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(warned("may run on CPUs 4095 that this process cannot use"));
  EXPECT_TRUE(warned("no QEMU process of domain 'vpt-test-no-such-qemu'"));

  if (usable.size() >= 2) {
    ASSERT_TRUE(r.core_to_core.has_value());
    const CoreToCore& c = *r.core_to_core;
    ASSERT_EQ(c.median_ns.size(), usable.size());
    for (std::size_t i = 0; i < c.cpus.size(); ++i) {
      ASSERT_EQ(c.median_ns[i].size(), usable.size());
      EXPECT_FALSE(c.median_ns[i][i].has_value()) << "diagonal " << i;  // no CPU measured against itself
      for (std::size_t j = 0; j < c.cpus.size(); ++j)
        if (i != j) {
          EXPECT_TRUE(c.median_ns[i][j].has_value()) << i << "," << j;
        }
    }
    EXPECT_EQ(c.pairs.size(), usable.size() * (usable.size() - 1));
  }
  // 4 KiB doubling up to at least 256 MiB (memory permitting: this host has plenty).
  ASSERT_TRUE(r.memory_latency.has_value());
  const std::vector<LatencyPoint>& memory = r.memory_latency->points;
  ASSERT_GE(memory.size(), 17u);
  EXPECT_EQ(memory.front().bytes, 4 * KiB);
  EXPECT_GE(memory.back().bytes, 256 * MiB);
  EXPECT_EQ(memory.front().level, "L1");
  EXPECT_LT(*memory.front().ns, *memory.back().ns);
  // 15 samples in 5 rounds of 3, every size in every round.
  for (const auto& p : memory) {
    EXPECT_EQ(p.samples_ns.count(), r.memory_latency->method.samples) << p.bytes;
    ASSERT_EQ(p.samples_ns.rounds.size(), 5u) << p.bytes;
    for (const auto& round : p.samples_ns.rounds) EXPECT_EQ(round.size(), 3u) << p.bytes;
  }
  ASSERT_TRUE(r.interference.has_value());
  ASSERT_FALSE(r.interference->points.empty());
  bool l2_known = std::any_of(r.host.caches.begin(), r.host.caches.end(), [](auto& c) { return c.level == 2; });
  if (usable.size() >= 2 && l2_known) {
    EXPECT_EQ(r.interference->points[0].sized_to, "L2");
    EXPECT_TRUE(r.interference->points[0].ratio.has_value()) << r.interference->points[0].error;
  }
  ASSERT_TRUE(r.wakeup.has_value());
  ASSERT_EQ(r.wakeup->cpus.size(), usable.size());
  for (const auto& w : r.wakeup->cpus) {
    EXPECT_EQ(w.samples_us.count(), r.wakeup->method.count);
    EXPECT_EQ(w.samples_us.rounds.size(), 5u);
    EXPECT_TRUE(w.p99_us.has_value());  // 1000 samples: enough for p99
  }
  // No QEMU here: no steal, and no guest section (run_guest_probe was not called).
  EXPECT_FALSE(r.steal.has_value());
  EXPECT_FALSE(r.guest.has_value());
}

TEST(RunBench, RefusesRequestedCpusThatAreOffline) {
  BenchOptions options;
  options.quick = true;
  options.cpus = CpuSet{0, 4095};
  EXPECT_THROW(run_bench(options, probe_live_host(), nullptr, {}), BenchInputError);
}

}  // namespace
}  // namespace vpt
