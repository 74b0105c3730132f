// The plan in words: which CPUs each guest got and why, what it shares and
// with whom, the warnings and the advice. Reads the chosen placement; decides
// nothing.
#include "optimizer/explain.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "optimizer/optimizer.hpp"
#include "optimizer/resolve.hpp"
#include "optimizer/sharing.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

std::string describe_cores(const Topology& topo, const CpuSet& cpus) {
  std::map<unsigned, unsigned> kinds;  // kind -> cores
  for (const Core& core : topo.cores)
    if (core.cpus.intersects(cpus)) ++kinds[core.kind];
  std::vector<std::string> parts;
  for (auto it = kinds.rbegin(); it != kinds.rend(); ++it) parts.push_back(count_of_cores(topo, it->first, it->second));
  return fmt::format("{}", fmt::join(parts, " + "));
}

// Intel hybrid parts: lscpu -e lacks the vendor, but P/E cores are Intel's.
bool looks_intel(const Topology& topo) {
  if (topo.cpu_vendor == "GenuineIntel") return true;
  return std::any_of(topo.kinds.begin(), topo.kinds.end(),
                     [](const CoreKind& k) { return k.name == "P-core" || k.name.ends_with("E-core"); });
}

// Counts next to `count` that fill whole blocks: "6 or 12 vCPUs fill whole
// CCXs (L3 groups)", or "" when `count` already does (or nothing smaller or
// larger fits). Blocks are the clean L3 groups of the guest's kind where there
// are several L3s, else the cores of that kind.
std::string clean_count_hint(const Topology& topo, const ResolvedRequest& resolved, unsigned kind, unsigned count) {
  const unsigned most = max_vcpus(topo, resolved.usable, resolved.reserve_cores);
  unsigned unit = 0, groups = 0;
  if (caches_at_level(topo, 3).size() > 1) {
    std::map<unsigned, unsigned> by_size;  // threads per group -> groups
    for (const CleanGroup& g : clean_l3_groups(topo, resolved.usable))
      if (g.kind == kind) ++by_size[g.threads];
    if (!by_size.empty()) {
      auto common = std::max_element(by_size.begin(), by_size.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; });
      unit = common->first;
      groups = common->second;
    }
  }
  const bool by_l3 = unit > 0 && count % unit != 0;
  if (!by_l3) {
    unit = 0;
    for (const Core& core : topo.cores)
      if (core.kind == kind) unit = std::max(unit, core.cpus.size());
    if (unit <= 1 || count % unit == 0) return "";
    groups = 0;
  }
  std::vector<unsigned> near;
  if (count > unit) near.push_back(count / unit * unit);
  const unsigned above = (count / unit + 1) * unit;
  if (above <= most && (groups == 0 || above / unit <= groups)) near.push_back(above);
  if (near.empty()) return "";
  if (!by_l3) return fmt::format("{} vCPUs fill whole cores", fmt::join(near, " or "));
  if (near.size() == 1 && near.front() == unit)
    return fmt::format("{} vCPUs fill one whole {}", unit, l3_groups_word(topo, 1));
  return fmt::format("{} vCPUs fill whole {}", fmt::join(near, " or "), l3_groups_word(topo));
}

// Where a helper thread runs, in words: which of its CPUs are on which node.
std::string helper_where(const Topology& topo, const CpuSet& cpus, bool several_nodes) {
  if (!several_nodes) return cpu_list_phrase(cpus);
  std::map<unsigned, CpuSet> by_node;
  for (unsigned cpu : cpus) by_node[find_cpu(topo, cpu)->numa.value_or(0)].insert(cpu);
  std::vector<std::string> parts;
  for (auto& [node, set] : by_node) parts.push_back(fmt::format("{} (node {})", cpu_list_phrase(set), node));
  return fmt::format("{}", fmt::join(parts, " and "));
}

// One guest of the plan as describe() explains it: what every part of the
// explanation reads, and the parts.
struct GuestView {
  const Topology& topo;
  const ResolvedRequest& resolved;
  const ThreadPlacement& layout;
  std::size_t k;  // the guest's index in layout.guests and plan.guests
  const ThreadPlacement::Guest& guest;
  const GuestRequest& request;
  CpuSet vcpu_set;
  bool host_has_own, several_nodes, one_l3;

