// make_plan: resolve the request's defaults, search, and put the winning
// layout into words (explanation, warnings, advice).
#include "optimizer/optimizer.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "optimizer/cost_model.hpp"
#include "optimizer/search.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

constexpr double kEpsilon = 1e-6;

// The brief's rule: the host keeps at least two cores, and never less than
// one whole L2 group (an E-core cluster), so it does not share an L2 with the guest.
unsigned default_reserve(const Topology& topo) {
  unsigned reserve = 2;
  for (const Cache* l2 : multi_core_caches(topo, 2)) {
    std::set<unsigned> cores;
    for (unsigned cpu : l2->cpus) cores.insert(find_cpu(topo, cpu)->core);
    reserve = std::max<unsigned>(reserve, static_cast<unsigned>(cores.size()));
  }
  return reserve;
}

// Most vCPUs that fit: usable threads minus the cores the host must take from them.
unsigned max_vcpus(const Topology& topo, const CpuSet& usable, unsigned reserve) {
  std::vector<unsigned> usable_threads;
  unsigned host_elsewhere = 0;
  for (const Core& core : topo.cores) {
    if (usable.contains(core.cpus)) usable_threads.push_back(core.cpus.size());
    else ++host_elsewhere;
  }
  std::sort(usable_threads.begin(), usable_threads.end());  // the host takes the smallest cores first
  unsigned take = reserve > host_elsewhere ? reserve - host_elsewhere : 0;
  unsigned total = 0;
  for (std::size_t i = take; i < usable_threads.size(); ++i) total += usable_threads[i];
  return total;
}

// --vcpus auto: the preferred kind's cores on one NUMA node, minus what the
// host must keep of them when it has nothing else.
unsigned auto_vcpus(const Topology& topo, const CpuSet& usable, unsigned reserve, Preference prefer) {
  const unsigned wanted_kind = prefer == Preference::Efficiency ? 0 : static_cast<unsigned>(topo.kinds.size() - 1);
  std::map<int, std::vector<unsigned>> by_node;  // NUMA node -> thread counts of preferred usable cores
  for (const Core& core : topo.cores) {
    if (!usable.contains(core.cpus) || core.kind != wanted_kind) continue;
    auto numa = find_cpu(topo, core.cpus.first())->numa;
    by_node[numa ? static_cast<int>(*numa) : -1].push_back(core.cpus.size());
  }
  unsigned best = 0;
  for (auto& [node, threads] : by_node) {
    unsigned others = static_cast<unsigned>(topo.cores.size() - threads.size());
    unsigned take = reserve > others ? reserve - others : 0;
    std::sort(threads.begin(), threads.end());
    unsigned total = 0;
    for (std::size_t i = take; i < threads.size(); ++i) total += threads[i];
    best = std::max(best, total);
  }
  return best;
}

ResolvedRequest resolve(const Topology& topo, const Request& request) {
  if (request.guests.empty()) throw RequestError("cannot plan: the request names no guest");
  std::set<std::string> names;
  for (const GuestRequest& guest : request.guests) {
    if (guest.name.empty()) throw RequestError("cannot plan: a guest has an empty name");
    if (!names.insert(guest.name).second)
      throw RequestError(fmt::format("cannot plan: guest name '{}' is used twice", guest.name));
    if (guest.vcpus && *guest.vcpus == 0)
      throw RequestError(fmt::format("cannot plan guest '{}': it needs at least one vCPU", guest.name));
  }
  const CpuSet online = all_cpus(topo);
  for (const auto& [flag, set] : {std::pair{"--cpus", request.allowed}, std::pair{"--exclude", request.excluded}})
    if (!online.contains(set))
      throw RequestError(fmt::format("cannot plan: CPUs {} given to {} are not online CPUs of this host (online: {})",
                                     set - online, flag, online));

  ResolvedRequest resolved;
  resolved.request = request;
  resolved.usable = (request.allowed.empty() ? online : request.allowed) - request.excluded;
  resolved.reserve_cores = request.reserve_cores.value_or(default_reserve(topo));

  const unsigned most = max_vcpus(topo, resolved.usable, resolved.reserve_cores);
  unsigned autos = 0;
  for (GuestRequest& guest : resolved.request.guests)
    if (!guest.vcpus) {
      ++autos;
      guest.vcpus = auto_vcpus(topo, resolved.usable, resolved.reserve_cores, guest.prefer);
    }
  if (autos > 1) throw RequestError("cannot plan: --vcpus auto works for one guest at a time; give the others a count");
  if (autos == 1 && resolved.request.guests.size() > 1) {
    unsigned others = 0;
    for (const GuestRequest& guest : request.guests) others += guest.vcpus.value_or(0);
    for (GuestRequest& guest : resolved.request.guests)
      if (!request.guests[&guest - resolved.request.guests.data()].vcpus)
        guest.vcpus = std::min(*guest.vcpus, most > others ? most - others : 0);
  }
  unsigned total = 0;
  for (const GuestRequest& guest : resolved.request.guests) {
    if (*guest.vcpus == 0)
      throw RequestError(fmt::format("cannot plan guest '{}': this host has {} cores and the host keeps {} of them; "
                                     "lower that with --reserve (0 lets the host share the guest's CPUs)",
                                     guest.name, topo.cores.size(), resolved.reserve_cores));
    total += *guest.vcpus;
  }
  if (total > most)
    throw RequestError(fmt::format(
        "cannot place {} vCPUs on this host: at most {} fit ({} usable CPUs {}, and the host keeps at least {} "
        "core{}); ask for {} or fewer, or lower --reserve",
        total, most, resolved.usable.size(), resolved.usable, resolved.reserve_cores,
        resolved.reserve_cores == 1 ? "" : "s", most));
  return resolved;
}

