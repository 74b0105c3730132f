// How long `suggest` takes to plan (the topology is loaded once, outside the
// timing). Targets: < 10 ms for one guest and < 200 ms for eight guests on
// the 384-CPU EPYC 9654; whole-host plans of 16 guests there < 50 ms and of 4
// guests on an i7-14700F < 5 ms. Figures go in the README.
#include <benchmark/benchmark.h>

#include <string>

#include <fmt/format.h>

#include "optimizer/host_plan.hpp"
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

// A whole host. 16 guests: every fourth passes a device through (dedicated),
// the others share the pool; vCPU counts 4, 8, 16 in turn. 4 guests: two
// dedicated of 8 vCPUs (a gaming VM, a workstation), two shared of 4.
void plan_host_on(benchmark::State& state, const std::string& fixture, unsigned count) {
  const vpt::Topology topo = load(fixture);
  vpt::HostRequest request;
  for (unsigned i = 0; i < count; ++i) {
    vpt::HostGuest guest;
    guest.request.name = "vm" + std::to_string(i + 100);
    const bool small_host = count <= 4;
    const bool dedicated = small_host ? i % 2 == 0 : i % 4 == 0;
    guest.request.vcpus = small_host ? (dedicated ? 8u : 4u) : 4u << (i % 3);
    guest.role = dedicated ? vpt::GuestRole::Dedicated : vpt::GuestRole::Shared;
    if (guest.role == vpt::GuestRole::Dedicated) guest.devices = {fmt::format("0000:{:02x}:00.0", i + 1)};
    request.guests.push_back(guest);
  }
  for (auto _ : state) {
    vpt::HostPlan plan = vpt::plan_host(topo, request);
    benchmark::DoNotOptimize(plan);
  }
  state.counters["cpus"] = static_cast<double>(topo.cpus.size());
}

void BM_WholeHostEpyc9654SixteenGuests(benchmark::State& s) {
  plan_host_on(s, "hwloc/AMD-19h-Zen4-2xEpyc-9654.xml", 16);
}
void BM_WholeHostI7_14700FFourGuests(benchmark::State& s) {
  plan_host_on(s, "lscpu/intel-core-i7-14700f.txt", 4);
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
BENCHMARK(BM_WholeHostEpyc9654SixteenGuests)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WholeHostI7_14700FFourGuests)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