  void explain_placement(Plan& plan) const;
  void explain_helpers(bool& said_iothreads, Plan& plan) const;
  void warn_sharing(Plan& plan) const;
  void warn_kinds(Plan& plan) const;
  void explain_vcache(Plan& plan) const;
};

// "Guest 'x': 16 vCPUs on CPUs ...", its caches and its NUMA cells.
void GuestView::explain_placement(Plan& plan) const {
  const GuestPlan& gp = plan.guests[k];
  const GuestTopology& t = guest.topology;
  if (!resolved.auto_notes[k].empty()) plan.explanation.push_back(resolved.auto_notes[k] + ".");
  plan.explanation.push_back(fmt::format(
      "Guest '{}': {} on {} ({}), presented as {} x {} x {} x {}.", request.name,
      plural(guest.vcpus.size(), "vCPU", "vCPUs"), cpus_text(vcpu_set), describe_cores(topo, vcpu_set),
      plural(t.sockets, "socket", "sockets"), plural(t.dies, "die", "dies"), plural(t.cores, "core", "cores"),
      plural(t.threads, "thread", "threads")));
  if (t.threads > 1)
    plan.explanation.push_back(
        "  vCPUs 2k and 2k+1 are SMT siblings on the host, so the guest's scheduler sees the real core pairs.");
  std::vector<std::string> l3s;
  for (const Cache* l3 : caches_at_level(topo, 3))
    if (l3->cpus.intersects(vcpu_set))
      l3s.push_back(fmt::format("L3 #{}{}", l3->index,
                                l3->size_bytes ? " (" + format_bytes(l3->size_bytes) + ")" : std::string()));
  const bool shares_single_l3 = one_l3 && host_has_own && layout.host.intersects(caches_at_level(topo, 3)[0]->cpus);
  if (!l3s.empty())
    plan.explanation.push_back(fmt::format("  Its caches: {}{}.", fmt::join(l3s, ", "),
                                           t.dies > 1               ? ", one presented die each"
                                           : shares_single_l3 ? ", shared with the host: this CPU has a single L3"
                                                              : ""));
  for (unsigned node : numa_nodes_of(topo, vcpu_set))
    if (const unsigned from = memory_node_of(topo, node); from != node)
      plan.explanation.push_back(fmt::format(
          "  NUMA node {} has no memory of its own (a CPU-only node, as some L3-as-NUMA BIOS settings make): the "
          "guest's memory there is bound to node {}, the nearest with memory.",
          node, from));
  if (!gp.numa_cells.empty()) {
    std::vector<std::string> cells;
    for (const NumaCell& c : gp.numa_cells) {
      const unsigned cpu_node = find_cpu(topo, guest.vcpus.at(c.vcpus.first()))->numa.value_or(c.host_node);
      cells.push_back(fmt::format("cell {} = vCPUs {} on host node {}{}{}", c.cell, c.vcpus, cpu_node,
                                  cpu_node != c.host_node ? fmt::format(", memory from node {}", c.host_node) : "",
                                  c.memory_bytes ? " with " + format_bytes(c.memory_bytes) : ""));
    }
    plan.explanation.push_back(fmt::format(
        "  It spans {} NUMA nodes, so the guest gets one NUMA cell per node ({}); each cell's memory comes from its "
        "own node (<memnode mode='strict'>){}.",
        gp.numa_cells.size(), fmt::join(cells, ", "),
        gp.numa_cells.front().memory_bytes ? "" : "; give --memory (or --domain/--xml) to size the cells"));
  }
}

