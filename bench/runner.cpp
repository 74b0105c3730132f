// run_bench: chooses CPUs and sizes, runs the kernels, turns their samples
// into Results. The only place that wires the kernels together.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/domain_threads.hpp"
#include "bench/kernels.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB;
constexpr std::uint64_t kDramTarget = 256 * MiB;
constexpr unsigned kMaxNeighbours = 8;

struct Settings {
  CoreToCoreConfig c2c;
  PointerChaseConfig chase;
  InterferenceConfig interference;
  WakeupConfig wakeup;
  bool intermediate_sizes = false;  // 1.5x steps between powers of two
};

Settings settings_for(bool quick) {
  Settings s;
  if (quick) {
    s.c2c.samples = 300;
    s.c2c.warmup_samples = 20;
    s.c2c.budget = std::chrono::duration<double>(0.5);
    s.chase.samples = 15;
    s.chase.warmup_samples = 1;
    s.chase.loads_per_sample = 1u << 17;
    s.interference.samples = 30;
    s.interference.rounds = 3;
    s.interference.loads_per_sample = 1u << 15;
    s.wakeup.count = 1000;
  } else {
    s.c2c.samples = 1000;
    s.c2c.warmup_samples = 50;
    s.c2c.budget = std::chrono::duration<double>(3.0);
    s.chase.samples = 31;
    s.chase.warmup_samples = 2;
    s.chase.loads_per_sample = 1u << 19;
    s.interference.samples = 60;
    s.interference.rounds = 6;
    s.interference.loads_per_sample = 1u << 18;
    s.wakeup.count = 5000;
    s.intermediate_sizes = true;
  }
  return s;
}

std::optional<std::uint64_t> cache_bytes(const HostFingerprint& fp, int level) {
  for (const CacheSize& c : fp.caches)
    if (c.level == level) return c.size_bytes;
  return std::nullopt;
}

std::optional<std::uint64_t> mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * KiB;
  return std::nullopt;
}

std::string size_text(std::uint64_t bytes) { return format_bytes(bytes); }

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
}

}  // namespace

// The cache level a working set fits in, by the host model's sizes.
std::string level_for_bytes(std::uint64_t bytes, const std::vector<CacheSize>& caches) {
  for (const CacheSize& c : caches)
    if (bytes <= c.size_bytes) return fmt::format("L{}", c.level);
  if (caches.empty()) return "unknown (no cache sizes)";
  const CacheSize& top = caches.back();
  if (top.level >= 3) return bytes >= 4 * top.size_bytes ? "DRAM" : fmt::format("L{}-DRAM", top.level);
  return fmt::format("beyond L{} (L3 unknown)", top.level);
}

MeasuredDomain open_measured_domain(Hypervisor& connection, const std::string& name_or_uuid) {
  std::string name = connection.find_domain(name_or_uuid);
  if (!connection.is_running(name))
    throw BenchInputError(fmt::format("cannot measure domain '{}': it is not running", name));
  return {connection, std::move(name)};
}

