// One Results value with every field set, shared by the results, compare and
// writer tests. Samples are synthetic: `latency(center, n, seed)` spreads n
// values uniformly over center ± 2% so that shifts are known exactly; they are
// split into kRounds rounds as a run takes them.
#pragma once

#include <random>
#include <vector>

#include "bench/results.hpp"

namespace vpt::test {

inline constexpr unsigned kRounds = 5;

inline std::vector<double> latency(double center, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.02, 0.02);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(center * (1 + jitter(rng)));
  return v;
}

// `scale` multiplies every latency: 1.0 = baseline, 0.8 = 20% faster.
inline Results sample_results(double scale = 1.0, unsigned seed = 1) {
  Results r;
  r.tool_version = "0.1.0";
  r.created = "2025-01-02T03:04:05Z";
  r.mode = "quick";
  r.duration_s = 7.5;
  r.host.hostname = "bench-host";
  r.host.cpu_model = "AMD EPYC 9654 96-Core Processor";
  r.host.cpu_vendor = "AuthenticAMD";
  r.host.microcode = "0xa101144";
  r.host.kernel = "6.1.0-18-amd64";
  r.host.bios_version = "1.2.3";
  r.host.bios_date = "01/02/2024";
  r.host.online_cpus = 4;
  r.host.allowed_cpus = CpuSet::range(0, 3);
  r.host.governor = "performance";
  r.host.smt_active = false;
  r.host.isolcpus = CpuSet{2, 3};
  r.host.hypervisor = false;
  r.host.transparent_hugepage = "madvise";
  r.host.caches = {{1, 32768}, {2, 1048576}, {3, 33554432}};
  r.measured_cpus = CpuSet{2, 3};

  DomainInForce d;
  d.uri = "qemu:///system";
  d.name = "web";
  d.qemu_pid = 4242;
  d.pins.vcpus = {CpuSet{2}, CpuSet{3}};
  d.pins.emulator = CpuSet{0, 1};
  d.pins.iothreads = {{1, CpuSet{1}}};
  ThreadCheck vcpu0{ThreadKind::Vcpu, 0u, 4250, "CPU 0/KVM", CpuSet{2}, CpuSet{2}, true, 0u, 12u};
  ThreadCheck main{ThreadKind::Emulator, std::nullopt, 4242, "qemu-system-x86", CpuSet{0, 1}, CpuSet{0, 1, 2, 3},
                   false, 7u, std::nullopt};
  d.threads = {vcpu0, main};
  r.domain = d;

  r.rounds = kRounds;
  auto rounds = [](const std::vector<double>& samples) { return RoundSamples::split(samples, kRounds); };

  CoreToCore c2c;
  c2c.method = {300, 100, 4, 0.5};
  c2c.cpus = {2, 3};
  CoreToCorePair p23{2, 3, rounds(latency(50 * scale, 300, seed)), 100, ""};
  CoreToCorePair p32{3, 2, rounds(latency(51 * scale, 300, seed + 1)), 100, ""};
  c2c.pairs = {p23, p32};
  c2c.median_ns = {{std::nullopt, 50 * scale}, {51 * scale, std::nullopt}};
  r.core_to_core = c2c;

  MemoryLatency memory;
  memory.method = {2, 15, 1, 131072, 5, 64};
  memory.points = {
      {4096, 1.2 * scale, "L1", 131072, rounds(latency(1.2 * scale, 15, seed + 2)), ""},
      {1u << 20, 5.0 * scale, "L2", 65536, rounds(latency(5.0 * scale, 15, seed + 3)), ""},
      {256u << 20, std::nullopt, "DRAM", 0, RoundSamples{std::vector<std::vector<double>>(kRounds)},
       "cannot map the pointer-chase buffer: Cannot allocate memory"},
  };
  r.memory_latency = memory;
  InterferencePoint itf;
  itf.bytes = 786432;
  itf.sized_to = "L2";
  itf.cpu = 2;
  itf.neighbour_cpus = CpuSet{0};
  itf.quiet_samples_ns = rounds(latency(5.0, 30, seed + 4));
  itf.noisy_samples_ns = rounds(latency(5.0 * scale * 1.5, 30, seed + 5));
  itf.quiet_ns = 5.0;
  itf.noisy_ns = 7.5 * scale;
  itf.ratio = 1.5 * scale;
  Interference interference;
  interference.method = {30, 1, 67108864};
  interference.points = {itf};
  r.interference = interference;

  WakeupResult w2{2, 50 * scale, 80 * scale, 95 * scale, rounds(latency(50 * scale, 1000, seed + 6)), ""};
  WakeupResult w3{3, std::nullopt, std::nullopt, std::nullopt, RoundSamples{std::vector<std::vector<double>>(kRounds)},
                  "cannot pin thread to CPU '3': Invalid argument"};
  Wakeup wakeup;
  wakeup.method.count = 1000;
  wakeup.method.warmup_per_round = 10;
  wakeup.method.interval_us = 1000;
  wakeup.method.policy = "SCHED_OTHER, timer slack 1 ns";
  wakeup.cpus = {w2, w3};
  r.wakeup = wakeup;

  // Steal of both vCPU threads: quiet, and while the in-guest probe ran.
  StealWindow quiet{"quiet", "quiet: 0.3 s in each round", 0.1, 1.5, {}};
  quiet.vcpus = {{0, 4250, rounds(latency(2 * scale, 15, seed + 7)), rounds(latency(20, 15, seed + 8)), 40, ""},
                 {1, 4251, rounds(latency(3 * scale, 15, seed + 9)), rounds(latency(20, 15, seed + 10)), 41, ""}};
  r.steal = Steal{{quiet}};

  GuestResults g;
  g.channel = "agent";
  g.via = "qemu-ga";
  g.command = "/tmp/vpt-guest-probe-1 --quick --rounds 5";
  g.os = "Debian GNU/Linux 12 (bookworm)";
  g.exit_code = 0;
  g.duration_s = 2.5;
  g.output.version = 2;
  g.output.os = "linux";
  g.output.online_cpus = 2;
  g.output.timer_ns = 20;
  g.output.rounds = kRounds;
  g.output.complete = true;
  g.output.c2c = {{0, 1, 10, rounds(latency(4000 * scale, 100, seed + 11)), ""}};
  g.output.chase = {{0, 16384, 4096, rounds(latency(1.5, 15, seed + 12)), ""}};
  g.output.wakeup = {{0, 1000, "clock_nanosleep", rounds(latency(60 * scale, 1000, seed + 13)), ""},
                     {1, 1000, "clock_nanosleep", rounds(latency(61 * scale, 1000, seed + 14)), ""}};
  r.guest = g;
  r.warnings = {"this host is itself a virtual machine"};
  return r;
}

}  // namespace vpt::test
