// Pinning: where the vCPUs, the emulator and the I/O threads run, against the
// host's cores, caches and NUMA nodes. The fix of every row is suggest's plan.
#include <map>
#include <set>

#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

// "a; b; c" with at most `keep` items and a count of the rest.
std::string joined(std::vector<std::string> items, std::size_t keep = 3) {
  std::size_t n = items.size();
  if (n > keep) {
    items.resize(keep);
    items.push_back(fmt::format("and {} more", n - keep));
  }
  return fmt::format("{}", fmt::join(items, "; "));
}

Hit helper_fix(const Context& c, std::string evidence);

std::optional<Hit> vcpu_unpinned(const Context& c) {
  const Domain& d = c.domain;
  CpuSet none, floating;
  std::vector<std::string> examples;
  for (unsigned v = 0; v < d.max_vcpus; ++v) {
    auto it = d.vcpupins.find(v);
    if (it == d.vcpupins.end()) {
      none.insert(v);
    } else if (it->second.size() > 1) {
      floating.insert(v);
      if (examples.size() < 2) examples.push_back(fmt::format("vCPU {} on {}", v, cpus_text(it->second)));
    }
  }
  if (none.empty() && floating.empty()) return std::nullopt;
  const bool helpers_pinned = d.emulatorpin && d.iothreadpins.size() >= d.iothread_ids.size();
  std::vector<std::string> parts;
  if (!none.empty())
    parts.push_back(fmt::format("{} {} no <vcpupin>: {}", vcpus_text(none), none.size() == 1 ? "has" : "have",
                                d.vcpu_cpuset ? fmt::format("they float over {} of <vcpu cpuset>", cpus_text(*d.vcpu_cpuset))
                                              : std::string("they may run on any host CPU")));
  if (!floating.empty())
    parts.push_back(fmt::format("{} {} pinned to several CPUs each and move among them ({})", vcpus_text(floating),
                                floating.size() == 1 ? "is" : "are", fmt::join(examples, ", ")));
  if (!c.plan && !helpers_pinned && !c.helper_fallback.empty()) return helper_fix(c, fmt::format("{}", fmt::join(parts, "; ")));
  return plan_fix(c, fmt::format("{}", fmt::join(parts, "; ")));
}

// CPU 0 takes the host's timer and most device interrupts on many systems.
std::optional<Hit> vcpu0_on_cpu0(const Context& c) {
  auto it = c.domain.vcpupins.find(0);
  if (it == c.domain.vcpupins.end() || !it->second.contains(0u)) return std::nullopt;
  std::string evidence = fmt::format("<vcpupin vcpu='0' cpuset='{}'>", it->second.to_string());
  if (c.plan && !c.plan->vcpus.empty() && c.plan->vcpus.front() == 0) {
    Hit hit;
    hit.evidence = evidence + "; vpt-tune's plan keeps it there too (this host has no better CPU for it)";
    hit.severity = Severity::Info;
    return hit;
  }
  return plan_fix(c, std::move(evidence));
}

// -overcommit cpu-pm=on: an idle vCPU stays on its CPU (no HLT exit).
std::optional<Hit> cpu_pm_shared(const Context& c) {
  const Domain& d = c.domain;
  if (!d.qemu_cpu_pm) return std::nullopt;
  std::vector<std::string> shared;
  if (c.single_pins.size() != d.max_vcpus) shared.push_back("not every vCPU is pinned to a CPU of its own");
  else if (c.vcpu_cpus.size() != d.max_vcpus) shared.push_back("several vCPUs share a CPU");
  CpuSet helpers = d.emulatorpin.value_or(CpuSet{});
  for (const auto& [id, cpus] : d.iothreadpins) helpers |= cpus;
  if (!d.emulatorpin) shared.push_back("the emulator thread is unpinned");
  else if (helpers.intersects(c.vcpu_cpus)) shared.push_back(fmt::format("helper threads share {}", cpus_text(helpers & c.vcpu_cpus)));
  if (shared.empty()) return std::nullopt;
  return manual_fix(fmt::format("<qemu:commandline> passes -overcommit cpu-pm=on and {}", fmt::join(shared, "; ")),
                    "<!-- remove the -overcommit cpu-pm=on argument pair from <qemu:commandline>, or give each vCPU "
                    "a host CPU nothing else uses -->",
                    "vpt-tune does not edit <qemu:commandline>");
}