std::string describe_cores(const Topology& topo, const std::vector<unsigned>& cpus) {
  std::map<unsigned, unsigned> kinds;  // kind -> cores
  std::set<unsigned> cores;
  for (unsigned cpu : cpus) cores.insert(find_cpu(topo, cpu)->core);
  for (unsigned core : cores) ++kinds[topo.cores[core].kind];
  std::vector<std::string> parts;
  for (auto& [kind, count] : kinds)
    parts.push_back(fmt::format("{} {}{}", count, topo.kinds.size() > 1 ? topo.kinds[kind].name : "core",
                                count == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, " + "));
}

CpuSet numa_nodes_of(const Topology& topo, const CpuSet& cpus) {
  CpuSet nodes;
  for (unsigned cpu : cpus)
    if (auto n = find_cpu(topo, cpu)->numa) nodes.insert(*n);
  return nodes;
}

std::string cpu_list_phrase(const CpuSet& cpus) {
  return fmt::format("{} {}", cpus.size() == 1 ? "CPU" : "CPUs", cpus);
}

std::string cache_name(const Cache& cache) { return fmt::format("L{} #{} (CPUs {})", cache.level, cache.index, cache.cpus); }

// Sharing between two CPU sets, from the most to the least harmful: the same
// core, then L2, then L3. Returns one phrase per shared instance.
std::vector<std::pair<int, std::string>> shared_between(const Topology& topo, const CpuSet& a, const CpuSet& b) {
  std::vector<std::pair<int, std::string>> found;
  for (const Core& core : topo.cores)
    if (core.cpus.intersects(a) && core.cpus.intersects(b))
      found.push_back({1, fmt::format("core {} (CPUs {})", core.index, core.cpus)});
  for (int level : {2, 3})
    for (const Cache* cache : caches_at_level(topo, level))
      if (cache->cpus.intersects(a) && cache->cpus.intersects(b)) {
        bool within_one_core = false;
        for (const Core& core : topo.cores) within_one_core |= core.cpus.contains(cache->cpus);
        if (!within_one_core) found.push_back({level, cache_name(*cache)});
      }
  return found;
}