Results run_bench(const BenchOptions& options, const Topology& host, const MeasuredDomain* domain,
                  const ProgressFn& progress_fn) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto progress = [&](const std::string& step) {
    if (progress_fn) progress_fn(step);
  };
  const Settings settings = settings_for(options.quick);

  Results res;
  res.tool_version = VPT_VERSION;
  res.created = utc_now();
  res.mode = options.quick ? "quick" : "thorough";
  res.host = read_host_fingerprint(host);
  const CpuSet usable = online_cpus() & allowed_cpus();
  if (!options.cpus.empty()) require_usable_cpus(options.cpus);
  if (!options.neighbour_cpus.empty()) require_usable_cpus(options.neighbour_cpus);

  // ---- The domain: pins, threads, counters before the run ----
  ProcPaths paths;
  LivePins pins;
  std::vector<QemuThread> threads;
  std::vector<ThreadCounters> counters_before;
  CpuSet guest_cpus, helper_cpus;
  if (domain) {
    progress(fmt::format("reading pins and threads of domain '{}'", domain->name));
    pins = domain->connection.live_pins(domain->name);
    DomainInForce d;
    d.uri = domain->connection.uri();
    d.name = domain->name;
    d.pins = pins;
    d.qemu_pid = find_qemu_pid(d.name, paths);
    if (d.qemu_pid) {
      threads = list_qemu_threads(*d.qemu_pid, d.name, paths);
      for (const QemuThread& t : threads) counters_before.push_back(read_thread_counters(*d.qemu_pid, t.tid, paths));
    } else {
      res.warnings.push_back(fmt::format(
          "no QEMU process of domain '{}' on this host (a remote URI or libvirt's test driver?): thread affinity "
          "and counters not checked; the kernels use libvirt's pins",
          d.name));
    }
    for (std::size_t i = 0; i < threads.size(); ++i)
      if (threads[i].kind == ThreadKind::Vcpu && counters_before[i].cpus_allowed)
        guest_cpus |= *counters_before[i].cpus_allowed;
    if (guest_cpus.empty())
      for (const CpuSet& s : pins.vcpus) guest_cpus |= s;
    helper_cpus = pins.emulator;
    for (const auto& [id, cpus] : pins.iothreads) helper_cpus |= cpus;
    CpuSet foreign = guest_cpus - usable;
    if (!foreign.empty()) {
      res.warnings.push_back(fmt::format(
          "the vCPUs of '{}' may run on CPUs {} that this process cannot use (offline or outside its affinity): "
          "measuring {} only",
          d.name, foreign, guest_cpus & usable));
      guest_cpus &= usable;
    }
    if (guest_cpus.empty())
      throw BenchInputError(fmt::format("cannot measure domain '{}': none of its vCPUs' CPUs is usable here", d.name));
    res.domain = std::move(d);
  }

  const CpuSet measured = !options.cpus.empty() ? options.cpus : domain ? guest_cpus : usable;
  if (measured.empty()) throw BenchInputError("cannot measure CPUs '': the list is empty");
  res.measured_cpus = measured;
  const unsigned first_cpu = measured.first();

  // ---- Method, recorded before anything can fail ----
  Method& m = res.method;
  m.c2c_samples = settings.c2c.samples;
  m.c2c_round_trips = settings.c2c.round_trips_per_sample;
  m.c2c_warmup = settings.c2c.warmup_samples;
  m.c2c_budget_s = settings.c2c.budget.count();
  m.chase_cpu = first_cpu;
  m.chase_samples = settings.chase.samples;
  m.chase_warmup = settings.chase.warmup_samples;
  m.chase_loads_per_sample = settings.chase.loads_per_sample;
  m.line_bytes = kLineBytes;
  m.interference_samples = settings.interference.samples;
  m.interference_rounds = settings.interference.rounds;
  m.wakeup_count = settings.wakeup.count;
  m.wakeup_warmup = settings.wakeup.warmup;
  m.wakeup_interval_us = static_cast<unsigned>(settings.wakeup.interval.count());
  m.wakeup_policy = "SCHED_OTHER, timer slack 1 ns";

  const auto l2 = cache_bytes(res.host, 2), l3 = cache_bytes(res.host, 3);
  std::uint64_t largest_cache = 0;
  for (const CacheSize& c : res.host.caches) largest_cache = std::max(largest_cache, c.size_bytes);
  if (res.host.hypervisor)
    res.warnings.push_back("this host is itself a virtual machine: latencies include the outer hypervisor's "
                           "scheduling, and its CPUs are vCPUs whose placement on real cores is unknown");
  if (res.host.governor && *res.host.governor != "performance")
    res.warnings.push_back(fmt::format("CPU frequency governor is '{}', not 'performance': clock changes add noise",
                                       *res.host.governor));
  if (!l3)
    res.warnings.push_back("the host model has no L3 size: memory sizes beyond L2 are not labelled L3 or DRAM, "
                           "and interference uses an 8 MiB working set in place of an L3-sized one");

  // ---- 1. Core-to-core ----
  std::vector<unsigned> cpus = measured.to_vector();
  if (cpus.size() >= 2) {
    CoreToCore c2c;
    c2c.cpus = cpus;
    c2c.warmup_samples_discarded = settings.c2c.warmup_samples;
    c2c.median_ns.assign(cpus.size(), std::vector<std::optional<double>>(cpus.size()));
    const std::size_t total = cpus.size() * (cpus.size() - 1);
    std::size_t done = 0;
    for (std::size_t i = 0; i < cpus.size(); ++i)
      for (std::size_t j = 0; j < cpus.size(); ++j) {
        if (i == j) continue;
        progress(fmt::format("core-to-core CPU {} -> CPU {} ({}/{})", cpus[i], cpus[j], ++done, total));
        CoreToCorePair pair;
        pair.from_cpu = cpus[i];
        pair.to_cpu = cpus[j];
        try {
          CoreToCoreSamples s = measure_core_to_core(cpus[i], cpus[j], settings.c2c);
          pair.samples_ns = std::move(s.one_way_ns);
          pair.round_trips_per_sample = s.round_trips_per_sample;
        } catch (const std::exception& e) {
          pair.error = e.what();
        }
        c2c.median_ns[i][j] = median(pair.samples_ns);
        c2c.pairs.push_back(std::move(pair));
      }
    res.core_to_core = std::move(c2c);
  } else {
    res.warnings.push_back(fmt::format("core-to-core latency needs two CPUs; measured CPUs: {}", measured));
  }

  // ---- 2. Memory latency ----
  std::uint64_t max_bytes = std::max(kDramTarget, 4 * largest_cache);
  if (auto avail = mem_available_bytes(); avail && max_bytes > *avail / 4) {
    std::uint64_t capped = 4 * KiB;
    while (capped * 2 <= *avail / 4) capped *= 2;
    res.warnings.push_back(fmt::format("memory latency stops at {} (a quarter of the available memory), not {}",
                                       size_text(capped), size_text(max_bytes)));
    max_bytes = capped;
  }
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t b = 4 * KiB; b < 2 * max_bytes; b *= 2) {
    sizes.push_back(std::min(b, max_bytes));
    if (settings.intermediate_sizes && b * 3 / 2 < max_bytes) sizes.push_back(b * 3 / 2);
    if (b >= max_bytes) break;
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (std::uint64_t bytes : sizes) {
    progress(fmt::format("memory latency {} on CPU {}", size_text(bytes), first_cpu));
    LatencyPoint pt;
    pt.bytes = bytes;
    pt.level = level_for_bytes(bytes, res.host.caches);
    try {
      pt.samples_ns = measure_pointer_chase(first_cpu, bytes, settings.chase);
    } catch (const std::exception& e) {
      pt.error = e.what();
    }
    pt.ns = median(pt.samples_ns);
    res.memory_latency.push_back(std::move(pt));
  }

  // ---- 3. Interference ----
  CpuSet neighbours = options.neighbour_cpus;
  std::string neighbour_problem;
  if (neighbours.empty()) {
    CpuSet candidates = domain ? (helper_cpus & usable) - guest_cpus : CpuSet{};
    if (candidates.empty()) candidates = usable - measured;
    if (candidates.empty()) {
      // Prefer a CPU outside the chasing CPU's core: an SMT sibling measures core sharing instead.
      candidates = usable - smt_siblings(host, first_cpu);
      if (candidates.empty()) candidates = usable - CpuSet{first_cpu};
    }
    for (unsigned cpu : candidates) {
      if (neighbours.size() >= (domain ? kMaxNeighbours : 1u)) break;
      neighbours.insert(cpu);
    }
  }
  neighbours.erase(first_cpu);
  if (neighbours.empty()) neighbour_problem = fmt::format("no usable CPU other than {} for the neighbour", first_cpu);
  InterferenceConfig itf = settings.interference;
  itf.thrash_bytes = std::max<std::uint64_t>(64 * MiB, 2 * largest_cache);
  m.thrash_bytes = itf.thrash_bytes;
  struct Sized {
    std::uint64_t bytes;
    std::string sized_to;
  };
  std::vector<Sized> working_sets;
  // Three quarters of a cache: fits with room for page tables and the stack.
  if (l2) working_sets.push_back({*l2 * 3 / 4, "L2"});
  if (l3) working_sets.push_back({*l3 * 3 / 4, "L3"});
  else working_sets.push_back({8 * MiB, "8 MiB (L3 size unknown)"});
  for (const Sized& ws : working_sets) {
    InterferencePoint pt;
    pt.bytes = ws.bytes;
    pt.sized_to = ws.sized_to;
    pt.cpu = first_cpu;
    pt.neighbour_cpus = neighbours;
    if (!neighbour_problem.empty()) {
      pt.error = neighbour_problem;
    } else {
      progress(fmt::format("interference {} on CPU {}, neighbour on {}", size_text(ws.bytes), first_cpu, neighbours));
      try {
        InterferenceSamples s = measure_interference(first_cpu, neighbours, ws.bytes, itf);
        pt.quiet_samples_ns = std::move(s.quiet_ns);
        pt.noisy_samples_ns = std::move(s.noisy_ns);
      } catch (const std::exception& e) {
        pt.error = e.what();
      }
    }
    pt.quiet_ns = median(pt.quiet_samples_ns);
    pt.noisy_ns = median(pt.noisy_samples_ns);
    if (pt.quiet_ns && pt.noisy_ns && *pt.quiet_ns > 0) pt.ratio = *pt.noisy_ns / *pt.quiet_ns;
    res.interference.push_back(std::move(pt));
  }

  // ---- 4. Wake-up ----
  progress(fmt::format("wake-up latency on CPUs {} ({} wake-ups, {} us apart)", measured, settings.wakeup.count,
                       settings.wakeup.interval.count()));
  std::vector<std::vector<double>> lateness;
  std::string wake_error;
  try {
    lateness = measure_wakeup(cpus, settings.wakeup);
  } catch (const std::exception& e) {
    wake_error = e.what();
    lateness.assign(cpus.size(), {});
  }
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    WakeupResult w;
    w.cpu = cpus[i];
    w.samples_us = std::move(lateness[i]);
    w.error = wake_error;
    w.p50_us = quantile(w.samples_us, 0.5);
    w.p99_us = quantile(w.samples_us, 0.99);
    w.max_us = maximum(w.samples_us);
    res.wakeup.push_back(std::move(w));
  }

  // ---- The domain after the run ----
  if (res.domain && res.domain->qemu_pid) {
    std::vector<ThreadCounters> after;
    for (const QemuThread& t : threads) after.push_back(read_thread_counters(*res.domain->qemu_pid, t.tid, paths));
    res.domain->threads = check_threads(pins, threads, counters_before, after);
    for (const ThreadCheck& t : res.domain->threads)
      if (t.matches && !*t.matches)
        res.warnings.push_back(fmt::format("thread {} ('{}') may run on CPUs {} but the domain pins it to {}", t.tid,
                                           t.comm, t.actual->to_string(), t.pinned->to_string()));
  }

  res.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  return res;
}

}  // namespace vpt
