// run_bench: the run's CPUs and domain, then every kernel of the table in
// interleaved rounds. What each kernel measures and how is in its own file.
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
#include "bench/kernel_table.hpp"
#include "bench/kernels.hpp"

namespace vpt {

namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
}

}  // namespace

unsigned default_rounds(bool quick) { return quick ? 5 : 10; }

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
  auto progress = [&](std::string_view step) {
    if (progress_fn) progress_fn(step);
  };

  Results res;
  res.tool_version = VPT_VERSION;
  res.created = utc_now();
  res.mode = options.quick ? "quick" : "thorough";
  res.rounds = options.rounds.value_or(default_rounds(options.quick));
  if (res.rounds < 1) throw BenchInputError("cannot measure in 0 rounds: give --rounds 1 or more");
  res.host = read_host_fingerprint(host);
  const CpuSet usable = online_cpus() & allowed_cpus();
  if (!options.cpus.empty()) require_usable_cpus(options.cpus);
  if (!options.neighbour_cpus.empty()) require_usable_cpus(options.neighbour_cpus);

  RunContext ctx(options, host);
  ctx.rounds = res.rounds;
  ctx.usable = usable;
  ctx.progress = progress;

  // ---- The domain: pins, threads, counters before the run ----
  ProcPaths paths;
  LivePins pins;
  std::vector<ThreadCounters> counters_before;
  if (domain) {
    progress(fmt::format("reading pins and threads of domain '{}'", domain->name));
    pins = domain->connection.live_pins(domain->name);
    DomainInForce d;
    d.uri = domain->connection.uri();
    d.name = domain->name;
    d.pins = pins;
    d.qemu_pid = domain->process ? std::optional(domain->process->pid) : find_qemu_pid(d.name, paths);
    ctx.domain = true;
    ctx.qemu_pid = d.qemu_pid;
    if (d.qemu_pid) {
      ctx.threads = list_qemu_threads(*d.qemu_pid, d.name, paths);
      if (domain->process) mark_iothreads(ctx.threads, domain->process->iothread_tids);
      for (const QemuThread& t : ctx.threads)
        counters_before.push_back(read_thread_counters(*d.qemu_pid, t.tid, paths));
    } else {
      res.warnings.push_back(fmt::format(
          "no QEMU process of domain '{}' on this host (a remote URI or libvirt's test driver?): thread affinity, "
          "counters and steal not checked; the kernels use libvirt's pins",
          d.name));
    }
    for (std::size_t i = 0; i < ctx.threads.size(); ++i)
      if (ctx.threads[i].kind == ThreadKind::Vcpu && counters_before[i].cpus_allowed)
        ctx.guest_cpus |= *counters_before[i].cpus_allowed;
    if (ctx.guest_cpus.empty())
      for (const CpuSet& s : pins.vcpus) ctx.guest_cpus |= s;
    ctx.helper_cpus = pins.emulator;
    for (const auto& [id, cpus] : pins.iothreads) ctx.helper_cpus |= cpus;
    CpuSet foreign = ctx.guest_cpus - usable;
    if (!foreign.empty()) {
      res.warnings.push_back(fmt::format(
          "the vCPUs of '{}' may run on CPUs {} that this process cannot use (offline or outside its affinity): "
          "measuring {} only",
          d.name, foreign, ctx.guest_cpus & usable));
      ctx.guest_cpus &= usable;
    }
    if (ctx.guest_cpus.empty())
      throw BenchInputError(fmt::format("cannot measure domain '{}': none of its vCPUs' CPUs is usable here", d.name));
    res.domain = std::move(d);
  }

  ctx.measured = !options.cpus.empty() ? options.cpus : domain ? ctx.guest_cpus : usable;
  if (ctx.measured.empty()) throw BenchInputError("cannot measure CPUs '': the list is empty");
  res.measured_cpus = ctx.measured;

  bool l3_known = false;
  for (const CacheSize& c : res.host.caches) l3_known = l3_known || c.level == 3;
  if (res.host.hypervisor)
    res.warnings.push_back("this host is itself a virtual machine: latencies include the outer hypervisor's "
                           "scheduling, and its CPUs are vCPUs whose placement on real cores is unknown");
  if (res.host.governor && *res.host.governor != "performance")
    res.warnings.push_back(fmt::format("CPU frequency governor is '{}', not 'performance': clock changes add noise",
                                       *res.host.governor));
  if (!l3_known)
    res.warnings.push_back("the host model has no L3 size: memory sizes beyond L2 are not labelled L3 or DRAM, "
                           "and interference uses an 8 MiB working set in place of an L3-sized one");

  // ---- The kernels, interleaved round by round ----
  // Every kernel measures a share of its samples in each round, so that a
  // disturbance of a second or two moves one round of every kernel instead of
  // all samples of one; compare tests the rounds' medians.
  std::vector<std::unique_ptr<KernelRun>> runs;
  for (const Kernel* kernel : kernel_table())
    if (kernel->start)
      if (auto run = kernel->start(ctx, res)) runs.push_back(std::move(run));
  for (unsigned round = 0; round < ctx.rounds; ++round)
    for (auto& run : runs) run->round(round);
  for (auto& run : runs) run->finish(res);

  // ---- The domain after the run ----
  if (res.domain && res.domain->qemu_pid) {
    std::vector<ThreadCounters> after;
    for (const QemuThread& t : ctx.threads) after.push_back(read_thread_counters(*res.domain->qemu_pid, t.tid, paths));
    res.domain->threads = check_threads(pins, ctx.threads, counters_before, after);
    for (const ThreadCheck& t : res.domain->threads)
      if (t.matches && !*t.matches)
        res.warnings.push_back(fmt::format("thread {} ('{}') may run on CPUs {} but the domain pins it to {}", t.tid,
                                           t.comm, t.actual->to_string(), t.pinned->to_string()));
  }

  res.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  return res;
}

}  // namespace vpt
