#include "optimizer/search.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <functional>
#include <set>
#include <tuple>

namespace vpt {

namespace {

constexpr double kEpsilon = 1e-9;

unsigned threads_of(const Topology& topo, unsigned core) { return topo.cores[core].cpus.size(); }

int l3_of(const Topology& topo, unsigned core) {
  auto l3 = find_cpu(topo, topo.cores[core].cpus.first())->l3;
  return l3 ? static_cast<int>(*l3) : -1;
}

}  // namespace

Search::Search(const Topology& topo, const ResolvedRequest& resolved, const CostModel& model)
    : topo_(topo), resolved_(resolved), model_(model) {
  // Interchangeable cores: same kind, threads, L3, NUMA node, package and, when
  // their L2 is shared by several cores, the same L2; the core of CPU 0 is its own.
  using Key = std::tuple<unsigned, unsigned, std::optional<unsigned>, std::optional<unsigned>, unsigned,
                         std::optional<unsigned>, bool>;
  std::map<Key, std::vector<unsigned>> classes;
  std::map<unsigned, std::set<unsigned>> cores_of_l2;  // L2 index -> cores sharing it
  for (const LogicalCpu& cpu : topo.cpus)
    if (cpu.l2) cores_of_l2[*cpu.l2].insert(cpu.core);
  for (const Core& core : topo.cores) {
    if (!resolved.usable.contains(core.cpus)) continue;
    usable_cores_.push_back(core.index);
    const LogicalCpu& cpu = *find_cpu(topo, core.cpus.first());
    std::optional<unsigned> shared_l2;  // only an L2 several cores share tells cores apart
    if (cpu.l2 && cores_of_l2[*cpu.l2].size() > 1) shared_l2 = cpu.l2;
    Key key{core.kind, core.cpus.size(), cpu.l3, cpu.numa, core.package, shared_l2,
            core.cpus.contains(0u)};  // the boot CPU's core costs boot_cpu
    classes[key].push_back(core.index);
  }
  for (auto& [key, cores] : classes) classes_.push_back(std::move(cores));
  std::sort(classes_.begin(), classes_.end());  // deterministic: by first core
}

bool Search::feasible(const CoreChoice& choice) const {
  CpuSet taken;
  std::size_t cores_taken = 0;
  for (std::size_t k = 0; k < choice.guest_cores.size(); ++k) {
    unsigned threads = 0, fewest = std::numeric_limits<unsigned>::max();
    for (unsigned core : choice.guest_cores[k]) {
      const CpuSet& cpus = topo_.cores[core].cpus;
      if (!resolved_.usable.contains(cpus) || cpus.intersects(taken)) return false;
      taken |= cpus;
      threads += cpus.size();
      fewest = std::min(fewest, cpus.size());
      ++cores_taken;
    }
    const unsigned wanted = *resolved_.request.guests[k].vcpus;
    if (threads < wanted || threads - fewest >= wanted) return false;
  }
  return topo_.cores.size() - cores_taken >= resolved_.reserve_cores;
}

ThreadPlacement Search::materialize(const CoreChoice& choice) const {
  ThreadPlacement layout;
  CpuSet guest_cpus, idle;
  for (std::size_t k = 0; k < choice.guest_cores.size(); ++k) {
    const unsigned wanted = *resolved_.request.guests[k].vcpus;
    std::vector<unsigned> cores = choice.guest_cores[k];
    // Socket, then NUMA node (a guest cell), then die (L3), then core: the
    // blocks QEMU numbers vCPUs in.
    auto order = [&](unsigned core) {
      auto numa = find_cpu(topo_, topo_.cores[core].cpus.first())->numa;
      return std::tuple{topo_.cores[core].package, numa ? static_cast<int>(*numa) : -1, l3_of(topo_, core), core};
    };
    std::sort(cores.begin(), cores.end(), [&](unsigned a, unsigned b) { return order(a) < order(b); });
    ThreadPlacement::Guest guest;
    const unsigned t = threads_of(topo_, cores.front());
    bool uniform = std::all_of(cores.begin(), cores.end(), [&](unsigned c) { return threads_of(topo_, c) == t; });
    guest.topology.threads = uniform && wanted % t == 0 ? t : 1;
    std::map<unsigned, unsigned> per_package;
    std::map<std::pair<unsigned, int>, unsigned> per_die;
    for (unsigned core : cores)
      for (unsigned cpu : topo_.cores[core].cpus) {
        if (guest.vcpus.size() == wanted) {
          idle.insert(cpu);
          continue;
        }
        guest.vcpus.push_back(cpu);
        guest_cpus.insert(cpu);
        ++per_package[topo_.cores[core].package];
        ++per_die[{topo_.cores[core].package, l3_of(topo_, core)}];
      }
    // Sockets and dies only where the guest splits evenly, so that the blocks
    // QEMU presents are the host's packages and L3s.
    auto even = [](const auto& counts) {
      unsigned first = counts.begin()->second;
      return std::all_of(counts.begin(), counts.end(), [&](const auto& kv) { return kv.second == first; });
    };
    const unsigned tpc = guest.topology.threads;
    unsigned sockets = 1, dies = 1;
    if (per_package.size() > 1 && even(per_package) && (wanted / per_package.size()) % tpc == 0 &&
        wanted % per_package.size() == 0)
      sockets = static_cast<unsigned>(per_package.size());
    if (per_die.size() > 1 && per_die.size() % sockets == 0 && even(per_die) && per_die.begin()->first.second >= 0 &&
        (per_die.begin()->second % tpc) == 0 && (sockets > 1 || per_package.size() == 1))
      dies = static_cast<unsigned>(per_die.size() / sockets);
    guest.topology.sockets = sockets;
    guest.topology.dies = dies;
    guest.topology.cores = wanted / (sockets * dies * tpc);
    layout.guests.push_back(std::move(guest));
  }

  layout.host = all_cpus(topo_) - guest_cpus - idle;
  // Isolated cores no guest took stay idle: the kernel keeps the host off them.
  // (Whole cores only: the host's cores stay whole, as helpers need them.)
  CpuSet isolated_cores;
  for (const Core& core : topo_.cores)
    if (resolved_.isolated.contains(core.cpus)) isolated_cores |= core.cpus;
  if (CpuSet outside = layout.host - isolated_cores; !outside.empty()) layout.host = std::move(outside);
  if (layout.host.empty()) {
    // The host still runs: on the guests' CPUs, and so do the helpers.
    layout.host = all_cpus(topo_);
    for (std::size_t k = 0; k < layout.guests.size(); ++k) {
      layout.guests[k].emulator = layout.host;
      layout.guests[k].iothreads.assign(resolved_.request.guests[k].iothreads, layout.host);
    }
    return layout;
  }
  place_helpers(layout);
  return layout;
}

// Each helper thread (the emulator once per guest NUMA cell, each I/O thread
// for one cell, round robin) goes to the host core where it costs least under
// the model: its sharing with every guest's vCPUs, its distance to the vCPUs
// it serves, and the helpers already on that core. Dedicated helpers take
// their core away from the host while the host keeps its reserve.
void Search::place_helpers(ThreadPlacement& layout) const {
  const Weights& w = model_.weights();
  // Host cores helpers may use: not excluded (--exclude keeps every thread of
  // the guests off them), unless that leaves none.
  std::vector<unsigned> host_cores, allowed_cores;
  for (const Core& core : topo_.cores)
    if (layout.host.contains(core.cpus)) {
      host_cores.push_back(core.index);
      if (!core.cpus.intersects(resolved_.no_helpers)) allowed_cores.push_back(core.index);
    }
  if (!allowed_cores.empty()) host_cores = std::move(allowed_cores);
  // Helpers run on cores that reach the L3 and the memory fabric while one is
  // free: an SoC tile's low-power E-cores (no L3: Core Ultra 5 225U CPUs 12-13)
  // share nothing with the vCPUs, which the cost would reward, but they are
  // the slowest cores and the farthest from the guest's memory
  // (docs/optimizer-notes.md, "What the host keeps").
  if (!caches_at_level(topo_, 3).empty()) {
    std::vector<unsigned> on_l3;
    for (unsigned core : host_cores)
      if (find_cpu(topo_, topo_.cores[core].cpus.first())->l3) on_l3.push_back(core);
    if (!on_l3.empty()) host_cores = std::move(on_l3);
  }
  if (host_cores.empty())  // the host has no whole core: any core it has a CPU of
    for (const Core& core : topo_.cores)
      if (layout.host.intersects(core.cpus)) host_cores.push_back(core.index);
  const std::vector<double> vcpu_sharing = model_.vcpu_sharing(layout);  // per CPU, with every vCPU
  std::vector<unsigned> load(topo_.cores.size(), 0);       // helper threads per core
  std::vector<std::optional<std::size_t>> dedicated_to(topo_.cores.size());  // guest that took the core

  // The model's cost of a helper thread pinned to the core, plus stacking on
  // the helpers already there (one pair per helper: evaluate()'s helper_stacking).
  auto cost_on = [&](unsigned core, const std::vector<std::size_t>& served) {
    std::vector<std::size_t> at;
    for (unsigned cpu : topo_.cores[core].cpus) at.push_back(model_.position(cpu));
    return model_.helper_cost(at, vcpu_sharing, served).total() + w.stack_helpers * load[core];
  };
  // Where a helper may go is one rule: on the node of the vCPUs it serves
  // (their memory and devices are there) when that node has room for it, a
  // host core sharing no core and no L2 with the guest; else in their package
  // when it has room; anywhere when it has none. The per-vCPU distance weight
  // alone would let a small cell's helper leave its node to avoid the L3 its
  // node shares with the rest of the guest
  // (docs/optimizer-notes.md, "Emulator and I/O threads belong on the guest's
  // NUMA node"). Within that, the cost chooses.
  auto best_of = [&](const std::vector<unsigned>& candidates, const std::vector<std::size_t>& served,
                     std::optional<unsigned> node, const std::set<unsigned>& guest_l2s) {
    auto on_node = [&](unsigned core) { return node && find_cpu(topo_, topo_.cores[core].cpus.first())->numa == node; };
    auto near_guest = [&](unsigned core) {  // a host core is never the guest's: only an L2 can be shared
      for (unsigned os : topo_.cores[core].cpus)
        if (auto l2 = find_cpu(topo_, os)->l2; l2 && guest_l2s.count(*l2)) return true;
      return false;
    };
    const bool node_has_room = std::any_of(candidates.begin(), candidates.end(),
                                           [&](unsigned core) { return on_node(core) && !near_guest(core); });
    // Without room on the node, the vCPUs' package comes before the other
    // packages (the same memory fabric and I/O die; distances may not say so).
    const unsigned package = served.empty() ? 0 : topo_.cpus[served.front()].package;
    auto on_package = [&](unsigned core) { return topo_.cores[core].package == package; };
    const bool package_has_room =
        !node_has_room && !served.empty() && std::any_of(candidates.begin(), candidates.end(), [&](unsigned core) {
          return on_package(core) && !near_guest(core);
        });
    // Among cores of equal cost, CPU 0's comes last: the kernel keeps its
    // timekeeping and unmovable work there (docs/optimizer-notes.md, "CPU 0").
    auto boot_core = [&](unsigned core) { return topo_.cores[core].cpus.contains(0u); };
    std::optional<unsigned> best;
    double best_cost = std::numeric_limits<double>::infinity();
    for (unsigned core : candidates) {
      if (node_has_room && !on_node(core)) continue;
      if (package_has_room && !on_package(core)) continue;
      double c = cost_on(core, served);
      const bool tie_off_boot = best && boot_core(*best) && !boot_core(core) && c <= best_cost + kEpsilon;
      if (c < best_cost - kEpsilon || tie_off_boot) best_cost = std::min(best_cost, c), best = core;
    }
    return best.value_or(candidates.front());
  };

  // Dedicated guests first: the cores they take are then no one else's.
  std::vector<std::size_t> order(layout.guests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(), [&](std::size_t k) {
    return resolved_.request.guests[k].helpers == HelperPlacement::Dedicated;
  });
  for (std::size_t k : order) {
    ThreadPlacement::Guest& guest = layout.guests[k];
    const GuestRequest& request = resolved_.request.guests[k];
    struct Cell {
      std::optional<unsigned> node;
      std::vector<std::size_t> served;  // matrix positions of its vCPUs
    };
    std::vector<Cell> cells;
    for (const NodeSpan& span : node_spans(topo_, guest.vcpus)) {
      cells.push_back({span.node, {}});
      for (unsigned i : span.vcpu_indices) cells.back().served.push_back(model_.position(guest.vcpus[i]));
    }
    std::set<unsigned> guest_l2s;
    for (unsigned os : guest.vcpus)
      if (auto l2 = find_cpu(topo_, os)->l2) guest_l2s.insert(*l2);
    std::vector<unsigned> own;  // cores dedicated to this guest
    auto place = [&](const Cell& cell) {
      std::vector<unsigned> shared;
      for (unsigned core : host_cores)
        if (!dedicated_to[core]) shared.push_back(core);
      unsigned core;
      if (request.helpers == HelperPlacement::Dedicated && shared.size() > std::max(1u, resolved_.reserve_cores)) {
        core = best_of(shared, cell.served, cell.node, guest_l2s);
        dedicated_to[core] = k;
        layout.host -= topo_.cores[core].cpus;
        own.push_back(core);
      } else {
        core = best_of(request.helpers == HelperPlacement::Dedicated && !own.empty() ? own : shared, cell.served,
                       cell.node, guest_l2s);
      }
      ++load[core];
      return topo_.cores[core].cpus;
    };
    guest.emulator = CpuSet{};
    for (const auto& cell : cells) guest.emulator |= place(cell);
    guest.iothreads.clear();
    for (unsigned i = 0; i < request.iothreads; ++i) guest.iothreads.push_back(place(cells[i % cells.size()]));
  }
}

std::optional<CoreChoice> Search::exact(std::size_t max_candidates) const {
  const auto& guests = resolved_.request.guests;
  std::vector<std::size_t> used(classes_.size(), 0);  // cores of each class taken by earlier guests
  CoreChoice current;
  current.guest_cores.resize(guests.size());
  std::size_t candidates = 0;
  bool counting = true, overflow = false;
  std::optional<CoreChoice> best;
  double best_cost = std::numeric_limits<double>::infinity();
  std::vector<std::vector<unsigned>> free_after(guests.size());
  std::vector<unsigned> class_threads;
  for (const auto& cls : classes_) class_threads.push_back(threads_of(topo_, cls.front()));
  // Enumeration also costs where few leaves result: bound the nodes visited too.
  std::size_t nodes = 0;
  const std::size_t max_nodes = 4 * max_candidates;
  // Branch and bound on the scoring pass: a guest's vCPUs pay at least the
  // placement costs of the cheapest CPUs it holds (every other term is >= 0,
  // as lower_bound() says), so a branch whose bound cannot beat the best cost
  // found is skipped. It only skips candidates that could not have replaced the
  // best, so the result is the same as scoring every one.
  std::vector<double> cheapest_rest(guests.size() + 1, 0.0);  // bound of guests k.. on any usable CPU
  for (std::size_t k = guests.size(); k-- > 0;) cheapest_rest[k] = cheapest_rest[k + 1] + guest_bound(k, usable_cores_);
  std::vector<double> bound_upto(guests.size() + 1, 0.0);  // bound of guests ..k-1 on their chosen cores

  // Enumerates, per guest and class, how many of the class's free cores the guest takes.
  auto recurse = [&](auto& self, std::size_t k, std::size_t j, unsigned threads, unsigned fewest) -> void {
    if (overflow) return;
    if (counting && ++nodes > max_nodes) { overflow = true; return; }
    if (k == guests.size()) {
      std::size_t taken = 0;
      for (const auto& cores : current.guest_cores) taken += cores.size();
      if (topo_.cores.size() - taken < resolved_.reserve_cores) return;
      if (++candidates > max_candidates) { overflow = true; return; }
      if (counting) return;
      double cost = this->cost(current);
      if (cost < best_cost - kEpsilon) { best_cost = cost; best = current; }
      return;
    }
    const unsigned wanted = *guests[k].vcpus;
    if (j == classes_.size()) {
      if (threads < wanted || threads - fewest >= wanted) return;
      if (!counting) {
        bound_upto[k + 1] = bound_upto[k] + guest_bound(k, current.guest_cores[k]);
        if (bound_upto[k + 1] + cheapest_rest[k + 1] >= best_cost - kEpsilon) return;
      }
      self(self, k + 1, 0, 0, std::numeric_limits<unsigned>::max());
      return;
    }
    // Free threads in classes j.. for this guest (earlier guests' picks are fixed
    // while this guest is enumerated): not enough left means no leaf below.
    if (j == 0) {
      auto& suffix = free_after[k];
      suffix.assign(classes_.size() + 1, 0);
      for (std::size_t r = classes_.size(); r-- > 0;)
        suffix[r] = suffix[r + 1] + static_cast<unsigned>(classes_[r].size() - used[r]) * class_threads[r];
    }
    if (threads + free_after[k][j] < wanted) return;
    const auto& cls = classes_[j];
    const unsigned t = threads_of(topo_, cls.front());
    std::size_t free = cls.size() - used[j];
    auto& mine = current.guest_cores[k];
    // Most cores of this class that keep the guest minimal; trying the most first
    // makes ties go to the lowest-numbered cores, as a person would pick them.
    std::size_t most = 0;
    while (most < free) {
      unsigned next = threads + static_cast<unsigned>(most + 1) * t;
      if (next - std::min(fewest, t) >= wanted) break;
      ++most;
    }
    for (std::size_t take = most + 1; take-- > 0;) {
      unsigned now = threads + static_cast<unsigned>(take) * t;
      unsigned now_fewest = take ? std::min(fewest, t) : fewest;
      for (std::size_t i = 0; i < take; ++i) mine.push_back(cls[used[j] + i]);
      used[j] += take;
      self(self, k, j + 1, now, now_fewest);
      used[j] -= take;
      mine.resize(mine.size() - take);
    }
  };
  recurse(recurse, 0, 0, 0, std::numeric_limits<unsigned>::max());
  if (overflow) return std::nullopt;
  counting = false;
  candidates = 0;
  recurse(recurse, 0, 0, 0, std::numeric_limits<unsigned>::max());
  return best;
}

double Search::guest_bound(std::size_t k, const std::vector<unsigned>& cores) const {
  std::vector<double> costs;
  for (unsigned core : cores)
    for (unsigned cpu : topo_.cores[core].cpus) costs.push_back(model_.placement_cost(k, model_.position(cpu)));
  const std::size_t vcpus = std::min<std::size_t>(*resolved_.request.guests[k].vcpus, costs.size());
  std::partial_sort(costs.begin(), costs.begin() + static_cast<std::ptrdiff_t>(vcpus), costs.end());
  return std::accumulate(costs.begin(), costs.begin() + static_cast<std::ptrdiff_t>(vcpus), 0.0);
}

double Search::lower_bound() const {
  double bound = 0;
  for (std::size_t k = 0; k < resolved_.request.guests.size(); ++k) bound += guest_bound(k, usable_cores_);
  return bound;
}

// ---- Heuristic -------------------------------------------------------------

CoreOwnership::CoreOwnership(const Topology& topo, const CostModel& model, std::size_t guests)
    : model_(model), n_(model.cpu_count()) {
  owner_.assign(topo.cores.size(), kHost);
  pos_.resize(topo.cores.size());
  for (const Core& core : topo.cores)
    for (unsigned cpu : core.cpus) pos_[core.index].push_back(model.position(cpu));
  host_ = model.sharing_row_sums();  // every CPU starts with the host
  guest_.assign(guests, std::vector<double>(n_, 0.0));
  every_guest_.assign(n_, 0.0);
  split_.assign(guests, std::vector<double>(n_, 0.0));
  threads_.assign(guests, 0);
  cores_of_.resize(guests);
  helper_share_.assign(n_, 0.0);
  helper_far_.assign(guests, std::vector<double>(n_, 0.0));
  holds_helper_.assign(topo.cores.size(), false);
  node_of_.assign(n_, -1);
  for (std::size_t i = 0; i < n_; ++i)
    if (auto numa = topo.cpus[i].numa)
      for (std::size_t x = 0; x < topo.numa_nodes.size(); ++x)
        if (topo.numa_nodes[x].os_index == *numa) node_of_[i] = static_cast<int>(x);
  on_node_.assign(guests, std::vector<double>(topo.numa_nodes.size(), 0.0));
  every_on_node_.assign(topo.numa_nodes.size(), 0.0);
}

double CoreOwnership::node_terms(std::size_t k, std::size_t i) const {
  if (node_of_[i] < 0) return 0.0;
  const auto node = static_cast<std::size_t>(node_of_[i]);
  return model_.weights().share_node * (every_on_node_[node] - on_node_[k][node]);
}

unsigned CoreOwnership::host_core_count() const {
  return static_cast<unsigned>(std::count_if(owner_.begin(), owner_.end(), [](int o) { return o < 0; }));
}

void CoreOwnership::hold_helpers(const std::vector<HeldHelper>& helpers, const std::vector<unsigned>& dedicated) {
  for (unsigned core = 0; core < owner_.size(); ++core)
    if (owner_[core] == kHelper) move(core, kHelper, kHost);
  for (unsigned core : dedicated) move(core, kHost, kHelper);
  std::fill(helper_share_.begin(), helper_share_.end(), 0.0);
  for (auto& far : helper_far_) std::fill(far.begin(), far.end(), 0.0);
  std::fill(holds_helper_.begin(), holds_helper_.end(), false);
  std::vector<unsigned> core_at(n_);
  for (unsigned core = 0; core < pos_.size(); ++core)
    for (auto i : pos_[core]) core_at[i] = core;
  for (const HeldHelper& helper : helpers) {
    const std::vector<CostModel::HelperCost> by_vcpu = model_.helper_cost_by_vcpu(helper.at);
    for (std::size_t i = 0; i < n_; ++i) {
      helper_share_[i] += by_vcpu[i].sharing;
      helper_far_[helper.guest][i] += by_vcpu[i].off_node;
    }
    for (auto x : helper.at) holds_helper_[core_at[x]] = true;
  }
}

double CoreOwnership::inner_share(unsigned core) const {
  double s = 0;
  for (auto i : pos_[core]) for (auto j : pos_[core]) s += model_.sharing(i, j);
  return s;
}

double CoreOwnership::inner_split(unsigned core) const {
  double s = 0;
  for (auto i : pos_[core]) for (auto j : pos_[core]) s += model_.split_cost(i, j);
  return s;
}

double CoreOwnership::cross(unsigned a, unsigned b, bool split) const {
  double s = 0;
  for (auto i : pos_[a]) for (auto j : pos_[b]) s += split ? model_.split_cost(i, j) : model_.sharing(i, j);
  return s;
}

// A host core that joins guest k: its sharing with the host is new, its
// sharing with k's vCPUs leaves the host-guest term, its sharing with other
// guests' moves from host-guest to guest-guest (guest_neighbour_factor times
// as dear), its split and placement costs within k are new, and so are the
// held helpers' costs for a vCPU there.
double CoreOwnership::delta_add(std::size_t k, unsigned core) const {
  const double neighbour = model_.weights().guest_neighbour_factor - 1.0;
  double d = 0;
  for (auto i : pos_[core])
    d += host_[i] - guest_[k][i] + neighbour * (every_guest_[i] - guest_[k][i]) + split_[k][i] +
         model_.placement_cost(k, i) + helper_terms(k, i) + node_terms(k, i);
  return d - inner_share(core) + 0.5 * inner_split(core);
}

double CoreOwnership::delta_remove(std::size_t k, unsigned core) const {
  const double neighbour = model_.weights().guest_neighbour_factor - 1.0;
  double d = 0;
  for (auto i : pos_[core])
    d += -host_[i] + guest_[k][i] - neighbour * (every_guest_[i] - guest_[k][i]) - split_[k][i] -
         model_.placement_cost(k, i) - helper_terms(k, i) - node_terms(k, i);
  return d - inner_share(core) + 0.5 * inner_split(core);
}

void CoreOwnership::move(unsigned core, int from, int to) {
  // A kHelper core counts in no sum: its CPUs run only the helpers.
  for (auto i : pos_[core]) {
    for (std::size_t x = 0; x < n_; ++x) {
      double s = model_.sharing(x, i), t = model_.split_cost(x, i);
      if (from == kHost) host_[x] -= s;
      else if (from >= 0) { guest_[from][x] -= s; every_guest_[x] -= s; split_[from][x] -= t; }
      if (to == kHost) host_[x] += s;
      else if (to >= 0) { guest_[to][x] += s; every_guest_[x] += s; split_[to][x] += t; }
    }
  }
  for (auto i : pos_[core])
    if (node_of_[i] >= 0) {
      const auto node = static_cast<std::size_t>(node_of_[i]);
      if (from >= 0) on_node_[static_cast<std::size_t>(from)][node] -= 1.0, every_on_node_[node] -= 1.0;
      if (to >= 0) on_node_[static_cast<std::size_t>(to)][node] += 1.0, every_on_node_[node] += 1.0;
    }
  owner_[core] = to;
  unsigned t = static_cast<unsigned>(pos_[core].size());
  if (from >= 0) {
    threads_[from] -= t;
    auto& v = cores_of_[from];
    v.erase(std::find(v.begin(), v.end(), core));
  }
  if (to >= 0) {
    threads_[to] += t;
    cores_of_[to].push_back(core);
  }
}

namespace {

class LocalSearch {
 public:
  LocalSearch(const Search& search, const Topology& topo, const CostModel& model, const ResolvedRequest& resolved,
              const std::vector<std::vector<unsigned>>& classes)
      : search_(search), topo_(topo), model_(model), resolved_(resolved), classes_(classes),
        own_(topo, model, resolved.request.guests.size()) {
    class_of_.assign(topo.cores.size(), -1);
    for (std::size_t c = 0; c < classes.size(); ++c)
      for (unsigned core : classes[c]) class_of_[core] = static_cast<int>(c);
  }