void describe(const Topology& topo, const ResolvedRequest& resolved, const Layout& layout, Plan& plan) {
  const bool host_has_own = layout.host != all_cpus(topo) || layout.guests.empty();
  for (std::size_t k = 0; k < layout.guests.size(); ++k) {
    const Layout::Guest& guest = layout.guests[k];
    const GuestRequest& request = resolved.request.guests[k];
    CpuSet vcpu_set;
    for (unsigned cpu : guest.vcpus) vcpu_set.insert(cpu);
    const GuestTopology& t = guest.topology;
    plan.explanation.push_back(fmt::format(
        "Guest '{}': {} vCPUs on CPUs {} ({}), presented as {} socket{} x {} die{} x {} core{} x {} thread{}.",
        request.name, guest.vcpus.size(), vcpu_set, describe_cores(topo, guest.vcpus), t.sockets,
        t.sockets == 1 ? "" : "s", t.dies, t.dies == 1 ? "" : "s", t.cores, t.cores == 1 ? "" : "s", t.threads,
        t.threads == 1 ? "" : "s"));
    if (t.threads > 1)
      plan.explanation.push_back(fmt::format(
          "  vCPUs 2k and 2k+1 are SMT siblings on the host, so the guest's scheduler sees the real core pairs."));
    std::vector<std::string> l3s;
    for (const Cache* l3 : caches_at_level(topo, 3))
      if (l3->cpus.intersects(vcpu_set))
        l3s.push_back(fmt::format("L3 #{}{}", l3->index,
                                  l3->size_bytes ? " (" + format_bytes(l3->size_bytes) + ")" : std::string()));
    if (!l3s.empty()) plan.explanation.push_back(fmt::format("  Its caches: {}.", fmt::join(l3s, ", ")));
    std::string io;
    for (std::size_t i = 0; i < guest.iothreads.size(); ++i)
      io += fmt::format(", I/O thread {} on {}", i + 1, cpu_list_phrase(guest.iothreads[i]));
    const char* where = !host_has_own ? "on the guest's own CPUs: the host keeps none"
                        : request.helpers == HelperPlacement::Dedicated && !layout.host.contains(guest.emulator)
                            ? "dedicated, off the host"
                            : "shared with the host, away from the vCPUs' caches";
    plan.explanation.push_back(fmt::format("  Emulator thread on {}{} ({}).", cpu_list_phrase(guest.emulator), io, where));

    // Warnings: what the guest shares with the host and the other guests.
    if (host_has_own) {
      for (auto& [level, what] : shared_between(topo, vcpu_set, layout.host)) {
        if (level == 3 && caches_at_level(topo, 3).size() == 1)
          plan.explanation.push_back(fmt::format("  It shares {} with the host: this CPU has a single L3.", what));
        else
          plan.warnings.push_back(fmt::format("guest '{}' shares {} with the host{}", request.name, what,
                                              level == 3 ? ": the request leaves no L3 to the guest alone" : ""));
      }
    }
    for (std::size_t l = k + 1; l < layout.guests.size(); ++l) {
      CpuSet other;
      for (unsigned cpu : layout.guests[l].vcpus) other.insert(cpu);
      for (auto& [level, what] : shared_between(topo, vcpu_set, other))
        plan.warnings.push_back(
            fmt::format("guests '{}' and '{}' share {}", request.name, resolved.request.guests[l].name, what));
    }
    CpuSet nodes = numa_nodes_of(topo, vcpu_set);
    if (nodes.size() > 1)
      plan.warnings.push_back(fmt::format("guest '{}' spans NUMA nodes {}: its memory is remote for some vCPUs",
                                          request.name, nodes));
    std::set<unsigned> kinds;
    for (unsigned cpu : guest.vcpus) kinds.insert(find_cpu(topo, cpu)->kind);
    if (kinds.size() > 1)
      plan.warnings.push_back(fmt::format("guest '{}' mixes core kinds ({}): the guest treats all vCPUs as equal",
                                          request.name, describe_cores(topo, guest.vcpus)));
    // Odd counts on SMT cores leave a sibling idle.
    CpuSet touched_cores_cpus;
    for (unsigned cpu : guest.vcpus) touched_cores_cpus |= smt_siblings(topo, cpu);
    CpuSet idle = touched_cores_cpus - vcpu_set;
    if (!idle.empty())
      plan.warnings.push_back(fmt::format(
          "guest '{}' has {} vCPUs, which does not fill whole cores: SMT sibling {} {} idle so that nothing "
          "else shares its core; the guest sees {} single-thread cores. A multiple of {} uses whole cores",
          request.name, guest.vcpus.size(), cpu_list_phrase(idle), idle.size() == 1 ? "stays" : "stay",
          guest.vcpus.size(), threads_per_core_max(topo)));
    if (request.helpers == HelperPlacement::Dedicated && layout.host.contains(guest.emulator) && host_has_own)
      plan.warnings.push_back(fmt::format(
          "guest '{}': no core is left for dedicated emulator/I-O threads after the host's reserve; they share the "
          "host's CPUs {}", request.name, guest.emulator));
    if (request.gpu) {
      const PciDevice* gpu = nullptr;
      std::string wanted = *request.gpu;
      for (const PciDevice& dev : topo.pci)
        if (dev.address == wanted || dev.address == "0000:" + wanted) gpu = &dev;
      if (gpu && !gpu->numa)
        plan.warnings.push_back(fmt::format("the NUMA node of GPU {} is unknown: its locality was not used", wanted));
      else if (gpu && !nodes.contains(*gpu->numa))
        plan.warnings.push_back(fmt::format("guest '{}' runs off NUMA node {} of its GPU {}", request.name, *gpu->numa, wanted));
    }
  }
  if (!host_has_own) {
    plan.warnings.push_back(fmt::format(
        "the host keeps no CPU of its own (--reserve {}): the host, QEMU's emulator and I/O threads share CPUs {} "
        "with the guest's vCPUs",
        resolved.reserve_cores, all_cpus(topo)));
  } else {
    plan.explanation.push_back(fmt::format("The host keeps CPUs {} ({}).", layout.host,
                                           describe_cores(topo, layout.host.to_vector())));
  }
  for (const std::string& w : topo.warnings) plan.warnings.push_back(w);
  if (topo.cpu_vendor.empty() && topo.source == TopologySource::LscpuText)
    plan.warnings.push_back("the CPU vendor is unknown from `lscpu -e` alone: on an AMD CPU add "
                            "<feature policy='require' name='topoext'/> to <cpu> (or paste `lscpu` too)");

  // Advice a user acts on outside the domain XML.
  if (host_has_own) {
    plan.advice.push_back(fmt::format(
        "Keep the host off the guest's CPUs while it runs: `vpt-tune hook` confines the host to CPUs {} "
        "(systemd AllowedCPUs= or cgroup cpuset), or boot with isolcpus={} nohz_full={} rcu_nocbs={}.",
        layout.host, plan.isolate, plan.isolate, plan.isolate));
    plan.advice.push_back(fmt::format("Steer interrupts to the host's CPUs: set /proc/irq/*/smp_affinity_list to {} "
                                      "(or IRQBALANCE_BANNED_CPULIST={}).", layout.host, plan.isolate));
  }
  if (topo.host.known) {
    std::uint64_t huge = 0;
    for (const HugepagePool& pool : topo.host.hugepages)
      if (!pool.numa) huge += pool.total * pool.page_bytes;
    plan.advice.push_back(huge ? fmt::format("Back the guest's memory with the {} of hugepages this host has: "
                                             "<memoryBacking><hugepages/></memoryBacking>.", format_bytes(huge))
                               : "Back the guest's memory with hugepages (~2% faster, per the Arch wiki): reserve them "
                                 "(vm.nr_hugepages or hugepages= at boot) and add <memoryBacking><hugepages/></memoryBacking>.");
  } else {
    plan.advice.push_back("Back the guest's memory with hugepages: reserve them on the host (vm.nr_hugepages) and add "
                          "<memoryBacking><hugepages/></memoryBacking>.");
  }
}

}  // namespace