// Where the emulator and I/O threads run and what they share; a warning where
// one runs off the node it serves.
void GuestView::explain_helpers(bool& said_iothreads, Plan& plan) const {
  const GuestPlan& gp = plan.guests[k];
  // Helpers: where, and what they share.
  const bool multi_cell = gp.numa_cells.size() > 1;
  const CpuSet helper_cpus = guest.helper_cpus();
  std::string io;
  for (std::size_t i = 0; i < guest.iothreads.size(); ++i)
    io += fmt::format(", I/O thread {} on {}", i + 1, helper_where(topo, guest.iothreads[i], multi_cell));
  std::string where;
  if (!host_has_own) {
    where = "on the guest's own CPUs: the host keeps none";
  } else {
    const bool dedicated = request.helpers == HelperPlacement::Dedicated && !layout.host.intersects(helper_cpus);
    std::vector<std::string> shares;
    for (const SharedPart& part : shared_between(topo, helper_cpus, vcpu_set))
      shares.push_back(part.level == 3 && one_l3 ? "the CPU's single L3" : part.what);
    where = fmt::format("{}, {}", dedicated ? "dedicated, off the host" : "shared with the host",
                        shares.empty() ? std::string("away from the vCPUs' caches")
                                       : fmt::format("sharing {} with the vCPUs", fmt::join(shares, ", ")));
    if (several_nodes) {
      CpuSet own_nodes = numa_nodes_of(topo, vcpu_set);
      if (own_nodes.contains(numa_nodes_of(topo, helper_cpus)))
        where += fmt::format(", on the guest's NUMA node{}", own_nodes.size() > 1 ? "s" : "");
    }
  }
  plan.explanation.push_back(fmt::format("  Emulator thread on {}{}: {}.",
                                         helper_where(topo, guest.emulator, multi_cell), io, where));
  for (const std::string& note : request.notes) plan.explanation.push_back("  " + note);
  if (!guest.iothreads.empty() && !said_iothreads) {
    said_iothreads = true;
    plan.explanation.push_back(
        "  An I/O thread serves only the virtio disks and virtio-scsi controllers attached to it.");
  }

  // Helpers off the node they serve (the emulator serves every cell, I/O
  // thread i cell i mod cells, as placed): only where that node has no room.
  if (host_has_own && several_nodes) {
    std::vector<NodeSpan> spans = node_spans(topo, guest.vcpus);
    CpuSet off, far_nodes;
    auto check = [&](const CpuSet& thread, const NodeSpan& span) {
      if (span.node && !numa_nodes_of(topo, thread).contains(*span.node)) {
        off |= thread;
        far_nodes.insert(*span.node);
      }
    };
    for (const NodeSpan& span : spans) check(guest.emulator, span);
    for (std::size_t i = 0; i < guest.iothreads.size(); ++i) check(guest.iothreads[i], spans[i % spans.size()]);
    if (!off.empty()) {
      CpuSet room, far_cpus;
      for (const NumaNode& node : topo.numa_nodes)
        if (far_nodes.contains(node.os_index)) room |= node.cpus & layout.host, far_cpus |= node.cpus;
      // The guest fills those nodes with whole L3 groups (EPYC with a NUMA node
      // per CCD or die, a socket with one L3): fewer vCPUs would leave a core
      // there that the helpers and the host share with the guest's L3, a
      // layout worse than helpers next door; say where they went instead of
      // advising fewer vCPUs.
      bool whole_l3s = room.empty();
      for (const Cache* l3 : caches_at_level(topo, 3))
        if (l3->cpus.intersects(far_cpus) && !vcpu_set.contains(l3->cpus)) whole_l3s = false;
      std::set<unsigned> packages;
      for (unsigned cpu : vcpu_set | off) packages.insert(find_cpu(topo, cpu)->package);
      if (whole_l3s && !caches_at_level(topo, 3).empty()) {
        const CpuSet helper_nodes = numa_nodes_of(topo, off);
        plan.explanation.push_back(fmt::format(
            "  They run on node{} {}{}, off the guest's node{} {}: the guest fills {} with whole L3 groups; fewer "
            "vCPUs would leave a core there to the helpers and the host, sharing an L3 with the guest.",
            helper_nodes.size() == 1 ? "" : "s", helper_nodes, packages.size() == 1 ? " in the same package" : "",
            far_nodes.size() == 1 ? "" : "s", far_nodes, far_nodes.size() == 1 ? "it" : "them"));
        return;
      }
      plan.warnings.push_back(fmt::format(
          "guest '{}': emulator/I-O threads on {} (NUMA node {}), away from the vCPUs and memory they serve on node "
          "{}: {}",
          request.name, cpu_list_phrase(off), numa_nodes_of(topo, off), far_nodes,
          room.empty() ? fmt::format("the guest takes every core of node {}; fewer vCPUs leave the helpers room "
                                     "there", far_nodes)
                       : "the host cores left there share a core or L2 with the vCPUs"));
    }
  }
}