  CoreChoice run() {
    std::vector<std::size_t> order(resolved_.request.guests.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return *resolved_.request.guests[a].vcpus > *resolved_.request.guests[b].vcpus;
    });
    for (std::size_t k : order) construct(k);
    improve();
    // The helpers' terms: place the helpers for these cores, hold them there
    // so that the swaps weigh them, and again while a pass lowers the cost.
    CoreChoice best = current();
    double best_cost = search_.cost(best);
    for (int pass = 0; pass < kHelperPasses; ++pass) {
      if (!hold_helpers(search_.materialize(best)) || !improve()) break;
      CoreChoice next = current();
      const double cost = search_.cost(next);
      if (cost >= best_cost - kEpsilon) break;
      best = std::move(next);
      best_cost = cost;
    }
    return best;
  }

 private:
  static constexpr int kHost = CoreOwnership::kHost;
  // Passes of helper placement and swaps: the second rarely moves a core.
  static constexpr int kHelperPasses = 3;

  CoreChoice current() const {
    CoreChoice choice;
    for (std::size_t k = 0; k < resolved_.request.guests.size(); ++k) {
      std::vector<unsigned> sorted = own_.cores_of(k);
      std::sort(sorted.begin(), sorted.end());
      choice.guest_cores.push_back(sorted);
    }
    return choice;
  }

