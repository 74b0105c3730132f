#include "probe/topology.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "common/text.hpp"

namespace vpt {

std::string_view to_string(TopologySource source) {
  switch (source) {
    case TopologySource::LiveHost: return "live host";
    case TopologySource::HwlocXml: return "hwloc XML";
    case TopologySource::LscpuText: return "lscpu -e text";
  }
  return "?";
}

std::string_view to_string(PciDevice::Class device_class) {
  switch (device_class) {
    case PciDevice::Class::Gpu: return "GPU";
    case PciDevice::Class::Nvme: return "NVMe";
    case PciDevice::Class::Network: return "network";
    case PciDevice::Class::Storage: return "storage";
    case PciDevice::Class::Accelerator: return "accelerator";
    case PciDevice::Class::Other: return "other";
  }
  return "?";
}

const PciDevice* find_pci(const Topology& topo, std::string_view address) {
  std::string wanted = lowercase(address);
  if (std::count(wanted.begin(), wanted.end(), ':') == 1) wanted = "0000:" + wanted;
  for (const PciDevice& dev : topo.pci)
    if (dev.address == wanted) return &dev;
  return nullptr;
}

const LogicalCpu* find_cpu(const Topology& topo, unsigned os_index) {
  auto it = std::lower_bound(topo.cpus.begin(), topo.cpus.end(), os_index,
                             [](const LogicalCpu& c, unsigned os) { return c.os_index < os; });
  return it != topo.cpus.end() && it->os_index == os_index ? &*it : nullptr;
}

std::string machine_words(const Topology& topo) {
  if (topo.source == TopologySource::LiveHost) return "this host";
  if (topo.source_name == "-" || topo.source_name == "standard input" || topo.source_name.empty())
    return "the pasted machine";
  return fmt::format("the machine in '{}'", topo.source_name);
}

CpuSet all_cpus(const Topology& topo) {
  CpuSet set;
  for (const auto& cpu : topo.cpus) set.insert(cpu.os_index);
  return set;
}

CpuSet smt_siblings(const Topology& topo, unsigned os_index) {
  const LogicalCpu* cpu = find_cpu(topo, os_index);
  return cpu ? topo.cores[cpu->core].cpus : CpuSet{};
}

std::vector<const Cache*> caches_at_level(const Topology& topo, int level) {
  std::vector<const Cache*> out;
  for (const auto& cache : topo.caches)
    if (cache.level == level && cache.type != CacheType::Instruction) out.push_back(&cache);
  return out;
}

CpuSet cpus_sharing_cache(const Topology& topo, unsigned os_index, int level) {
  for (const Cache* cache : caches_at_level(topo, level))
    if (cache->cpus.contains(os_index)) return cache->cpus;
  return {};
}

std::vector<const Cache*> multi_core_caches(const Topology& topo, int level) {
  std::vector<const Cache*> out;
  for (const Cache* cache : caches_at_level(topo, level)) {
    const LogicalCpu* first = find_cpu(topo, cache->cpus.first());
    if (first && !topo.cores[first->core].cpus.contains(cache->cpus)) out.push_back(cache);
  }
  return out;
}

int deepest_cache_level(const Topology& topo) {
  int deepest = 0;
  for (const auto& cache : topo.caches) deepest = std::max(deepest, cache.level);
  return deepest;
}

unsigned threads_per_core_max(const Topology& topo) {
  unsigned most = 0;
  for (const auto& core : topo.cores) most = std::max(most, core.cpus.size());
  return most;
}

bool has_smt(const Topology& topo) { return threads_per_core_max(topo) > 1; }

bool is_amd(const Topology& topo) {
  return topo.cpu_vendor == "AuthenticAMD" || topo.cpu_vendor == "HygonGenuine" ||
         topo.cpu_model.starts_with("AMD");
}

std::optional<bool> has_cpu_flag(const Topology& topo, std::string_view flag) {
  if (topo.cpu_flags.empty()) return std::nullopt;
  return std::binary_search(topo.cpu_flags.begin(), topo.cpu_flags.end(), flag);
}

bool is_vcache_l3(const Topology& topo, const Cache& l3) {
  return l3.level == 3 && is_amd(topo) && l3.size_bytes && *l3.size_bytes >= kVCacheMinL3Bytes;
}

std::vector<const Cache*> vcache_l3s(const Topology& topo) {
  std::vector<const Cache*> out;
  for (const Cache* l3 : caches_at_level(topo, 3))
    if (is_vcache_l3(topo, *l3)) out.push_back(l3);
  return out;
}

bool l3_sizes_known(const Topology& topo) {
  const std::vector<const Cache*> l3s = caches_at_level(topo, 3);
  return !l3s.empty() && std::all_of(l3s.begin(), l3s.end(), [](const Cache* c) { return c->size_bytes.has_value(); });
}

std::string cores_of_kind(const Topology& topo, unsigned kind, unsigned count) {
  std::string name = kind < topo.kinds.size() ? topo.kinds[kind].name : "core";
  if (!name.ends_with("core")) name += " core";
  return count == 1 ? name : name + "s";
}

std::string count_of_cores(const Topology& topo, unsigned kind, unsigned count) {
  return fmt::format("{} {}", count, cores_of_kind(topo, kind, count));
}

namespace {

// Orders by first CPU (ties: the smaller set first), the order people read lscpu in.
template <typename T>
void sort_by_first_cpu(std::vector<T>& items) {
  std::stable_sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.cpus < b.cpus; });
}

void check(bool ok, std::string_view what) {
  if (!ok) throw std::runtime_error(std::string(what));
}

}  // namespace