// What the guest shares with the host and the later guests, NUMA spans, odd
// counts and the clean counts near them, dedicated helpers with no core, the GPU.
void GuestView::warn_sharing(Plan& plan) const {
  // Warnings: what the guest shares with the host and the other guests.
  const std::string hint = clean_count_hint(topo, resolved, find_cpu(topo, guest.vcpus.front())->kind,
                                            static_cast<unsigned>(guest.vcpus.size()));
  bool hinted = false;
  if (host_has_own) {
    // One line per level: a guest sharing three L3s with the host is one warning, not three.
    std::map<int, std::vector<std::string>> by_level;
    for (const SharedPart& part : shared_between(topo, vcpu_set, layout.host))
      if (!(part.level == 3 && one_l3)) by_level[part.level].push_back(part.what);  // a single L3 is said with its caches
    for (auto level = by_level.rbegin(); level != by_level.rend(); ++level) {
      std::string line =
          fmt::format("guest '{}' shares {} with the host", request.name, fmt::join(level->second, ", "));
      if (level->first == 3) line += ": the request leaves no L3 to the guest alone";
      if (!hint.empty() && !hinted) {
        line += "; " + hint;
        hinted = true;
      }
      plan.warnings.push_back(line);
    }
  }
  for (std::size_t l = k + 1; l < layout.guests.size(); ++l) {
    CpuSet other = plan.guests[l].vcpu_cpus();
    for (const SharedPart& part : shared_between(topo, vcpu_set, other))
      plan.warnings.push_back(
          fmt::format("guests '{}' and '{}' share {}", request.name, resolved.request.guests[l].name, part.what));
  }
  CpuSet nodes = numa_nodes_of(topo, vcpu_set);
  if (nodes.size() > 1)
    plan.warnings.push_back(fmt::format(
        "guest '{}' spans NUMA nodes {}: traffic between its cells crosses nodes; the guest sees the cells and "
        "keeps each one's memory local",
        request.name, nodes));

  // Odd counts on SMT cores leave a sibling idle.
  CpuSet touched_cores_cpus;
  for (unsigned cpu : guest.vcpus) touched_cores_cpus |= smt_siblings(topo, cpu);
  CpuSet idle = touched_cores_cpus - vcpu_set;
  if (!idle.empty()) {
    plan.warnings.push_back(fmt::format(
        "guest '{}' has {} vCPUs, which does not fill whole cores: SMT sibling {} {} idle so that nothing "
        "else shares its core; the guest sees {} single-thread cores{}",
        request.name, guest.vcpus.size(), cpu_list_phrase(idle), idle.size() == 1 ? "stays" : "stay",
        guest.vcpus.size(), hint.empty() || hinted ? "" : "; " + hint));
    hinted = true;
  }
  if (!hint.empty() && !hinted)
    plan.warnings.push_back(fmt::format("guest '{}': {} vCPUs split an L3 group; {}", request.name,
                                        guest.vcpus.size(), hint));
  if (request.helpers == HelperPlacement::Dedicated && layout.host.intersects(guest.emulator) && host_has_own)
    plan.warnings.push_back(fmt::format(
        "guest '{}': no core is left for dedicated emulator/I-O threads after the host's reserve; they share the "
        "host's {}",
        request.name, cpu_list_phrase(guest.emulator)));
  if (request.gpu) {
    const PciDevice* gpu = find_pci(topo, *request.gpu);
    if (gpu && !gpu->numa)
      plan.warnings.push_back(
          fmt::format("the NUMA node of GPU {} is unknown: its locality was not used", *request.gpu));
    else if (gpu && !nodes.contains(*gpu->numa))
      plan.warnings.push_back(
          fmt::format("guest '{}' runs off NUMA node {} of its GPU {}", request.name, *gpu->numa, *request.gpu));
  }
}