  // Holds the layout's helpers in the ownership sums; false where they run
  // on guests' cores (a host with no core of its own), which no move changes.
  bool hold_helpers(const ThreadPlacement& layout) {
    std::vector<CoreOwnership::HeldHelper> helpers;
    std::set<unsigned> cores;
    for (std::size_t k = 0; k < layout.guests.size(); ++k) {
      const ThreadPlacement::Guest& guest = layout.guests[k];
      std::vector<const CpuSet*> threads = {&guest.emulator};
      for (const CpuSet& io : guest.iothreads) threads.push_back(&io);
      for (const CpuSet* thread : threads) {
        if (thread->empty()) continue;
        CoreOwnership::HeldHelper helper{k, {}};
        for (unsigned cpu : *thread) {
          const unsigned core = find_cpu(topo_, cpu)->core;
          if (own_.owner(core) >= 0) return false;
          helper.at.push_back(model_.position(cpu));
          cores.insert(core);
        }
        helpers.push_back(std::move(helper));
      }
    }
    std::vector<unsigned> dedicated;  // helper cores materialize took from the host
    for (unsigned core : cores)
      if (!layout.host.contains(topo_.cores[core].cpus)) dedicated.push_back(core);
    own_.hold_helpers(helpers, dedicated);
    return true;
  }

