// How long `suggest` takes to plan (the topology is loaded once, outside the
// timing). Targets (issue: optimizer): < 10 ms for one guest and < 200 ms for
// eight guests on the 384-CPU EPYC 9654. Figures go in the README.
#include <benchmark/benchmark.h>

#include <string>

#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"

namespace {

vpt::Topology load(const std::string& relative) {
  std::string path = std::string(VPT_CORPUS_DIR) + "/" + relative;
  return relative.ends_with(".txt") ? vpt::load_lscpu_file(path) : vpt::load_hwloc_xml_file(path);
}

vpt::Request guests(unsigned count, unsigned vcpus) {
  vpt::Request request;
  for (unsigned i = 0; i < count; ++i) {
    vpt::GuestRequest guest;
    guest.name = "vm" + std::to_string(i + 100);
    guest.vcpus = vcpus;
    request.guests.push_back(guest);
  }
  return request;
}

void plan_on(benchmark::State& state, const std::string& fixture, unsigned count, unsigned vcpus) {
  const vpt::Topology topo = load(fixture);
  const vpt::Request request = guests(count, vcpus);
  bool optimal = false;
  for (auto _ : state) {
    vpt::Plan plan = vpt::make_plan(topo, request);
    optimal = plan.optimal;
    benchmark::DoNotOptimize(plan);
  }
  state.counters["cpus"] = static_cast<double>(topo.cpus.size());
  state.counters["optimal"] = optimal ? 1 : 0;
}

void BM_SuggestEpyc9654OneGuest(benchmark::State& s) { plan_on(s, "hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", 1, 16); }
void BM_SuggestEpyc9654EightGuests(benchmark::State& s) { plan_on(s, "hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", 8, 16); }
void BM_SuggestEpyc9654BothSockets(benchmark::State& s) { plan_on(s, "hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", 1, 256); }
void BM_SuggestI7_14700F(benchmark::State& s) { plan_on(s, "lscpu/intel-core-i7-14700f.txt", 1, 16); }
void BM_SuggestCorei7_1370P(benchmark::State& s) { plan_on(s, "hwloc/Intel-RaptorLake-Corei7-1370P.xml", 1, 8); }
void BM_SuggestRyzen5800X(benchmark::State& s) { plan_on(s, "lscpu/amd-ryzen7-5800x.txt", 1, 12); }
void BM_Suggest24NodeXeonTwoGuests(benchmark::State& s) { plan_on(s, "hwloc/192em64t-24n8c2t.xml", 2, 16); }

BENCHMARK(BM_SuggestEpyc9654OneGuest)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SuggestEpyc9654EightGuests)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SuggestEpyc9654BothSockets)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SuggestI7_14700F)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SuggestCorei7_1370P)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SuggestRyzen5800X)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Suggest24NodeXeonTwoGuests)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