// A guest on several kinds, or not on the one --prefer asks for: the
// trade-off and the alternatives.
void GuestView::warn_kinds(Plan& plan) const {
  // Core kinds: mixed, or not the preferred one.
  std::map<unsigned, unsigned> kind_vcpus;
  for (unsigned cpu : guest.vcpus) ++kind_vcpus[find_cpu(topo, cpu)->kind];
  const unsigned preferred = request.prefer == Preference::VCache ? wanted_kind(topo, Preference::Performance)
                                                                  : wanted_kind(topo, request.prefer);
  if (topo.kinds.size() > 1) {
    // The most vCPUs the preferred kind holds alone, the host keeping its reserve.
    std::vector<unsigned> threads;
    unsigned others = 0;
    for (const Core& core : topo.cores) {
      if (core.kind == preferred && resolved.usable.contains(core.cpus)) threads.push_back(core.cpus.size());
      else ++others;
    }
    std::sort(threads.begin(), threads.end());
    const std::size_t host_takes = resolved.reserve_cores > others ? resolved.reserve_cores - others : 0;
    unsigned fit = 0, fit_cores = 0;
    for (std::size_t i = host_takes; i < threads.size(); ++i) fit += threads[i], ++fit_cores;
    const std::string alternatives =
        fit > 0 && fit != guest.vcpus.size()
            ? fmt::format("--vcpus {} keeps the guest on {}", fit, count_of_cores(topo, preferred, fit_cores))
            : std::string();
    // --prefer names the most or the least efficient kind: offer it where the guest got that one.
    const unsigned got = kind_vcpus.begin()->first;
    const std::string other_prefer =
        got == wanted_kind(topo, Preference::Efficiency) ? "efficiency"
        : got == wanted_kind(topo, Preference::Performance) ? "performance" : "";
    if (kind_vcpus.size() > 1) {
      // Every usable core of the preferred kind is the guest's: it is larger than that kind.
      bool whole_kind = kind_vcpus.count(preferred) > 0;
      for (const Core& core : topo.cores)
        if (core.kind == preferred && resolved.usable.contains(core.cpus) && !vcpu_set.contains(core.cpus))
          whole_kind = false;
      plan.warnings.push_back(fmt::format(
          "guest '{}' mixes core kinds ({}){}: the guest treats all vCPUs as equal, so the slower ones hold the "
          "others back{}",
          request.name, describe_cores(topo, vcpu_set),
          whole_kind ? fmt::format(", as {} do not fit on the {}: it gets all of them and the fastest cores after them",
                                   plural(guest.vcpus.size(), "vCPU", "vCPUs"), cores_of_kind(topo, preferred))
                     : "",
          alternatives.empty() ? "" : "; " + alternatives));
    } else if (kind_vcpus.begin()->first != preferred) {
      CpuSet host_preferred;
      for (const Core& core : topo.cores)
        if (core.kind == preferred && layout.host.contains(core.cpus)) host_preferred |= core.cpus;
      plan.warnings.push_back(fmt::format(
          "guest '{}' runs on {}, not the {} --prefer {} asks for: {} do not fit on them without mixing kinds "
          "(which costs more here){}{}{}{}{}",
          request.name, describe_cores(topo, vcpu_set), cores_of_kind(topo, preferred),
          request.prefer == Preference::Efficiency ? "efficiency" : "performance",
          plural(guest.vcpus.size(), "vCPU", "vCPUs"),
          host_preferred.empty() ? ""
                                 : fmt::format("; the host keeps the {}", describe_cores(topo, host_preferred)),
          alternatives.empty() && other_prefer.empty() ? "" : ". Alternatives: ", alternatives,
          alternatives.empty() || other_prefer.empty() ? "" : ", or ",
          other_prefer.empty() ? "" : "--prefer " + other_prefer + " to ask for this kind"));
    }
  }
}