std::optional<Hit> pins_missing_cpus(const Context& c) {
  const Domain& d = c.domain;
  CpuSet named = d.emulatorpin.value_or(CpuSet{}) | c.vcpu_cpus;
  for (const auto& [id, cpus] : d.iothreadpins) named |= cpus;
  const CpuSet missing = named - all_cpus(*c.host);
  if (missing.empty()) return std::nullopt;
  const CpuSet offline = missing & c.host->offline_cpus;
  return plan_fix(c, fmt::format("the pins name {}, which this host ({}) {}: it has online {}", cpus_text(missing),
                                 c.host->source_name,
                                 offline == missing ? "has offline" : offline.empty() ? "does not have" : "lacks or has offline",
                                 cpus_text(all_cpus(*c.host))));
}

std::optional<Hit> vcpus_share_cpu(const Context& c) {
  std::map<unsigned, CpuSet> by_cpu;
  for (const auto& [vcpu, cpu] : c.single_pins) by_cpu[cpu].insert(vcpu);
  std::vector<std::string> shared;
  for (const auto& [cpu, vcpus] : by_cpu)
    if (vcpus.size() > 1) shared.push_back(fmt::format("{} are all pinned to CPU {}", vcpus_text(vcpus), cpu));
  if (shared.empty()) return std::nullopt;
  return plan_fix(c, joined(shared));
}

// Evidence for a helper thread (emulator, an I/O thread) that may run on the
// vCPUs' CPUs, or nullopt when it cannot.
std::optional<std::string> helper_overlap(const Context& c, const std::optional<CpuSet>& pin, const std::string& what,
                                          const std::string& element) {
  if (pin) {
    CpuSet overlap = *pin & c.vcpu_cpus;
    if (overlap.empty()) return std::nullopt;
    return fmt::format("<{} cpuset='{}'> shares {} with the vCPUs", element, pin->to_string(), cpus_text(overlap));
  }
  const std::string where = c.domain.vcpu_cpuset ? fmt::format("any of {} (<vcpu cpuset>)", cpus_text(*c.domain.vcpu_cpuset))
                                                 : std::string("any host CPU");
  CpuSet overlap = c.domain.vcpu_cpuset ? *c.domain.vcpu_cpuset & c.vcpu_cpus : c.vcpu_cpus;
  if (overlap.empty()) return std::nullopt;
  return fmt::format("no <{}>: {} may run on {}, the vCPUs' {} included", element, what, where, cpus_text(overlap));
}

// A plan that itself shares helpers with vCPUs means the host has no CPU to
// spare: the finding stays, milder, and says so.
void soften_when_unavoidable(const Context& c, const CpuSet& planned_helpers, Hit& hit) {
  if (!c.plan || !planned_helpers.intersects(c.plan->vcpu_cpus())) return;
  hit.severity = Severity::Info;
  hit.evidence += "; this host has no CPU to spare for it (the plan shares too)";
}

// Without a plan, the helpers still move to the CPUs the vCPUs leave free
// (Context::helper_fallback), and the vCPUs stay as they are.
Hit helper_fix(const Context& c, std::string evidence) {
  if (c.plan || c.helper_fallback.empty()) return plan_fix(c, std::move(evidence));
  DomainTuning t;
  t.emulator_pin = c.helper_fallback;
  for (unsigned id : c.domain.iothread_ids) t.iothread_pins[id] = c.helper_fallback;
  std::string snippet = fmt::format("<cputune>\n  <emulatorpin cpuset='{}'/>", c.helper_fallback.to_string());
  for (unsigned id : c.domain.iothread_ids)
    snippet += fmt::format("\n  <iothreadpin iothread='{}' cpuset='{}'/>", id, c.helper_fallback.to_string());
  snippet += "\n</cputune>";
  const bool pinned = all_vcpus_pinned(c);
  evidence += fmt::format(
      "; no plan places the vCPUs ({}), so the vCPUs stay as they are and the fix moves the emulator{} to {}, {}",
      c.no_plan_reason.empty() ? "none fits this host" : c.no_plan_reason,
      c.domain.iothread_ids.empty() ? " thread" : " and I/O threads", cpus_text(c.helper_fallback),
      pinned ? "which the vCPUs' pins leave free" : "the core of CPU 0 (unpinned vCPUs may still run there)");
  return tuning_fix(std::move(evidence), std::move(snippet), std::move(t));
}

