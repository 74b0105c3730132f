// Resolving a request: the defaults a user left out (vCPU counts, the host's
// reserve, the guest's core kind), the CPUs guests may use (--exclude,
// isolated CPUs), and which L3 groups a guest could have to itself.
#include "optimizer/resolve.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "optimizer/optimizer.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

// The host keeps at least two cores, and never less than one whole L2 group
// (an E-core cluster), so it does not share an L2 with the guest
// (docs/optimizer-notes.md, "What the host keeps").
unsigned default_reserve(const Topology& topo) {
  unsigned reserve = 2;
  for (const Cache* l2 : multi_core_caches(topo, 2)) {
    std::set<unsigned> cores;
    for (unsigned cpu : l2->cpus) cores.insert(find_cpu(topo, cpu)->core);
    reserve = std::max<unsigned>(reserve, static_cast<unsigned>(cores.size()));
  }
  return reserve;
}

}  // namespace

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

unsigned wanted_kind(const Topology& topo, Preference prefer) {
  return prefer == Preference::Efficiency ? 0 : static_cast<unsigned>(topo.kinds.size() - 1);
}

namespace {

std::optional<unsigned> node_of_cpus(const Topology& topo, const CpuSet& cpus) {
  std::optional<unsigned> node;
  for (unsigned cpu : cpus) {
    auto n = find_cpu(topo, cpu)->numa;
    if (!n || (node && *node != *n)) return std::nullopt;
    node = n;
  }
  return node;
}

}  // namespace

namespace {

std::optional<unsigned> gpu_node(const Topology& topo, const GuestRequest& guest) {
  if (!guest.gpu) return std::nullopt;
  const PciDevice* gpu = find_pci(topo, *guest.gpu);
  return gpu ? gpu->numa : std::nullopt;
}

}  // namespace

std::string l3_groups_word(const Topology& topo, std::size_t count) {
  if (is_amd(topo)) return count == 1 ? "CCX (L3 group)" : "CCXs (L3 groups)";
  return count == 1 ? "L3 group" : "L3 groups";
}

std::vector<CleanGroup> clean_l3_groups(const Topology& topo, const CpuSet& usable) {
  std::vector<CleanGroup> groups;
  for (const Cache* l3 : caches_at_level(topo, 3)) {
    CpuSet covered;
    std::set<unsigned> kinds, sizes, packages;
    unsigned cores = 0;
    for (const Core& core : topo.cores) {
      if (!core.cpus.intersects(l3->cpus)) continue;
      covered |= core.cpus;
      kinds.insert(core.kind);
      sizes.insert(core.cpus.size());
      packages.insert(core.package);
      ++cores;
    }
    if (covered != l3->cpus || !usable.contains(covered) || kinds.size() != 1 || sizes.size() != 1 ||
        packages.size() != 1)
      continue;
    std::optional<unsigned> node = node_of_cpus(topo, covered);
    if (!node && !topo.numa_nodes.empty()) continue;  // spans NUMA nodes
    groups.push_back({l3, cores, covered.size(), *kinds.begin(), node, *packages.begin()});
  }
  return groups;
}