// AMD 3D V-Cache (probe/topology.hpp): which CCD the guest got, the boot
// CPU's trade on the V-Cache CCD, and the amd_3d_vcache driver's mode that
// keeps the host's scheduler off the guest's CCD.
void GuestView::explain_vcache(Plan& plan) const {
  const std::vector<const Cache*> vcache = vcache_l3s(topo);
  if (vcache.empty()) return;
  const bool every_l3 = vcache.size() == caches_at_level(topo, 3).size();
  if (every_l3) {
    if (request.prefer == Preference::VCache)
      plan.explanation.push_back(fmt::format("  Every {} of this CPU has 3D V-Cache, so --prefer vcache changes nothing "
                                             "here.", vcache.size() == 1 ? "L3" : "CCD"));
    return;
  }
  CpuSet vcache_cpus;
  for (const Cache* l3 : vcache) vcache_cpus |= l3->cpus;
  // One advice for the host: the first guest's CCD decides the mode.
  const bool advised = std::any_of(plan.advice.begin(), plan.advice.end(),
                                   [](const std::string& a) { return a.find("amd_x3d_mode") != std::string::npos; });
  const std::string driver_mode =
      "(the amd_3d_vcache driver, Linux 6.13 and later: `echo {} | sudo tee "
      "/sys/bus/platform/drivers/amd_x3d_vcache/AMDI0101:00/amd_x3d_mode`)";
  if (vcache_cpus.contains(vcpu_set)) {
    // The guest is on V-Cache. The boot CPU's core there: a whole CCD with it, or one core fewer without it.
    const Cache* l3 = nullptr;
    for (const Cache* c : vcache)
      if (c->cpus.contains(vcpu_set.first())) l3 = c;
    const CpuSet boot_core = smt_siblings(topo, 0);
    if (l3 && l3->cpus.contains(0u)) {
      unsigned ccd_cores = 0, guest_cores = 0;
      for (const Core& core : topo.cores) {
        if (!l3->cpus.contains(core.cpus)) continue;
        ++ccd_cores;
        guest_cores += core.cpus.intersects(vcpu_set);
      }
      const unsigned boot_threads = boot_core.size();
      if (vcpu_set.intersects(boot_core) && guest_cores == ccd_cores)
        plan.explanation.push_back(fmt::format(
            "  The V-Cache CCD holds CPU 0, the boot CPU (the kernel keeps timekeeping and some interrupts there): the "
            "guest takes the whole CCD, all {} V-Cache cores, boot CPU included; --vcpus {} leaves CPU 0's core to "
            "the host for one V-Cache core fewer.",
            ccd_cores, vcpu_set.size() - boot_threads));
      else if (!vcpu_set.intersects(boot_core) && guest_cores + 1 == ccd_cores)
        plan.explanation.push_back(fmt::format(
            "  The V-Cache CCD holds CPU 0, the boot CPU: the guest gets {} of its {} cores and CPU 0's core stays "
            "with the host; --vcpus {} takes the whole CCD, boot CPU included.",
            guest_cores, ccd_cores, vcpu_set.size() + boot_threads));
    }
    if (!advised)
      plan.advice.push_back(fmt::format(
        "Let the host's scheduler favour the frequency CCD, not the guest's V-Cache CCD {}.",
        fmt::format(fmt::runtime(driver_mode), "frequency")));
  } else if (!vcpu_set.intersects(vcache_cpus)) {
    if (request.prefer != Preference::VCache)
      plan.explanation.push_back(fmt::format(
          "  The V-Cache CCD (CPUs {}) stays with the host; games that gain from its 3x larger L3 run faster there: "
          "--prefer vcache puts the guest on it.",
          vcache_cpus));
    if (!advised)
      plan.advice.push_back(fmt::format("Let the host's scheduler favour the V-Cache CCD it keeps, not the guest's CCD "
                                      "{}.",
                                      fmt::format(fmt::runtime(driver_mode), "cache")));
  }
}