Plan make_plan(const Topology& topo, const Request& request, const SearchLimits& limits) {
  ResolvedRequest resolved = resolve(topo, request);
  CostModel model(topo, resolved.request);
  Search search(topo, resolved, model);

  Plan plan;
  // Exact search costs one full evaluation per candidate: keep it to ~1e8 CPU-pair operations.
  const std::size_t n = topo.cpus.size();
  const std::size_t affordable = std::max<std::size_t>(2000, 100'000'000 / std::max<std::size_t>(1, n * n));
  std::optional<CoreChoice> choice = search.exact(std::min(limits.max_exact_candidates, affordable));
  if (choice) {
    plan.optimal = true;
    plan.search = "exact: every distinct choice of cores was scored";
  } else {
    choice = search.heuristic();
    plan.search = "heuristic: greedy construction, then core swaps while the cost dropped";
  }
  if (!search.feasible(*choice))
    throw RequestError("cannot find a layout for this request: lower the vCPU counts or --reserve");
  Layout layout = search.materialize(*choice);
  plan.score = model.evaluate(layout);
  if (!plan.optimal && plan.score.total <= search.lower_bound() + kEpsilon) {
    plan.optimal = true;
    plan.search += "; optimal, as its cost equals the lower bound";
  }

  for (std::size_t k = 0; k < layout.guests.size(); ++k) {
    const Layout::Guest& lg = layout.guests[k];
    GuestPlan guest;
    guest.name = resolved.request.guests[k].name;
    guest.vcpus = lg.vcpus;
    guest.emulator = lg.emulator;
    guest.iothreads = lg.iothreads;
    guest.topology = lg.topology;
    if (topo.numa_nodes.size() > 1) guest.memory_nodes = numa_nodes_of(topo, guest.vcpu_cpus());
    guest.cache_passthrough = true;
    guest.require_topoext = is_amd(topo);
    plan.guests.push_back(std::move(guest));
  }
  const bool host_has_own = layout.host != all_cpus(topo);
  plan.host = layout.host;
  plan.isolate = host_has_own ? all_cpus(topo) - layout.host : CpuSet{};
  plan.irq_affinity = layout.host;
  describe(topo, resolved, layout, plan);
  return plan;
}

}  // namespace vpt