  unsigned wanted(std::size_t k) const { return *resolved_.request.guests[k].vcpus; }
  unsigned reserve_needed() const { return resolved_.reserve_cores; }

  // Threads still minimal and sufficient after swapping `out` for `in`.
  bool swap_keeps_size(std::size_t k, unsigned out, unsigned in) const {
    unsigned total = own_.threads(k) - own_.core_threads(out) + own_.core_threads(in);
    unsigned fewest = own_.core_threads(in);
    for (unsigned c : own_.cores_of(k)) if (c != out) fewest = std::min(fewest, own_.core_threads(c));
    return total >= wanted(k) && total - fewest < wanted(k);
  }

  // First free core of each class: candidates that stand for their class.
  std::vector<unsigned> free_representatives() const {
    std::vector<unsigned> reps;
    for (const auto& cls : classes_)
      for (unsigned core : cls)
        if (own_.owner(core) == kHost && !own_.holds_helper(core)) { reps.push_back(core); break; }
    return reps;
  }

  // Greedy by marginal cost, from every possible first core (one per class):
  // a single greedy run fills the L3 of its first pick, which may be the one
  // a slightly dearer core (CPU 0's) sits in while another L3 is free.
  void construct(std::size_t k) {
    if (own_.threads(k) >= wanted(k)) return;
    double best = std::numeric_limits<double>::infinity();
    std::optional<unsigned> best_seed;
    for (unsigned seed : free_representatives()) {
      if (own_.host_core_count() <= reserve_needed()) break;
      double total = partial_delta(k, seed);
      own_.move(seed, kHost, static_cast<int>(k));
      std::vector<unsigned> picked = {seed};
      total += fill(k, picked);
      if (own_.threads(k) >= wanted(k) && total < best - kEpsilon) {
        best = total;
        best_seed = seed;
      }
      for (auto it = picked.rbegin(); it != picked.rend(); ++it) own_.move(*it, static_cast<int>(k), kHost);
    }
    if (!best_seed) return;  // infeasible; the caller checked sizes
    own_.move(*best_seed, kHost, static_cast<int>(k));
    std::vector<unsigned> picked;
    fill(k, picked);
  }