std::optional<Hit> emulator_on_vcpu_cpus(const Context& c) {
  if (c.vcpu_cpus.empty()) return std::nullopt;  // unpinned vCPUs: vcpu-unpinned says it
  auto evidence = helper_overlap(c, c.domain.emulatorpin, "the emulator thread", "emulatorpin");
  if (!evidence) return std::nullopt;
  Hit hit = helper_fix(c, *evidence);
  if (c.plan) soften_when_unavoidable(c, c.plan->emulator, hit);
  return hit;
}

std::optional<Hit> iothread_on_vcpu_cpus(const Context& c) {
  if (c.vcpu_cpus.empty() || c.domain.iothreads == 0) return std::nullopt;
  std::vector<std::string> found;
  for (unsigned id : c.domain.iothread_ids) {
    auto it = c.domain.iothreadpins.find(id);
    std::optional<CpuSet> pin = it == c.domain.iothreadpins.end() ? std::nullopt : std::optional(it->second);
    if (auto e = helper_overlap(c, pin, fmt::format("I/O thread {}", id), fmt::format("iothreadpin iothread='{}'", id)))
      found.push_back(*e);
  }
  if (found.empty()) return std::nullopt;
  Hit hit = helper_fix(c, joined(found));
  if (c.plan) {
    CpuSet helpers;
    for (const CpuSet& io : c.plan->iothreads) helpers |= io;
    soften_when_unavoidable(c, helpers, hit);
  }
  return hit;
}

// The guest sees vCPUs a and b as threads of one core when a / threads == b / threads
// (QEMU numbers threads innermost).
bool guest_siblings(const Context& c, unsigned a, unsigned b) {
  const unsigned t = std::max(1u, c.presented.threads);
  return a / t == b / t;
}

std::optional<Hit> smt_siblings_split(const Context& c) {
  std::map<unsigned, std::vector<std::pair<unsigned, unsigned>>> by_core;  // host core -> (vCPU, CPU)
  for (const auto& [vcpu, cpu] : c.single_pins)
    if (const LogicalCpu* lc = find_cpu(*c.host, cpu)) by_core[lc->core].push_back({vcpu, cpu});
  std::vector<std::string> pairs;
  for (const auto& [core, list] : by_core)
    for (std::size_t i = 0; i < list.size(); ++i)
      for (std::size_t j = i + 1; j < list.size(); ++j) {
        auto [a, cpu_a] = list[i];
        auto [b, cpu_b] = list[j];
        if (cpu_a == cpu_b || guest_siblings(c, a, b)) continue;
        pairs.push_back(fmt::format("vCPUs {} and {} run on CPUs {} and {}, SMT siblings of one host core", a, b,
                                    cpu_a, cpu_b));
      }
  if (pairs.empty()) return std::nullopt;
  return plan_fix(c, fmt::format("{}; the guest sees them as separate cores (<topology threads='{}'>{})",
                                 joined(pairs), c.presented.threads, c.domain.cpu_topology ? "" : ", libvirt's default"));
}

std::optional<Hit> topology_pins_mismatch(const Context& c) {
  const unsigned t = c.presented.threads;
  if (t < 2) return std::nullopt;
  std::vector<std::string> wrong;
  for (unsigned first = 0; first < c.domain.max_vcpus; first += t) {
    std::set<unsigned> cores;
    CpuSet cpus;
    for (unsigned v = first; v < first + t && v < c.domain.max_vcpus; ++v) {
      auto it = c.single_pins.find(v);
      if (it == c.single_pins.end()) continue;
      if (const LogicalCpu* lc = find_cpu(*c.host, it->second)) {
        cores.insert(lc->core);
        cpus.insert(it->second);
      }
    }
    if (cores.size() > 1)
      wrong.push_back(fmt::format("vCPUs {}-{} (one core for the guest) run on {} of {} different host cores",
                                  first, first + t - 1, cpus_text(cpus), cores.size()));
  }
  if (wrong.empty()) return std::nullopt;
  std::string host_smt = has_smt(*c.host) ? "" : "; this host has no SMT at all";
  return plan_fix(c, fmt::format("<topology threads='{}'>: {}{}", t, joined(wrong), host_smt));
}

// Instances (index -> CPUs) of some per-CPU grouping that the vCPUs use.
template <typename GroupOf>
std::map<unsigned, CpuSet> groups_used(const Context& c, GroupOf group_of) {
  std::map<unsigned, CpuSet> used;
  for (unsigned cpu : c.vcpu_cpus)
    if (const LogicalCpu* lc = find_cpu(*c.host, cpu))
      if (auto g = group_of(*lc)) used[*g].insert(cpu);
  return used;
}

