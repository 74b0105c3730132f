#include "optimizer/host_plan.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "optimizer/explain.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

const char* role_name(GuestRole role) {
  switch (role) {
    case GuestRole::Dedicated: return "dedicated";
    case GuestRole::Shared: return "shared";
    case GuestRole::Kept: return "kept";
  }
  return "?";
}

namespace {

// Every CPU of the cores that `cpus` touches: a kept pin on one thread of a
// core keeps the whole core from the other guests (they would share it).
CpuSet whole_cores(const Topology& topo, const CpuSet& cpus) {
  CpuSet cores;
  for (unsigned cpu : cpus) cores |= smt_siblings(topo, cpu);
  return cores;
}

// The L3s (their CPUs) that hold any of `cpus`.
CpuSet l3s_of(const Topology& topo, const CpuSet& cpus) {
  CpuSet l3s;
  for (unsigned cpu : cpus) l3s |= cpus_sharing_cache(topo, cpu, 3);
  return l3s;
}

unsigned whole_core_count(const Topology& topo, const CpuSet& cpus) {
  unsigned n = 0;
  for (const Core& core : topo.cores) n += cpus.contains(core.cpus);
  return n;
}

// Dedicated guests that pass through a common device, as groups of indices
// into request.guests (each group in request order, groups by first member).
std::vector<std::vector<std::size_t>> device_groups(const HostRequest& request) {
  std::vector<std::size_t> parent(request.guests.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::map<std::string, std::size_t> first_with;  // device -> first dedicated guest passing it through
  for (std::size_t k = 0; k < request.guests.size(); ++k) {
    if (request.guests[k].role != GuestRole::Dedicated) continue;
    for (const std::string& dev : request.guests[k].devices) {
      auto [it, fresh] = first_with.emplace(dev, k);
      if (!fresh) parent[find(k)] = find(it->second);
    }
  }
  std::map<std::size_t, std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < request.guests.size(); ++k)
    if (request.guests[k].role == GuestRole::Dedicated) groups[find(k)].push_back(k);
  std::vector<std::vector<std::size_t>> out;
  for (auto& [root, members] : groups) out.push_back(std::move(members));
  std::sort(out.begin(), out.end());
  return out;
}

// The member with the most vCPUs (the first on ties) stands for the group in the search.
std::size_t largest(const HostRequest& request, const std::vector<std::size_t>& group) {
  std::size_t best = group.front();
  for (std::size_t k : group)
    if (*request.guests[k].request.vcpus > *request.guests[best].request.vcpus) best = k;
  return best;
}

std::string vcpu_phrase(unsigned n) { return fmt::format("{} vCPU{}", n, n == 1 ? "" : "s"); }

// When the dedicated guests do not fit: which of them do, added in order
// (guests with a passed-through device first), and the first that does not.
[[noreturn]] void throw_does_not_fit(const Topology& topo, const HostRequest& request, const Request& search,
                                     const std::vector<std::size_t>& reps, const SearchLimits& limits,
                                     const std::string& why) {
  std::vector<std::size_t> order(search.guests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(),
                        [&](std::size_t i) { return !request.guests[reps[i]].devices.empty(); });
  Request trial = search;
  trial.guests.clear();
  std::vector<std::string> fit;
  std::string short_of;
  for (std::size_t i : order) {
    trial.guests.push_back(search.guests[i]);
    try {
      make_plan(topo, trial, limits);
      fit.push_back(fmt::format("{} ({})", search.guests[i].name, vcpu_phrase(*search.guests[i].vcpus)));
    } catch (const RequestError&) {
      trial.guests.pop_back();
      if (short_of.empty())
        short_of = fmt::format("{} ({}) does not", search.guests[i].name, vcpu_phrase(*search.guests[i].vcpus));
    }
  }
  throw RequestError(fmt::format(
      "cannot give every dedicated guest cores of its own: {} fit{}, {} ({}); make a guest --shared, give it fewer "
      "vCPUs, or lower --reserve",
      fit.empty() ? std::string("none") : fmt::format("{}", fmt::join(fit, ", ")), fit.size() == 1 ? "s" : "",
      short_of.empty() ? "not all together" : short_of, why));
}

// Memory the dedicated guests bind to each host node, and who binds it. Guests
// of one device never run together: a group counts as its largest member.
std::map<unsigned, NodeLoad> node_loads(const HostRequest& request, const std::vector<std::vector<std::size_t>>& groups,
                                        const std::map<std::size_t, GuestPlan>& planned) {
  std::map<unsigned, NodeLoad> loads;
  for (const auto& group : groups) {
    std::map<unsigned, std::uint64_t> most;
    std::map<unsigned, std::string> whose;
    for (std::size_t k : group)
      for (const auto& [node, bytes] : bound_memory(planned.at(k), request.guests[k].request))
        if (bytes > most[node]) most[node] = bytes, whose[node] = request.guests[k].request.name;
    for (const auto& [node, bytes] : most) {
      loads[node].bytes += bytes;
      loads[node].guests.push_back(whose[node]);
    }
  }
  return loads;
}

const NumaNode* find_node(const Topology& topo, unsigned os_index) {
  for (const NumaNode& n : topo.numa_nodes)
    if (n.os_index == os_index) return &n;
  return nullptr;
}

void warn_node_memory(const Topology& topo, const std::map<unsigned, NodeLoad>& loads, HostPlan& out) {
  for (std::string& w : node_memory_warnings(topo, loads, "give them less memory, or make one of them --shared"))
    out.warnings.push_back(std::move(w));
}

}  // namespace