  // The cost of adding `core` to guest k, for a core the guest needs only
  // some threads of (an odd count's last core) in proportion: the deltas
  // count every thread of the core as the guest's, while the layout leaves
  // the spare sibling idle, so a 2-thread core would look twice as dear as it
  // is next to a 1-thread core (Core Ultra 5 225U, 1 vCPU: a P-core thread,
  // not an LP E-core).
  double partial_delta(std::size_t k, unsigned core) const {
    const unsigned threads = own_.core_threads(core);
    const unsigned need = wanted(k) > own_.threads(k) ? wanted(k) - own_.threads(k) : 0;
    const double d = own_.delta_add(k, core);
    return need > 0 && need < threads ? d * need / threads : d;
  }

  // Adds the cheapest core until guest k has its threads; returns the cost added.
  double fill(std::size_t k, std::vector<unsigned>& picked) {
    double added = 0;
    while (own_.threads(k) < wanted(k)) {
      if (own_.host_core_count() <= reserve_needed()) break;
      double best = std::numeric_limits<double>::infinity();
      unsigned pick = 0;
      bool found = false;
      for (unsigned core : free_representatives()) {
        double d = partial_delta(k, core);
        if (d < best - kEpsilon) { best = d; pick = core; found = true; }
      }
      if (!found) break;
      own_.move(pick, kHost, static_cast<int>(k));
      picked.push_back(pick);
      added += best;
    }
    return added;
  }