// --vcpus auto: the largest guest made of whole L3 groups of the preferred
// kind on one NUMA node that leaves the host its reserve, so that the guest
// shares no L3 with the host and its dies are the host's L3s (3900X: 18 vCPUs,
// three of the four CCXs). Where no such group exists (one L3 for the whole
// CPU, or L3s mixing kinds): the preferred kind's cores on one node minus what
// the host must keep of them. The GPU's node comes first when --gpu names one.
unsigned auto_vcpus(const Topology& topo, const CpuSet& usable, unsigned reserve, const GuestRequest& guest,
                    std::string& why) {
  const unsigned kind = wanted_kind(topo, guest.prefer);
  const std::optional<unsigned> gpu = gpu_node(topo, guest);
  const unsigned total_cores = static_cast<unsigned>(topo.cores.size());

  // Clean groups by (node, package, threads per group): how many of them fit.
  std::map<std::tuple<int, unsigned, unsigned>, std::vector<const CleanGroup*>> blocks;
  std::vector<CleanGroup> groups = clean_l3_groups(topo, usable);
  for (const CleanGroup& g : groups)
    if (g.kind == kind && (guest.prefer != Preference::VCache || is_vcache_l3(topo, *g.l3))) blocks[{g.node ? static_cast<int>(*g.node) : -1, g.package, g.threads}].push_back(&g);
  unsigned best = 0;
  bool best_on_gpu = false;
  std::string best_why;
  for (const auto& [key, members] : blocks) {
    const auto& [node, package, threads] = key;
    const unsigned per_group_cores = members.front()->cores;
    if (total_cores < reserve + per_group_cores) continue;
    const unsigned fit = std::min<unsigned>(static_cast<unsigned>(members.size()),
                                            (total_cores - reserve) / per_group_cores);
    const unsigned vcpus = fit * threads;
    const bool on_gpu = gpu && node == static_cast<int>(*gpu);
    if (fit == 0 || (best_on_gpu && !on_gpu) || (best_on_gpu == on_gpu && vcpus <= best)) continue;
    best = vcpus;
    best_on_gpu = on_gpu;
    best_why = fmt::format("--vcpus auto: {} vCPUs, {} whole {} of {} vCPUs{}{}: the largest guest that shares no L3 "
                           "with the host",
                           vcpus, fit, l3_groups_word(topo, fit),
                           threads, node >= 0 && topo.numa_nodes.size() > 1 ? fmt::format(" on NUMA node {}", node) : "",
                           on_gpu ? " (the GPU's)" : "");
  }
  if (best > 0) {
    why = best_why;
    return best;
  }

  // No clean L3 group: the preferred kind's cores of one node.
  std::map<int, std::vector<unsigned>> by_node;  // NUMA node -> thread counts of preferred usable cores
  for (const Core& core : topo.cores) {
    if (!usable.contains(core.cpus) || core.kind != kind) continue;
    auto numa = find_cpu(topo, core.cpus.first())->numa;
    by_node[numa ? static_cast<int>(*numa) : -1].push_back(core.cpus.size());
  }
  int chosen = -2;
  for (auto& [node, threads] : by_node) {
    unsigned others = static_cast<unsigned>(topo.cores.size() - threads.size());
    unsigned take = reserve > others ? reserve - others : 0;
    std::sort(threads.begin(), threads.end());
    unsigned total = 0;
    for (std::size_t i = take; i < threads.size(); ++i) total += threads[i];
    const bool on_gpu = gpu && node == static_cast<int>(*gpu);
    if ((best_on_gpu && !on_gpu) || (best_on_gpu == on_gpu && total <= best)) continue;
    best = total;
    best_on_gpu = on_gpu;
    chosen = node;
  }
  if (best > 0) {
    const bool one_l3 = caches_at_level(topo, 3).size() == 1;
    why = fmt::format("--vcpus auto: {} vCPUs on {}{}; {}", best,
                      topo.kinds.size() > 1 ? "the " + cores_of_kind(topo, kind) : "the cores",
                      chosen >= 0 && topo.numa_nodes.size() > 1 ? fmt::format(" of NUMA node {}", chosen) : "",
                      one_l3 ? "this CPU has a single L3, so the guest shares it with the host whatever it takes"
                      : caches_at_level(topo, 3).empty()
                          ? "the host model has no L3 information"
                          : fmt::format("no whole L3 group of them leaves the host its {} cores", reserve));
  }
  return best;
}