HostPlan plan_host(const Topology& topo, const HostRequest& request, const SearchLimits& limits) {
  if (request.guests.empty()) throw RequestError("cannot plan the host: no guest to plan");
  std::set<std::string> names;
  for (const HostGuest& g : request.guests) {
    if (g.request.name.empty()) throw RequestError("cannot plan the host: a guest has an empty name");
    if (!names.insert(g.request.name).second)
      throw RequestError(fmt::format("cannot plan the host: guest name '{}' is used twice", g.request.name));
    if (!g.request.vcpus || *g.request.vcpus == 0)
      throw RequestError(fmt::format("cannot plan guest '{}': it has no vCPU count", g.request.name));
    if (g.role == GuestRole::Kept && g.kept_cpus.empty())
      throw RequestError(fmt::format("cannot keep the pins of guest '{}': it has none (drop --keep {} to plan it)",
                                     g.request.name, g.request.name));
  }
  const CpuSet online = all_cpus(topo);
  HostPlan out;

  // Kept guests: their cores are no one else's.
  CpuSet kept;
  for (const HostGuest& g : request.guests) {
    if (g.role != GuestRole::Kept) continue;
    if (!online.contains(g.kept_cpus))
      throw RequestError(fmt::format("cannot keep the pins of guest '{}': CPUs {} are not online CPUs of this host",
                                     g.request.name, g.kept_cpus - online));
    const CpuSet cores = whole_cores(topo, g.kept_cpus);
    if (cores.intersects(kept))
      out.warnings.push_back(fmt::format("kept guest '{}' shares cores ({}) with another kept guest", g.request.name,
                                         cores & kept));
    kept |= cores;
  }

  // One search guest per group of dedicated guests that pass through one device.
  const auto groups = device_groups(request);

  // Dedicated guests alone in their group whose clean pins touch no kept core
  // and no other such guest's: their CPUs stay theirs.
  std::map<std::size_t, CpuSet> fixed;  // request index -> its pins
  CpuSet fixed_cpus;
  for (const auto& group : groups) {
    const HostGuest& g = request.guests[group.front()];
    if (group.size() != 1 || g.clean_pins.empty()) continue;
    if (g.clean_pins.intersects(kept | fixed_cpus | request.excluded)) {
      out.explanation.push_back(fmt::format("'{}' is planned anew: its pins (CPUs {}) overlap another guest's.",
                                            g.request.name, g.clean_pins));
      continue;
    }
    fixed[group.front()] = g.clean_pins;
    fixed_cpus |= g.clean_pins;
  }

  // A kept guest's emulator and I/O threads stay where it pinned them: no
  // other guest's vCPUs there (helpers may share them; they are the host's).
  CpuSet kept_helpers;
  for (const HostGuest& g : request.guests)
    if (g.role == GuestRole::Kept) kept_helpers |= whole_cores(topo, g.kept_helper_cpus & online);

  // One pass plans the dedicated guests: the search for all but the fixed and
  // the moved ones, then each of those on its own CPUs.
  std::map<std::size_t, unsigned> moved;  // request index -> the host node it was moved to
  std::map<std::size_t, GuestPlan> planned;  // request index -> its plan
  CpuSet dedicated_vcpus, moved_cpus;
  std::vector<std::string> pass_explanation;
  auto plan_pass = [&] {
    out.dedicated = Plan{};
    planned.clear();
    dedicated_vcpus = moved_cpus = CpuSet{};
    pass_explanation.clear();
    Request search;
    search.reserve_cores = request.reserve_cores;
    search.excluded = request.excluded | kept | fixed_cpus;
    if (const CpuSet allowed = online - kept_helpers - search.excluded; !kept_helpers.empty() && !allowed.empty())
      search.allowed = online - kept_helpers;
    search.isolated = request.isolated;
    search.weights = request.weights;
    std::vector<std::size_t> reps;
    std::vector<std::vector<std::size_t>> searched;  // the groups the search plans
    for (const auto& group : groups) {
      if (fixed.count(group.front()) || moved.count(group.front())) continue;
      searched.push_back(group);
      const std::size_t rep = largest(request, group);
      reps.push_back(rep);
      GuestRequest guest = request.guests[rep].request;
      for (std::size_t k : group)
        if (!guest.gpu && request.guests[k].request.gpu) guest.gpu = request.guests[k].request.gpu;
      search.guests.push_back(std::move(guest));
    }
    if (!search.guests.empty()) {
      try {
        out.dedicated = make_plan(topo, search, limits);
      } catch (const RequestError& e) {
        throw_does_not_fit(topo, request, search, reps, limits, e.what());
      }
      for (const GuestPlan& g : out.dedicated.guests) dedicated_vcpus |= g.vcpu_cpus();
      for (std::size_t i = 0; i < searched.size(); ++i) {
        const GuestPlan& rep_plan = out.dedicated.guests[i];
        for (std::size_t k : searched[i]) {
          const GuestRequest& mine = request.guests[k].request;
          if (k == reps[i] || *mine.vcpus == rep_plan.vcpus.size()) {
            GuestPlan copy = rep_plan;
            copy.name = mine.name;
            if (mine.memory_bytes && !copy.numa_cells.empty()) size_numa_cells(copy.numa_cells, *mine.memory_bytes);
            planned[k] = std::move(copy);
            continue;
          }
          // Fewer vCPUs than the group's largest: the best of its cores, helpers
          // where they were (never on another guest's cores).
          Request sub;
          sub.guests = {mine};
          sub.guests.front().gpu = search.guests[i].gpu;
          sub.reserve_cores = request.reserve_cores;
          sub.allowed = rep_plan.vcpu_cpus();
          sub.excluded = search.excluded | (dedicated_vcpus - rep_plan.vcpu_cpus());
          sub.isolated = request.isolated;
          sub.weights = request.weights;
          planned[k] = make_plan(topo, sub, limits).guests.front();
        }
      }
    }

    // Guests on their clean pins: only order, topology and helpers are planned,
    // helpers off every other guest's vCPUs.
    for (const auto& [k, pins] : fixed) {
      const HostGuest& g = request.guests[k];
      Request sub;
      sub.guests = {g.request};
      sub.reserve_cores = request.reserve_cores;
      sub.allowed = pins;
      sub.excluded = request.excluded | kept | dedicated_vcpus | (fixed_cpus - pins);
      sub.isolated = request.isolated;
      sub.weights = request.weights;
      planned[k] = make_plan(topo, sub, limits).guests.front();
      pass_explanation.push_back(fmt::format(
          "'{}' keeps its vCPU pins, CPUs {} ({}): only the vCPUs' order, the guest's topology and its QEMU threads "
          "are planned; --replan plans it anew.",
          g.request.name, pins, g.clean_pins_reason));
    }
    dedicated_vcpus |= fixed_cpus;

    // Guests moved to another node: the best free cores there, away from the
    // host's first core. Throws RequestError when they do not fit.
    for (const auto& [k, node] : moved) {
      const NumaNode* n = find_node(topo, node);
      Request sub;
      sub.guests = {request.guests[k].request};
      sub.reserve_cores = 0;  // the search above kept the host its reserve
      sub.excluded = request.excluded | kept | kept_helpers | dedicated_vcpus | smt_siblings(topo, online.first());
      sub.allowed = n ? n->cpus - sub.excluded : CpuSet{};
      if (sub.allowed.empty()) throw RequestError(fmt::format("NUMA node {} has no free CPU", node));
      sub.isolated = request.isolated;
      sub.weights = request.weights;
      GuestPlan plan = make_plan(topo, sub, limits).guests.front();
      dedicated_vcpus |= plan.vcpu_cpus();
      moved_cpus |= plan.vcpu_cpus();
      planned[k] = std::move(plan);
    }
  };

  // Memory per node: a guest bound to a node that cannot hold everything bound
  // there moves to the node with the most memory left that holds it (one guest
  // at a time, largest first; guests kept by a GPU on that node stay).
  std::set<std::size_t> unmovable;
  plan_pass();
  for (;;) {
    const auto loads = node_loads(request, groups, planned);
    std::optional<unsigned> full;
    for (const auto& [node, load] : loads)
      if (const NumaNode* n = find_node(topo, node); n && n->memory_bytes && load.bytes > *n->memory_bytes) full = node;
    if (!full) break;
    std::optional<std::size_t> pick;
    std::optional<unsigned> target;
    for (const auto& group : groups) {
      const std::size_t k = group.front();
      const GuestRequest& g = request.guests[k].request;
      if (group.size() != 1 || fixed.count(k) || moved.count(k) || unmovable.count(k) || !g.memory_bytes) continue;
      const auto mine = bound_memory(planned.at(k), g);
      if (mine.size() != 1 || mine.begin()->first != *full) continue;
      const PciDevice* gpu = g.gpu ? find_pci(topo, *g.gpu) : nullptr;
      if (gpu && gpu->numa == full) continue;  // its GPU keeps it there
      if (pick && *request.guests[*pick].request.memory_bytes >= *g.memory_bytes) continue;
      std::optional<unsigned> best;
      std::uint64_t best_free = 0;
      for (const NumaNode& n : topo.numa_nodes) {
        if (n.os_index == *full || !n.memory_bytes) continue;
        const std::uint64_t used = loads.count(n.os_index) ? loads.at(n.os_index).bytes : 0;
        const std::uint64_t left = *n.memory_bytes > used ? *n.memory_bytes - used : 0;
        if (left >= *g.memory_bytes && (!best || left > best_free)) best = n.os_index, best_free = left;
      }
      if (best) pick = k, target = best;
    }
    if (!pick) break;
    moved[*pick] = *target;
    try {
      plan_pass();
    } catch (const RequestError&) {
      moved.erase(*pick);  // no room for its vCPUs there: it stays, and the warning says so
      unmovable.insert(*pick);
      plan_pass();
      continue;
    }
    out.explanation.push_back(fmt::format(
        "'{}' moves to NUMA node {}: node {} cannot hold the memory bound to it ({}), node {} can.",
        request.guests[*pick].request.name, *target, *full,
        format_bytes(loads.at(*full).bytes), *target));
  }
  for (std::string& line : pass_explanation) out.explanation.push_back(std::move(line));
  warn_node_memory(topo, node_loads(request, groups, planned), out);

  // The shared pool: what neither the dedicated guests nor the kept ones have,
  // outside the isolated CPUs (the scheduler does not balance threads there),
  // away from the dedicated guests' L3s where at least two whole cores remain.
  CpuSet host_side = (out.dedicated.guests.empty() ? online : out.dedicated.host) - fixed_cpus - moved_cpus;
  const CpuSet isolated = isolated_cpus(topo, request.isolated);
  if (CpuSet outside = host_side - isolated; !outside.empty()) host_side = std::move(outside);
  out.host = host_side - kept;
  if (out.host.empty()) out.host = host_side;
  std::vector<std::string> shared_names;
  for (const HostGuest& g : request.guests)
    if (g.role == GuestRole::Shared) shared_names.push_back(g.request.name);
  if (!shared_names.empty()) {
    CpuSet pool = out.host - request.excluded;
    if (pool.empty()) pool = out.host;
    const CpuSet near = l3s_of(topo, dedicated_vcpus);
    const CpuSet far = pool - near;
    if (!dedicated_vcpus.empty() && whole_core_count(topo, far) >= 2) {
      pool = far;
      out.explanation.push_back(fmt::format(
          "The shared guests ({}) float over CPUs {}, which share no L3 with the dedicated guests.",
          fmt::join(shared_names, ", "), pool));
    } else if (!dedicated_vcpus.empty() && pool.intersects(near)) {
      out.explanation.push_back(fmt::format(
          "The shared guests ({}) float over CPUs {} with the host: fewer than two whole cores share no L3 with the "
          "dedicated guests, so the pool shares their L3.",
          fmt::join(shared_names, ", "), pool));
    } else {
      out.explanation.push_back(
          fmt::format("The shared guests ({}) float over CPUs {} with the host.", fmt::join(shared_names, ", "), pool));
    }
    out.shared_pool = pool;
  }

  for (std::size_t k = 0; k < request.guests.size(); ++k) {
    const HostGuest& g = request.guests[k];
    HostGuestPlan p;
    p.name = g.request.name;
    p.role = g.role;
    p.role_reason = g.role_reason;
    p.vcpus = *g.request.vcpus;
    switch (g.role) {
      case GuestRole::Dedicated:
        p.plan = planned.at(k);
        p.kept_clean_pins = fixed.count(k) != 0;
        break;
      case GuestRole::Shared:
        p.pool = out.shared_pool;
        if (p.vcpus > p.pool.size())
          out.warnings.push_back(fmt::format(
              "shared guest '{}' has {} on a pool of {} CPUs ({}): its vCPUs wait for each other; give it at most {}",
              p.name, vcpu_phrase(p.vcpus), p.pool.size(), p.pool, p.pool.size()));
        break;
      case GuestRole::Kept:
        p.kept_cpus = g.kept_cpus;
        out.explanation.push_back(fmt::format("'{}' keeps its pins (CPUs {}); no other guest was planned on their cores.",
                                              p.name, g.kept_cpus));
        break;
    }
    out.guests.push_back(std::move(p));
  }

  // Guests that pass through one device run one at a time: name who shares cores.
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].size() < 2) continue;
    std::vector<std::string> members;
    std::map<std::string, unsigned> users;  // device -> members passing it through
    for (std::size_t k : groups[i]) {
      members.push_back(request.guests[k].request.name);
      for (const std::string& dev : std::set<std::string>(request.guests[k].devices.begin(),
                                                         request.guests[k].devices.end()))
        ++users[dev];
    }
    std::vector<std::string> devices;  // those at least two of them pass through
    for (const auto& [dev, n] : users)
      if (n > 1) devices.push_back(dev);
    for (std::size_t k : groups[i])
      for (const std::string& other : members)
        if (other != request.guests[k].request.name) out.guests[k].same_cores_as.push_back(other);
    out.explanation.push_back(fmt::format("{} pass through the same device{} ({}) and can never run at the same "
                                          "time: they share the same cores.",
                                          fmt::join(members, " and "), devices.size() == 1 ? "" : "s",
                                          fmt::join(devices, ", ")));
  }
  return out;
}

Plan as_one_plan(const HostPlan& plan) {
  Plan one;
  for (const HostGuestPlan& g : plan.guests) {
    switch (g.role) {
      case GuestRole::Dedicated: one.guests.push_back(*g.plan); break;
      case GuestRole::Kept: {
        GuestPlan kept;
        kept.name = g.name + " (kept)";
        for (unsigned cpu : g.kept_cpus) kept.vcpus.push_back(cpu);
        kept.topology.cores = static_cast<unsigned>(kept.vcpus.size());
        kept.cache_passthrough = false;
        one.guests.push_back(std::move(kept));
        break;
      }
      case GuestRole::Shared: break;  // they float over the host's CPUs: the explanation names the pool
    }
  }
  one.host = plan.host;
  one.irq_affinity = plan.host;
  one.score = plan.dedicated.score;
  one.search = plan.dedicated.search;
  one.optimal = plan.dedicated.optimal;
  one.explanation = plan.explanation;
  one.warnings = plan.warnings;
  for (const std::string& w : plan.dedicated.warnings) one.warnings.push_back(w);
  one.advice = plan.dedicated.advice;
  return one;
}

}  // namespace vpt
