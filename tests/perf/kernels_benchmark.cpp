// The measurement kernels on this machine: the orderings a cache hierarchy
// shows (a chase in half an L1 is faster than one in half an L2, which is
// faster than one in DRAM) and the symmetry of core-to-core latency. These
// are timings, so they are read here and recorded in the README with their
// machine, not asserted in the unit tests (docs/CONVENTIONS.md).
//
//   kernels_benchmark --benchmark_counters_tabular=true
// ns_per_load / one_way_ns: the median of each run's samples.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/kernels.hpp"
#include "bench/statistics.hpp"
#include "probe/probe.hpp"

namespace {

std::optional<std::uint64_t> smallest_cache(const vpt::Topology& topo, int level) {
  std::optional<std::uint64_t> size;
  for (const vpt::Cache* c : vpt::caches_at_level(topo, level))
    if (c->size_bytes && (!size || *c->size_bytes < *size)) size = c->size_bytes;
  return size;
}

vpt::CpuSet usable() { return vpt::online_cpus() & vpt::allowed_cpus(); }

// Half of each cache level (so that it fits), and DRAM: 256 MiB or 4 x the
// largest L3 the model reports, whichever is more (a VM may report its
// host socket's whole L3).
void register_pointer_chase() {
  const vpt::Topology host = vpt::probe_live_host();
  std::vector<std::pair<std::string, std::uint64_t>> sizes;
  for (int level : {1, 2, 3})
    if (auto size = smallest_cache(host, level)) sizes.push_back({"L" + std::to_string(level) + "/2", *size / 2});
  const std::uint64_t dram = std::max<std::uint64_t>(256u << 20, 4 * smallest_cache(host, 3).value_or(0));
  sizes.push_back({"DRAM", dram});
  const unsigned cpu = usable().first();
  for (const auto& [name, bytes] : sizes)
    benchmark::RegisterBenchmark(("BM_PointerChase/" + name).c_str(),
                                 [cpu, bytes = bytes](benchmark::State& state) {
                                   vpt::PointerChaseConfig config;
                                   config.samples = 9;
                                   config.loads_per_sample = 1u << 17;
                                   double ns = 0;
                                   for (auto _ : state) ns = *vpt::median(vpt::measure_pointer_chase(cpu, bytes, config));
                                   state.counters["ns_per_load"] = ns;
                                   state.counters["bytes"] = static_cast<double>(bytes);
                                 })
        ->Iterations(3)
        ->Unit(benchmark::kMillisecond);
}

// Both directions between the first and last usable CPU, in alternating short
// rounds so that a hypervisor moving the vCPUs hits both alike.
void register_core_to_core() {
  const vpt::CpuSet cpus = usable();
  if (cpus.size() < 2) return;
  const unsigned a = cpus.first(), b = cpus.last();
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}})
    benchmark::RegisterBenchmark(("BM_CoreToCore/" + std::to_string(from) + "->" + std::to_string(to)).c_str(),
                                 [from = from, to = to](benchmark::State& state) {
                                   vpt::CoreToCoreConfig config;
                                   config.samples = 100;
                                   std::vector<double> all;
                                   for (auto _ : state) {
                                     auto s = vpt::measure_core_to_core(from, to, config);
                                     all.insert(all.end(), s.one_way_ns.begin(), s.one_way_ns.end());
                                   }
                                   state.counters["one_way_ns"] = *vpt::median(all);
                                 })
        ->Iterations(8)
        ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_pointer_chase();
  register_core_to_core();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