namespace {

// The user's isolated CPUs (isolcpus=/nohz_full= of the live host, or
// --isolated) hold the vCPUs when every guest fits inside them; the helpers
// and the host stay outside either way (the kernel keeps its own work off
// them, and a helper there would lose the scheduler's balancing).
void use_isolated_cpus(const Topology& topo, ResolvedRequest& resolved) {
  const Request& request = resolved.request;
  resolved.isolated = isolated_cpus(topo, request.isolated);
  resolved.no_helpers = request.excluded | resolved.isolated;
  if (resolved.isolated.empty()) return;
  const CpuSet inside = resolved.usable & resolved.isolated;
  unsigned wanted = 0;
  bool any_auto = false;
  for (const GuestRequest& guest : request.guests) {
    wanted += guest.vcpus.value_or(0);
    any_auto |= !guest.vcpus;
  }
  // Inside, the host keeps nothing: it has every CPU outside.
  const unsigned room = max_vcpus(topo, inside, 0);
  if (room > 0 && (any_auto ? room > wanted : room >= wanted)) {
    resolved.usable = inside;
    resolved.isolation_note = fmt::format("The vCPUs run inside the CPUs the kernel isolates ({}); the host and "
                                          "QEMU's helper threads stay outside them.", resolved.isolated);
    return;
  }
  resolved.isolation_too_small = true;
  resolved.isolation_note = fmt::format(
      "the kernel isolates CPUs {} ({} whole-core vCPUs), fewer than the guests' {}: the plan runs them outside "
      "that set too; change the kernel line to the plan's isolcpus= below",
      resolved.isolated, room, wanted);
}

// --prefer vcache needs to know which L3s have 3D V-Cache, which only their
// sizes tell (probe/topology.hpp): without sizes, or without V-Cache, say so
// rather than plan on whatever L3 comes first.
void check_vcache_request(const Topology& topo, const GuestRequest& guest) {
  const std::string asked = fmt::format("cannot plan guest '{}' with --prefer vcache", guest.name);
  const std::vector<const Cache*> l3s = caches_at_level(topo, 3);
  if (l3s.empty()) throw RequestError(fmt::format("{}: {} shows no L3 caches", asked, machine_words(topo)));
  if (!l3_sizes_known(topo))
    throw RequestError(fmt::format(
        "{}: {} gives no L3 sizes, and the V-Cache CCD is known by its size; {}", asked, machine_words(topo),
        topo.source == TopologySource::LscpuText
            ? "paste the output of `grep . /sys/devices/system/cpu/cpu*/cache/index3/size` below the `lscpu -e` table"
            : "read the host itself (`vpt-tune suggest` there) or an hwloc export of it (`lstopo host.xml`)"));
  if (vcache_l3s(topo).empty()) {
    std::uint64_t largest = 0;
    for (const Cache* l3 : l3s) largest = std::max(largest, l3->size_bytes.value_or(0));
    throw RequestError(fmt::format("{}: no L3 of {} has 3D V-Cache (the largest is {}; an X3D CPU's V-Cache CCD has "
                                   "96 MiB): leave --prefer out",
                                   asked, machine_words(topo), format_bytes(largest)));
  }
}

}  // namespace