  // Swaps while one lowers the cost; true when it moved a core.
  bool improve() {
    const std::size_t guests = resolved_.request.guests.size();
    bool moved = false;
    for (int round = 0; round < 10000; ++round) {
      double best = -kEpsilon;
      std::function<void()> apply;
      auto reps = free_representatives();
      for (std::size_t k = 0; k < guests; ++k) {
        for (unsigned out : representatives_of(k)) {
          double removal = own_.delta_remove(k, out);
          for (unsigned in : reps) {
            if (!swap_keeps_size(k, out, in)) continue;
            double d = removal + own_.delta_add(k, in) + 2 * own_.cross(out, in, false) - own_.cross(out, in, true);
            if (d < best) {
              best = d;
              apply = [this, k, out, in] {
                own_.move(out, static_cast<int>(k), kHost);
                own_.move(in, kHost, static_cast<int>(k));
              };
            }
          }
        }
      }
      // Exchanges between two guests: tried by moving and moving back.
      for (std::size_t k = 0; k < guests; ++k)
        for (std::size_t l = k + 1; l < guests; ++l)
          for (unsigned a : representatives_of(k))
            for (unsigned b : representatives_of(l)) {
              if (own_.core_threads(a) != own_.core_threads(b)) continue;
              if (same_class(a, b)) continue;
              double d = own_.delta_remove(k, a);
              own_.move(a, static_cast<int>(k), kHost);
              d += own_.delta_remove(l, b);
              own_.move(b, static_cast<int>(l), kHost);
              d += own_.delta_add(k, b);
              own_.move(b, kHost, static_cast<int>(k));
              d += own_.delta_add(l, a);
              own_.move(b, static_cast<int>(k), kHost);
              own_.move(b, kHost, static_cast<int>(l));
              own_.move(a, kHost, static_cast<int>(k));
              if (d < best) {
                best = d;
                apply = [this, k, l, a, b] {
                  own_.move(a, static_cast<int>(k), kHost);
                  own_.move(b, static_cast<int>(l), kHost);
                  own_.move(b, kHost, static_cast<int>(k));
                  own_.move(a, kHost, static_cast<int>(l));
                };
              }
            }
      if (!apply) return moved;
      apply();
      moved = true;
    }
    return moved;
  }

  bool same_class(unsigned a, unsigned b) const { return class_of_[a] == class_of_[b]; }

  // One core of guest k per class: the others of its class are interchangeable with it.
  std::vector<unsigned> representatives_of(std::size_t k) const {
    std::vector<unsigned> reps;
    std::set<int> seen;
    for (unsigned core : own_.cores_of(k))
      if (seen.insert(class_of_[core]).second) reps.push_back(core);
    return reps;
  }

  const Search& search_;
  const Topology& topo_;
  const CostModel& model_;
  const ResolvedRequest& resolved_;
  const std::vector<std::vector<unsigned>>& classes_;
  CoreOwnership own_;
  std::vector<int> class_of_;
};

}  // namespace

CoreChoice Search::heuristic() const {
  CoreChoice choice = LocalSearch(*this, topo_, model_, resolved_, classes_).run();
  for (std::size_t k = 0; k < choice.guest_cores.size(); ++k) balance_nodes(choice, k);
  if (const double found = cost(choice); found > lower_bound() + kEpsilon) {  // at the bound nothing is better
    swap_blocks(choice, found);
    polish(choice);
  }
  return choice;
}

namespace {

// A block of cores (a package, NUMA node or L3 group) and its shape: per core
// in index order, its threads, kind and which of the block's L3s and L2s it
// is in. Two blocks of one shape can exchange contents core for core.
struct Block {
  std::vector<unsigned> cores;
  std::vector<std::tuple<unsigned, unsigned, int, int>> shape;
};

std::vector<Block> blocks_of(const Topology& topo, const std::map<int, std::vector<unsigned>>& groups) {
  std::vector<Block> blocks;
  for (const auto& [key, cores] : groups) {
    Block b;
    b.cores = cores;
    std::map<int, int> l3s, l2s;  // cache index -> ordinal within the block
    for (unsigned core : cores) {
      const LogicalCpu* cpu = find_cpu(topo, topo.cores[core].cpus.first());
      const int l3 = cpu->l3 ? l3s.try_emplace(static_cast<int>(*cpu->l3), static_cast<int>(l3s.size())).first->second : -1;
      const int l2 = cpu->l2 ? l2s.try_emplace(static_cast<int>(*cpu->l2), static_cast<int>(l2s.size())).first->second : -1;
      b.shape.emplace_back(topo.cores[core].cpus.size(), topo.cores[core].kind, l3, l2);
    }
    blocks.push_back(std::move(b));
  }
  return blocks;
}

}  // namespace