void finish_topology(Topology& topo) {
  std::sort(topo.cpus.begin(), topo.cpus.end(),
            [](const LogicalCpu& a, const LogicalCpu& b) { return a.os_index < b.os_index; });
  for (std::size_t i = 1; i < topo.cpus.size(); ++i)
    check(topo.cpus[i].os_index != topo.cpus[i - 1].os_index,
          fmt::format("CPU {} is listed twice", topo.cpus[i].os_index));
  check(!topo.cpus.empty(), "no online CPU");
  check(topo.cpus.size() + topo.offline_cpus.size() <= kMaxCpus,
        fmt::format("{} CPUs: vpt-tune handles hosts of up to {} CPUs", topo.cpus.size() + topo.offline_cpus.size(),
                    kMaxCpus));
  const CpuSet online = all_cpus(topo);

  // Cores: machine-wide index in order of first CPU; every CPU in exactly one.
  sort_by_first_cpu(topo.cores);
  CpuSet seen;
  for (unsigned i = 0; i < topo.cores.size(); ++i) {
    Core& core = topo.cores[i];
    core.index = i;
    check(!core.cpus.empty(), "a core without CPUs");
    check(!core.cpus.intersects(seen), fmt::format("CPUs {} belong to two cores", core.cpus & seen));
    seen |= core.cpus;
    for (unsigned os : core.cpus) {
      auto* cpu = const_cast<LogicalCpu*>(find_cpu(topo, os));
      check(cpu != nullptr, fmt::format("core {} holds CPU {} which is not an online CPU", i, os));
      cpu->core = i;
      cpu->package = core.package;
    }
  }
  check(seen == online, fmt::format("CPUs {} belong to no core", online - seen));

  // Caches: sorted by (level, instruction or not, first CPU), indexed within
  // (level, instruction or not).
  std::stable_sort(topo.caches.begin(), topo.caches.end(), [](const Cache& a, const Cache& b) {
    const bool a_instruction = a.type == CacheType::Instruction, b_instruction = b.type == CacheType::Instruction;
    if (a.level != b.level) return a.level < b.level;
    if (a_instruction != b_instruction) return b_instruction;
    return a.cpus < b.cpus;
  });
  // A CPU's l1d/l2/l3 names the data or unified cache at that level, so
  // those two kinds share one numbering and one CPU is in at most one of
  // them (a hwloc export may call an L3 a data cache; found by
  // tests/fuzz/hwloc_xml_fuzz.cpp). Instruction caches count on their own.
  std::map<std::pair<int, bool>, unsigned> next_index;
  std::map<std::pair<int, bool>, CpuSet> covered;
  for (Cache& cache : topo.caches) {
    auto key = std::pair{cache.level, cache.type == CacheType::Instruction};
    cache.index = next_index[key]++;
    check(online.contains(cache.cpus),
          fmt::format("L{} cache holds CPUs {} that are not online CPUs", cache.level, cache.cpus - online));
    check(!cache.cpus.intersects(covered[key]),
          fmt::format("CPUs {} are in two L{} caches", cache.cpus & covered[key], cache.level));
    covered[key] |= cache.cpus;
    for (unsigned os : cache.cpus) {
      auto* cpu = const_cast<LogicalCpu*>(find_cpu(topo, os));
      if (cache.level == 1 && cache.type == CacheType::Instruction) cpu->l1i = cache.index;
      else if (cache.level == 1) cpu->l1d = cache.index;
      else if (cache.level == 2 && cache.type != CacheType::Instruction) cpu->l2 = cache.index;
      else if (cache.level == 3 && cache.type != CacheType::Instruction) cpu->l3 = cache.index;
    }
  }

  // Kinds: at least one, ordered by rank; a CPU no kind names gets the most performant one.
  if (topo.kinds.empty()) topo.kinds.push_back(CoreKind{0, "core", online, {}, {}, ""});
  CpuSet kinded;
  for (unsigned rank = 0; rank < topo.kinds.size(); ++rank) {
    CoreKind& kind = topo.kinds[rank];
    kind.rank = rank;
    kind.cpus &= online;
    kinded |= kind.cpus;
  }
  topo.kinds.back().cpus |= online - kinded;
  for (CoreKind& kind : topo.kinds)
    for (unsigned os : kind.cpus) const_cast<LogicalCpu*>(find_cpu(topo, os))->kind = kind.rank;
  for (Core& core : topo.cores) core.kind = find_cpu(topo, core.cpus.first())->kind;

  std::sort(topo.packages.begin(), topo.packages.end(),
            [](const Package& a, const Package& b) { return a.os_index < b.os_index; });
  if (topo.cpu_model.empty())
    for (const auto& pkg : topo.packages)
      if (!pkg.cpu_model.empty()) { topo.cpu_model = pkg.cpu_model; break; }

  for (const NumaNode& node : topo.numa_nodes) {
    std::set<unsigned> packages;
    for (unsigned os : node.cpus)
      if (auto* cpu = const_cast<LogicalCpu*>(find_cpu(topo, os))) {
        cpu->numa = node.os_index;
        packages.insert(cpu->package);
      }
    // Sockets are a locality boundary whatever the NUMA nodes say
    // (optimizer/cost_model.cpp counts a package crossing as a node hop).
    if (packages.size() < 2) continue;
    std::string warning = fmt::format(
        "NUMA node {} spans {} packages (the firmware's node interleaving, or a source that does not say whose "
        "memory is whose): vpt-tune still keeps each guest and its helper threads in one package where they fit",
        node.os_index, packages.size());
    // A model read back from its JSON document has it already.
    if (std::find(topo.warnings.begin(), topo.warnings.end(), warning) == topo.warnings.end())
      topo.warnings.push_back(std::move(warning));
  }
}

}  // namespace vpt