// Advice a user acts on outside the domain XML.
void add_advice(const Topology& topo, const ResolvedRequest& resolved, const ThreadPlacement& layout, bool host_has_own,
                Plan& plan) {
  if (host_has_own) {
    // The kernel keeps its boot CPU for timekeeping: it clears CPU 0 from
    // nohz_full= ("Clearing 0 from nohz_full range") and keeps it a housekeeping CPU.
    const CpuSet kernel_isolate = plan.isolate - CpuSet{0};
    const bool dropped_cpu0 = plan.isolate.contains(0u);
    std::string boot_args =
        kernel_isolate.empty()
            ? std::string()
            : fmt::format(", or boot with isolcpus={0} nohz_full={0} rcu_nocbs={0}{1}", kernel_isolate,
                          dropped_cpu0 ? " (CPU 0 left out: the kernel keeps its boot CPU for timekeeping and "
                                         "clears it from nohz_full=)"
                                       : "");
    plan.advice.push_back(fmt::format(
        "Keep the host off the guest's CPUs while it runs: `vpt-tune hook` confines the host to CPUs {} "
        "(systemd AllowedCPUs= or cgroup cpuset){}.",
        layout.host, boot_args));
    plan.advice.push_back(fmt::format("Steer interrupts to the host's CPUs: set /proc/irq/*/smp_affinity_list to {} "
                                      "(or IRQBALANCE_BANNED_CPULIST={}).", layout.host, plan.isolate));
  }
  const auto& guests = resolved.request.guests;
  if (std::all_of(guests.begin(), guests.end(), [](const GuestRequest& g) { return g.hugepages; })) return;
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

std::vector<std::string> node_memory_warnings(const Topology& topo, const std::map<unsigned, NodeLoad>& loads,
                                              const std::string& remedy) {
  std::vector<std::string> warnings;
  for (const auto& [node, load] : loads) {
    const auto n = std::find_if(topo.numa_nodes.begin(), topo.numa_nodes.end(),
                                [&](const NumaNode& x) { return x.os_index == node; });
    if (n == topo.numa_nodes.end()) continue;
    if (!n->memory_bytes) {
      warnings.push_back(fmt::format(
          "{} bind {} of memory to NUMA node {}, whose size this input does not give (an `lscpu -e` listing has "
          "none): check it holds that much (numactl -H)",
          fmt::join(load.guests, ", "), format_bytes(load.bytes), node));
    } else if (load.bytes > *n->memory_bytes) {
      warnings.push_back(fmt::format("{} bind {} of memory to NUMA node {}, which has {}: they cannot all start there; {}",
                                     fmt::join(load.guests, ", "), format_bytes(load.bytes), node,
                                     format_bytes(n->memory_bytes), remedy));
    }
  }
  return warnings;
}

void describe(const Topology& topo, const ResolvedRequest& resolved, const ThreadPlacement& layout, Plan& plan) {
  const bool host_has_own = layout.host != all_cpus(topo) || layout.guests.empty();
  bool said_iothreads = false;
  for (std::size_t k = 0; k < layout.guests.size(); ++k) {
    const GuestView v{topo, resolved, layout, k, layout.guests[k], resolved.request.guests[k],
                      plan.guests[k].vcpu_cpus(), host_has_own, topo.numa_nodes.size() > 1,
                      caches_at_level(topo, 3).size() == 1};
    v.explain_placement(plan);
    v.explain_helpers(said_iothreads, plan);
    v.warn_sharing(plan);
    v.warn_kinds(plan);
    v.explain_vcache(plan);
  }
  if (!host_has_own) {
    plan.warnings.push_back(fmt::format(
        "the host keeps no CPU of its own (--reserve {}): the host, QEMU's emulator and I/O threads share CPUs {} "
        "with the guest's vCPUs",
        resolved.reserve_cores, all_cpus(topo)));
  } else {
    plan.explanation.push_back(
        fmt::format("The host keeps {} ({}).", cpus_text(layout.host), describe_cores(topo, layout.host)));
  }
  // A node bound more memory than it has: the search avoids it where any
  // other layout exists (node_memory_overflow); where none does, say so.
  std::map<unsigned, NodeLoad> bound;
  for (std::size_t k = 0; k < plan.guests.size(); ++k)
    for (const auto& [node, bytes] : bound_memory(plan.guests[k], resolved.request.guests[k])) {
      bound[node].bytes += bytes;
      bound[node].guests.push_back(resolved.request.guests[k].name);
    }
  for (std::string& w :
       node_memory_warnings(topo, bound, "give them less memory (--memory, --guest NAME:VCPUS:MEMORY) or plan fewer guests"))
    plan.warnings.push_back(std::move(w));
  if (!resolved.isolation_note.empty())
    (resolved.isolation_too_small ? plan.warnings : plan.explanation).push_back(resolved.isolation_note);
  if (!topo.offline_cpus.empty())
    plan.explanation.push_back(fmt::format("{} offline: not planned on (bring them online and plan again to use them).",
                                           cpu_list_phrase(topo.offline_cpus) +
                                               (topo.offline_cpus.size() == 1 ? " is" : " are")));
  for (const std::string& w : topo.warnings) plan.warnings.push_back(w);
  if (is_amd(topo) && has_cpu_flag(topo, "topoext") == false)
    plan.warnings.push_back("this AMD CPU lacks the topoext flag (a CPU older than Zen): the guest cannot be shown "
                            "which vCPUs are SMT siblings, so the plan does not require topoext");
  if (topo.cpu_vendor.empty() && topo.source == TopologySource::LscpuText && !looks_intel(topo))
    plan.warnings.push_back("the CPU vendor is unknown from `lscpu -e` alone: on an AMD CPU the guest needs "
                            "topoext to see SMT siblings (libvirt: <feature policy='require' name='topoext'/> "
                            "in <cpu>; Proxmox: cpu: host passes it through), or paste `lscpu` too");

  add_advice(topo, resolved, layout, host_has_own, plan);
  // A warning is said once, however many guests or caches led to it.
  std::vector<std::string> unique;
  for (std::string& w : plan.warnings)
    if (std::find(unique.begin(), unique.end(), w) == unique.end()) unique.push_back(std::move(w));
  plan.warnings = std::move(unique);
}

}  // namespace vpt