void Search::swap_blocks(CoreChoice& choice, double best) const {
  if (choice.guest_cores.empty()) return;
  // Each core's containers, coarse to fine; a block's parent is the levels above it.
  auto containers = [&](unsigned core) {
    const LogicalCpu* cpu = find_cpu(topo_, topo_.cores[core].cpus.first());
    return std::array<int, 4>{static_cast<int>(cpu->package), cpu->numa ? static_cast<int>(*cpu->numa) : -1,
                              cpu->l3 ? static_cast<int>(*cpu->l3) : -1, cpu->l2 ? static_cast<int>(*cpu->l2) : -1};
  };
  std::array<std::map<int, std::vector<unsigned>>, 4> groups;  // package, NUMA node, L3, L2 cluster
  for (const Core& core : topo_.cores) {
    const auto c = containers(core.index);
    for (std::size_t level = 0; level < groups.size(); ++level)
      if (c[level] >= 0) groups[level][c[level]].push_back(core.index);
  }
  // L3 groups only where they are few: each try is a full evaluation, and the
  // 2x EPYC 9654's 24 CCDs would cost more than the plan (its guests spread
  // in the construction, whose deltas carry share_node).
  constexpr std::size_t kMaxL3Blocks = 16;
  if (groups[2].size() > kMaxL3Blocks) groups[2].clear();
  std::vector<std::vector<Block>> levels;
  std::set<std::vector<unsigned>> seen;  // a node that is its package is tried once
  for (std::size_t level = 0; level < groups.size(); ++level) {
    std::vector<Block> blocks = blocks_of(topo_, groups[level]);
    std::erase_if(blocks, [&](const Block& b) { return b.cores.size() < 2 || !seen.insert(b.cores).second; });
    levels.push_back(std::move(blocks));
  }

  // Who owns each core and which nodes hold guests: they change only when a swap is kept.
  std::vector<int> owner(topo_.cores.size(), -1);
  std::set<int> guest_nodes;
  auto set_owners = [&] {
    std::fill(owner.begin(), owner.end(), -1);
    guest_nodes.clear();
    for (std::size_t k = 0; k < choice.guest_cores.size(); ++k)
      for (unsigned core : choice.guest_cores[k]) {
        owner[core] = static_cast<int>(k);
        guest_nodes.insert(containers(core)[1]);
      }
  };
  set_owners();
  // Blocks that differ only by their number are one try: what a swap changes
  // is who owns them, the containers above them, whether they hold CPU 0 and
  // their distance to the guests' nodes (24 identical host-only nodes are one
  // try, not 23; KNL's 31 guest tiles one, not 31).
  auto distance = [&](int from, int to) {
    if (from < 0 || to < 0) return from == to ? 0.0 : 1.0;
    auto at = [&](int node) {
      return static_cast<std::size_t>(
          std::find_if(topo_.numa_nodes.begin(), topo_.numa_nodes.end(),
                       [&](const NumaNode& n) { return static_cast<int>(n.os_index) == node; }) -
          topo_.numa_nodes.begin());
    };
    const std::size_t i = at(from), j = at(to);
    if (topo_.numa_distances.empty() || i >= topo_.numa_distances.size() || j >= topo_.numa_distances.size())
      return from == to ? 0.0 : 1.0;
    return topo_.numa_distances[i][j];
  };
  using Signature = std::tuple<std::vector<int>, std::vector<int>, bool, std::vector<double>>;
  auto signature = [&](const Block& block, std::size_t level) {
    std::vector<int> owners, parent;
    for (unsigned core : block.cores) owners.push_back(owner[core]);
    const auto c = containers(block.cores.front());
    parent.assign(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(level));
    std::vector<double> distances;
    for (int node : guest_nodes) distances.push_back(distance(c[1], node));
    const bool has_cpu0 = std::any_of(block.cores.begin(), block.cores.end(),
                                      [&](unsigned core) { return topo_.cores[core].cpus.contains(0u); });
    return Signature{owners, parent, has_cpu0, distances};
  };

  for (int sweep = 0; sweep < 3; ++sweep) {
    bool improved = false;
    for (std::size_t level = 0; level < levels.size(); ++level) {
      const std::vector<Block>& blocks = levels[level];
      std::set<std::pair<Signature, Signature>> tried;
      for (std::size_t a = 0; a < blocks.size(); ++a)
        for (std::size_t b = 0; b < blocks.size(); ++b) {
          const Block& x = blocks[a];
          const Block& y = blocks[b];
          if (a == b || x.shape != y.shape) continue;
          bool x_host = true, differ = false;
          for (std::size_t i = 0; i < x.cores.size(); ++i) {
            differ |= owner[x.cores[i]] != owner[y.cores[i]];
            x_host &= owner[x.cores[i]] < 0;
          }
          if (!differ || x_host) continue;  // from the side with guests
          Signature sx = signature(x, level), sy = signature(y, level);
          if (!tried.emplace(sx, sy).second || tried.count({sy, sx})) continue;
          std::map<unsigned, unsigned> image;
          for (std::size_t i = 0; i < x.cores.size(); ++i) image[x.cores[i]] = y.cores[i], image[y.cores[i]] = x.cores[i];
          CoreChoice alternative = choice;
          for (std::vector<unsigned>& cores : alternative.guest_cores) {
            for (unsigned& core : cores)
              if (auto it = image.find(core); it != image.end()) core = it->second;
            std::sort(cores.begin(), cores.end());
          }
          if (!feasible(alternative)) continue;
          const double c = cost(alternative);
          if (c < best - kEpsilon) {
            choice = std::move(alternative);
            best = c;
            improved = true;
            set_owners();
            tried.clear();  // the owners changed
          }
        }
    }
    if (!improved) break;
  }
}