ResolvedRequest resolve(const Topology& topo, const Request& request) {
  if (request.guests.empty()) throw RequestError("cannot plan: the request names no guest");
  std::set<std::string> names;
  for (const GuestRequest& guest : request.guests) {
    if (guest.name.empty()) throw RequestError("cannot plan: a guest has an empty name");
    if (!names.insert(guest.name).second)
      throw RequestError(fmt::format("cannot plan: guest name '{}' is used twice", guest.name));
    if (guest.vcpus && *guest.vcpus == 0)
      throw RequestError(fmt::format("cannot plan guest '{}': it needs at least one vCPU", guest.name));
    if (guest.prefer == Preference::VCache) check_vcache_request(topo, guest);
  }
  const CpuSet online = all_cpus(topo);
  for (const auto& [flag, set] : {std::pair{"--cpus", request.allowed}, std::pair{"--exclude", request.excluded},
                                  std::pair{"--isolated", request.isolated}})
    if (!online.contains(set))
      throw RequestError(fmt::format("cannot plan: CPUs {} given to {} are not online CPUs of this host (online: {})",
                                     set - online, flag, online));

  ResolvedRequest resolved;
  resolved.request = request;
  resolved.usable = (request.allowed.empty() ? online : request.allowed) - request.excluded;
  resolved.reserve_cores = request.reserve_cores.value_or(default_reserve(topo));
  resolved.auto_notes.assign(request.guests.size(), "");
  use_isolated_cpus(topo, resolved);

  const unsigned most = max_vcpus(topo, resolved.usable, resolved.reserve_cores);
  unsigned autos = 0;
  for (std::size_t k = 0; k < resolved.request.guests.size(); ++k) {
    GuestRequest& guest = resolved.request.guests[k];
    if (guest.vcpus) continue;
    ++autos;
    guest.vcpus = auto_vcpus(topo, resolved.usable, resolved.reserve_cores, guest, resolved.auto_notes[k]);
  }
  if (autos > 1) throw RequestError("cannot plan: --vcpus auto works for one guest at a time; give the others a count");
  if (autos == 1 && resolved.request.guests.size() > 1) {
    unsigned others = 0;
    for (const GuestRequest& guest : request.guests) others += guest.vcpus.value_or(0);
    for (std::size_t k = 0; k < resolved.request.guests.size(); ++k)
      if (!request.guests[k].vcpus) {
        GuestRequest& guest = resolved.request.guests[k];
        const unsigned room = most > others ? most - others : 0;
        if (*guest.vcpus > room) {
          guest.vcpus = room;
          resolved.auto_notes[k] = fmt::format("--vcpus auto: {} vCPUs, what the other guests leave", room);
        }
      }
  }
  // With one guest, the counts that would fit are the next command's options.
  const bool one_guest = resolved.request.guests.size() == 1;
  const unsigned most_shared = max_vcpus(topo, resolved.usable, 0);
  const std::string machine = machine_words(topo);
  unsigned total = 0;
  for (const GuestRequest& guest : resolved.request.guests) {
    if (*guest.vcpus == 0) {
      std::string message = fmt::format(
          "cannot plan guest '{}': {} has {} and the host keeps {} of them (--reserve)", guest.name, machine,
          plural(topo.cores.size(), "core", "cores"), resolved.reserve_cores);
      if (!one_guest || most_shared == 0) throw RequestError(message + "; lower --reserve");
      throw RequestError(message, RetryOptions{{{"--vcpus", std::to_string(most_shared)}, {"--reserve", "0"}},
                                               "plans anyway (the host then shares the guest's CPUs)"});
    }
    total += *guest.vcpus;
  }
  if (total > most) {
    std::string message = fmt::format(
        "cannot place {} on {}: at most {} fit ({} usable CPUs {}, and the host keeps at least {})",
        plural(total, "vCPU", "vCPUs"), machine, most, resolved.usable.size(), resolved.usable,
        plural(resolved.reserve_cores, "core", "cores"));
    if (!one_guest) throw RequestError(message + fmt::format("; ask for {} in all, or lower --reserve", most));
    if (most > 0)
      throw RequestError(message, RetryOptions{{{"--vcpus", std::to_string(most)}},
                                               "plans the largest guest that fits (or lower --reserve)"});
    if (most_shared > 0)
      throw RequestError(message, RetryOptions{{{"--vcpus", std::to_string(std::min(total, most_shared))},
                                                {"--reserve", "0"}},
                                               "plans anyway (the host then shares the guest's CPUs)"});
    throw RequestError(message);
  }
  return resolved;
}

CpuSet numa_nodes_of(const Topology& topo, const CpuSet& cpus) {
  CpuSet nodes;
  for (unsigned cpu : cpus)
    if (auto n = find_cpu(topo, cpu)->numa) nodes.insert(*n);
  return nodes;
}

unsigned memory_node_of(const Topology& topo, unsigned node) {
  const auto& nodes = topo.numa_nodes;
  auto at = std::find_if(nodes.begin(), nodes.end(), [&](const NumaNode& n) { return n.os_index == node; });
  if (at == nodes.end() || at->memory_bytes != std::uint64_t{0}) return node;
  const std::size_t from = static_cast<std::size_t>(at - nodes.begin());
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].memory_bytes.value_or(0) == 0) continue;
    const bool nearer = !best || (!topo.numa_distances.empty() &&
                                  topo.numa_distances[from][i] < topo.numa_distances[from][*best]);
    if (nearer) best = i;
  }
  return best ? nodes[*best].os_index : node;
}

}  // namespace vpt