std::string groups_text(const std::map<unsigned, CpuSet>& used, const char* prefix) {
  std::vector<std::string> parts;
  for (const auto& [index, cpus] : used) parts.push_back(fmt::format("{}{} ({})", prefix, index, cpus_text(cpus)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::optional<Hit> guest_spans_l3(const Context& c) {
  auto used = groups_used(c, [](const LogicalCpu& lc) { return lc.l3; });
  if (used.size() < 2) return std::nullopt;
  unsigned largest = 0;
  const CpuSet online = all_cpus(*c.host);
  for (const Cache* l3 : caches_at_level(*c.host, 3)) largest = std::max(largest, (l3->cpus & online).size());
  if (c.domain.max_vcpus > largest) return std::nullopt;  // cannot fit: the plan presents the split instead
  return plan_fix(c, fmt::format("the vCPUs use {} L3 caches: {}; one L3 of this host has {} CPUs, room for all {} "
                                 "vCPUs",
                                 used.size(), groups_text(used, "L3 #"), largest, c.domain.max_vcpus));
}

std::optional<Hit> guest_spans_numa(const Context& c) {
  if (c.host->numa_nodes.size() < 2) return std::nullopt;
  auto used = groups_used(c, [](const LogicalCpu& lc) { return lc.numa; });
  if (used.size() < 2) return std::nullopt;
  unsigned largest = 0;
  for (const NumaNode& n : c.host->numa_nodes) largest = std::max(largest, n.cpus.size());
  if (c.domain.max_vcpus > largest) return std::nullopt;
  return plan_fix(c, fmt::format("the vCPUs use {} NUMA nodes: {}; one node has {} CPUs, room for all {} vCPUs",
                                 used.size(), groups_text(used, "node "), largest, c.domain.max_vcpus));
}

std::optional<Hit> memory_not_local(const Context& c) {
  if (c.host->numa_nodes.size() < 2) return std::nullopt;
  auto used = groups_used(c, [](const LogicalCpu& lc) { return lc.numa; });
  if (used.size() != 1) return std::nullopt;  // unpinned, or spread: other rows say so
  const unsigned node = used.begin()->first;
  const auto& nodeset = c.domain.numatune_nodeset;
  if (nodeset && *nodeset == CpuSet{node}) return std::nullopt;
  std::string now = nodeset ? fmt::format("<numatune><memory mode='{}' nodeset='{}'>", c.domain.numatune_mode.value_or("strict"),
                                          nodeset->to_string())
                            : std::string("no <numatune>: the kernel may place its memory on any node");
  return plan_fix(c, fmt::format("the vCPUs run on NUMA node {}; {}", node, now));
}

}  // namespace

std::vector<Check> pinning_checks() {
  return {
      {"vcpu-unpinned", Severity::Warning, "vCPUs are not pinned one to a host CPU",
       "A vCPU thread that the host scheduler moves between CPUs loses its L1/L2 cache contents on every move; one "
       "vCPU pinned to one host CPU keeps them, and the guest's idea of its topology stays true. Source: Arch Wiki, "
       "PCI passthrough via OVMF, \"CPU pinning\".",
       Needs::Domain, vcpu_unpinned},
      {"vcpu0-on-cpu0", Severity::Warning, "vCPU 0 is pinned to host CPU 0",
       "Host CPU 0 takes work no other CPU can: on many systems the timer and most device interrupts, and "
       "housekeeping the kernel keeps on the boot CPU; guest vCPU 0 handles most of the guest's own interrupts. "
       "Together they add latency to both; leave CPU 0's core to the host. Source: Arch Wiki, PCI passthrough via "
       "OVMF, \"CPU pinning\" (leave core 0 to the host); Linux Documentation/admin-guide/kernel-per-CPU-kthreads.rst.",
       Needs::Domain, vcpu0_on_cpu0},
      {"cpu-pm-shared", Severity::Warning, "-overcommit cpu-pm=on on vCPUs that share their CPUs",
       "With cpu-pm=on an idle vCPU does not exit on HLT/MWAIT and keeps its host CPU; every other thread that "
       "needs that CPU waits and shows up as steal. It is for vCPUs that each own a CPU and nothing else. Source: "
       "QEMU invocation (-overcommit cpu-pm: \"only when the vCPUs are pinned 1:1 ... and nothing else runs on "
       "them\"); Linux Documentation/virt/kvm/x86/cpuid.rst.",
       Needs::Domain, cpu_pm_shared},
      {"pins-missing-cpus", Severity::Error, "Pins name CPUs this host does not have online",
       "The kernel refuses an affinity to a CPU that is absent or offline, so libvirt cannot start the guest with "
       "these pins (or they were written for another machine). Source: libvirt Domain XML format, \"CPU Tuning\" "
       "(cpuset: the host's physical CPUs).",
       Needs::HostModel, pins_missing_cpus},
      {"vcpus-share-cpu", Severity::Error, "Several vCPUs are pinned to the same host CPU",
       "vCPUs pinned to one host CPU take turns on it: each gets a fraction of a CPU, and a vCPU waiting for a lock "
       "that a descheduled one holds spins for a whole host time slice. Source: Arch Wiki, PCI passthrough via OVMF, "
       "\"CPU pinning\" (\"the ideal setup is a one to one mapping\").",
       Needs::Domain, vcpus_share_cpu},
      {"emulator-on-vcpu-cpus", Severity::Warning, "The emulator thread may run on the vCPUs' CPUs",
       "QEMU's emulator thread emulates devices and does I/O for the guest; on a vCPU's CPU it preempts that vCPU "
       "and evicts its cache. Pin it to the host's CPUs. Source: Arch Wiki, PCI passthrough via OVMF, \"CPU "
       "pinning\"; libvirt Domain XML format, \"CPU Tuning\" (emulatorpin).",
       Needs::Domain, emulator_on_vcpu_cpus},
      {"iothread-on-vcpu-cpus", Severity::Warning, "An I/O thread may run on the vCPUs' CPUs",
       "An I/O thread does the guest's disk I/O; on a vCPU's CPU it preempts that vCPU exactly when the guest waits "
       "for I/O. Pin I/O threads to the host's CPUs. Source: Arch Wiki, PCI passthrough via OVMF, \"CPU pinning\"; "
       "libvirt Domain XML format, \"CPU Tuning\" (iothreadpin).",
       Needs::Domain, iothread_on_vcpu_cpus},
      {"smt-siblings-split", Severity::Warning, "SMT siblings of one host core are vCPUs the guest sees as separate cores",
       "Two vCPUs on the SMT siblings of one host core share its execution units; a guest that sees them as separate "
       "cores loads both and gets about half a core for each. Pin sibling pairs to vCPUs 2k and 2k+1 and present "
       "threads='2'. Source: Arch Wiki, PCI passthrough via OVMF, \"CPU topology\".",
       Needs::HostModel, smt_siblings_split},
      {"topology-pins-mismatch", Severity::Warning, "The guest topology does not match where the vCPUs run",
       "With <topology threads='2'> the guest believes vCPUs 2k and 2k+1 share a core and schedules by that; "
       "pinned to different host cores it idles real cores and doubles up others. Source: libvirt Domain XML "
       "format, \"CPU model and topology\"; Arch Wiki, PCI passthrough via OVMF, \"CPU topology\".",
       Needs::HostModel, topology_pins_mismatch},
      {"guest-spans-l3", Severity::Warning, "The guest is spread over several L3 caches although one would hold it",
       "Threads of one guest exchange data through the L3 they share; across L3s (AMD CCDs/CCXs) every exchange "
       "costs several times more (a cache line moves in about 18 ns within an L3 and 85 ns across on a Ryzen 9 "
       "5950X). Source: published core-to-core latencies, in vpt-tune's cost model (optimizer/weights.hpp).",
       Needs::HostModel, guest_spans_l3},
      {"guest-spans-numa", Severity::Warning, "The guest is spread over several NUMA nodes although one would hold it",
       "A guest over two NUMA nodes reaches half its memory through the inter-socket link, with higher latency "
       "and less bandwidth. Source: Red Hat Enterprise Linux 7 Virtualization Tuning and Optimization Guide, "
       "\"NUMA\"; libvirt Domain XML format, \"NUMA Node Tuning\".",
       Needs::HostModel, guest_spans_numa},
      {"memory-not-local", Severity::Warning, "Guest memory is not bound to the vCPUs' NUMA node",
       "Without <numatune> the kernel may allocate guest memory on another node than the one the vCPUs run on, and "
       "every access then crosses the interconnect. Source: libvirt Domain XML format, \"NUMA Node Tuning\"; Red Hat "
       "Enterprise Linux 7 Virtualization Tuning and Optimization Guide, \"NUMA\".",
       Needs::HostModel, memory_not_local},
  };
}

}  // namespace vpt::check_detail