void Search::polish(CoreChoice& choice) const {
  // One core of each class a guest holds, swapped for one core of each
  // class free: scored whole, which the deltas are not (the presented
  // topology, the helpers' own placement).
  // Full evaluations per round, each about n^2 CPU pairs: ~4e6 pair
  // operations a round (a 28-CPU i7 affords 5000 tries, a 384-CPU EPYC none).
  const std::size_t n = topo_.cpus.size();
  const std::size_t max_tries = 4'000'000 / std::max<std::size_t>(1, n * n);
  std::vector<int> class_of(topo_.cores.size(), -1);
  for (std::size_t c = 0; c < classes_.size(); ++c)
    for (unsigned core : classes_[c]) class_of[core] = static_cast<int>(c);
  std::optional<double> best;  // computed once a round's tries fit the budget
  for (int round = 0; round < 4; ++round) {
    std::set<unsigned> taken;
    for (const auto& cores : choice.guest_cores) taken.insert(cores.begin(), cores.end());
    std::vector<unsigned> free_reps;
    for (const auto& cls : classes_)
      for (unsigned core : cls)
        if (!taken.count(core)) { free_reps.push_back(core); break; }
    std::vector<CoreChoice> tries;
    for (std::size_t k = 0; k < choice.guest_cores.size(); ++k) {
      std::set<int> seen;
      for (std::size_t i = 0; i < choice.guest_cores[k].size(); ++i) {
        const unsigned out = choice.guest_cores[k][i];
        if (!seen.insert(class_of[out]).second) continue;
        for (unsigned in : free_reps) {
          if (class_of[in] == class_of[out]) continue;
          CoreChoice alternative = choice;
          alternative.guest_cores[k][i] = in;
          std::sort(alternative.guest_cores[k].begin(), alternative.guest_cores[k].end());
          tries.push_back(std::move(alternative));
        }
      }
    }
    if (tries.size() > max_tries) return;  // a large host: the core swaps' deltas have to do
    if (!best) best = cost(choice);
    std::optional<CoreChoice> better;
    for (CoreChoice& alternative : tries) {
      if (!feasible(alternative)) continue;
      const double c = cost(alternative);
      if (c < *best - kEpsilon) best = c, better = std::move(alternative);
    }
    if (!better) return;
    choice = std::move(*better);
  }
}

// The local search moves one core at a time and scores pairs, so a guest too
// large for one node ends up filling the first (192 + 64 vCPUs on a 2x96-core
// host): its presented sockets then cannot match the host's. Try the same
// nodes with equal cores each, whole L3s first, and keep it if it costs less.
void Search::balance_nodes(CoreChoice& choice, std::size_t k) const {
  const std::vector<unsigned>& mine = choice.guest_cores[k];
  auto node_of = [&](unsigned core) { return find_cpu(topo_, topo_.cores[core].cpus.first())->numa; };
  std::map<unsigned, std::vector<unsigned>> by_node;
  for (unsigned core : mine) {
    auto node = node_of(core);
    if (!node) return;
    by_node[*node].push_back(core);
  }
  const unsigned t = threads_of(topo_, mine.front());
  const unsigned wanted = *resolved_.request.guests[k].vcpus;
  if (by_node.size() < 2 || wanted % (t * by_node.size()) != 0) return;
  if (std::any_of(mine.begin(), mine.end(), [&](unsigned c) { return threads_of(topo_, c) != t; })) return;
  const std::size_t target = wanted / t / by_node.size();

  std::set<unsigned> taken;  // cores of every guest
  for (const auto& cores : choice.guest_cores) taken.insert(cores.begin(), cores.end());
  std::map<int, unsigned> mine_in_l3;  // the guest's cores per L3
  for (unsigned core : mine) ++mine_in_l3[l3_of(topo_, core)];
  std::map<int, unsigned> free_in_l3;
  for (unsigned core : usable_cores_)
    if (!taken.count(core)) ++free_in_l3[l3_of(topo_, core)];

  std::vector<unsigned> balanced;
  for (auto& [node, cores] : by_node) {
    if (cores.size() >= target) {
      // Keep whole L3s, those the guest fills most first; CPU 0's L3 goes first.
      std::set<int> l3_of_cpu0;
      for (unsigned core : cores)
        if (topo_.cores[core].cpus.contains(0u)) l3_of_cpu0.insert(l3_of(topo_, core));
      auto keep_order = [&](unsigned c) {
        const int l3 = l3_of(topo_, c);
        return std::tuple{-static_cast<int>(mine_in_l3[l3]), l3_of_cpu0.count(l3) > 0, l3, c};
      };
      std::sort(cores.begin(), cores.end(), [&](unsigned a, unsigned b) { return keep_order(a) < keep_order(b); });
      balanced.insert(balanced.end(), cores.begin(), cores.begin() + static_cast<std::ptrdiff_t>(target));
      continue;
    }
    balanced.insert(balanced.end(), cores.begin(), cores.end());
    // Fill the L3s the guest already uses, then the emptiest free L3s, CPU 0's last.
    std::vector<unsigned> spare;
    for (unsigned core : usable_cores_)
      if (!taken.count(core) && node_of(core) == node && threads_of(topo_, core) == t) spare.push_back(core);
    const int cpu0_l3 = topo_.cores.empty() || !find_cpu(topo_, 0) ? -2 : l3_of(topo_, find_cpu(topo_, 0)->core);
    std::sort(spare.begin(), spare.end(), [&](unsigned a, unsigned b) {
      int la = l3_of(topo_, a), lb = l3_of(topo_, b);
      return std::tuple{-static_cast<int>(mine_in_l3[la]), la == cpu0_l3, -static_cast<int>(free_in_l3[la]), la, a} <
             std::tuple{-static_cast<int>(mine_in_l3[lb]), lb == cpu0_l3, -static_cast<int>(free_in_l3[lb]), lb, b};
    });
    const std::size_t missing = target - cores.size();
    if (spare.size() < missing) return;
    balanced.insert(balanced.end(), spare.begin(), spare.begin() + static_cast<std::ptrdiff_t>(missing));
  }
  CoreChoice alternative = choice;
  std::sort(balanced.begin(), balanced.end());
  alternative.guest_cores[k] = balanced;
  if (feasible(alternative) && cost(alternative) < cost(choice) - kEpsilon) choice = std::move(alternative);
}

}  // namespace vpt
