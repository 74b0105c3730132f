#include "probe/topology_writers.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "probe/probe.hpp"

namespace vpt {

std::string format_bytes(std::optional<std::uint64_t> bytes) {
  if (!bytes) return "unknown size";
  const double b = static_cast<double>(*bytes);
  if (*bytes >= (1ull << 30)) return fmt::format("{:.3g} GiB", b / (1ull << 30));
  if (*bytes >= (1ull << 20)) return fmt::format("{:.3g} MiB", b / (1ull << 20));
  if (*bytes >= (1ull << 10)) return fmt::format("{:.3g} KiB", b / (1ull << 10));
  return fmt::format("{} B", *bytes);
}

namespace {

std::string cache_label(const Cache& cache) {
  std::string level = fmt::format("L{}", cache.level);
  if (cache.type == CacheType::Data) level += "d";
  if (cache.type == CacheType::Instruction) level += "i";
  return level;
}

}  // namespace

namespace {

// The data or unified cache at `level` holding `cpu`: the one its l2/l3 names.
const Cache* cache_of(const Topology& topo, unsigned cpu, int level) {
  for (const Cache& cache : topo.caches)
    if (cache.level == level && cache.type != CacheType::Instruction && cache.cpus.contains(cpu)) return &cache;
  return nullptr;
}

// "L1d 48 KiB · L2 2 MiB" for the private caches of one core.
std::string private_caches(const Topology& topo, const Core& core) {
  std::vector<std::string> parts;
  for (const Cache& cache : topo.caches) {
    if (!cache.cpus.contains(core.cpus.first()) || !core.cpus.contains(cache.cpus)) continue;
    if (cache.type == CacheType::Instruction) continue;
    parts.push_back(cache.size_bytes ? fmt::format("{} {}", cache_label(cache), format_bytes(cache.size_bytes))
                                     : cache_label(cache));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

void write_core(std::ostream& out, const Topology& topo, const Core& core, std::string_view indent) {
  fmt::print(out, "{}core {:<4} {:<12} CPU{} {:<9} {}\n", indent, core.index, topo.kinds[core.kind].name,
             core.cpus.size() > 1 ? "s" : " ", core.cpus.to_string(), private_caches(topo, core));
}

std::string group_list(const std::vector<CpuSet>& sets) {
  std::vector<std::string> parts;
  for (const CpuSet& s : sets) parts.push_back(s.to_string());
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, "  "));
}

}  // namespace

void write_topology_text(std::ostream& out, const Topology& topo) {
  fmt::print(out, "Host: {} (from {}: {})\n", topo.cpu_model.empty() ? "CPU model unknown" : topo.cpu_model,
             to_string(topo.source), topo.source_name);
  unsigned smt_cores = 0;
  for (const Core& core : topo.cores) smt_cores += core.cpus.size() > 1;
  fmt::print(out, "{} package{}, {} NUMA node{}, {} cores, {} CPUs{}, {} core kind{}\n", topo.packages.size(),
             topo.packages.size() == 1 ? "" : "s", topo.numa_nodes.size(), topo.numa_nodes.size() == 1 ? "" : "s",
             topo.cores.size(), topo.cpus.size(),
             smt_cores ? fmt::format(" (SMT on {} cores, up to {} threads each)", smt_cores, threads_per_core_max(topo))
                       : std::string(" (no SMT)"),
             topo.kinds.size(), topo.kinds.size() == 1 ? "" : "s");
  if (!topo.offline_cpus.empty()) fmt::print(out, "Offline CPUs: {}\n", topo.offline_cpus);

  const int l3_level = 3;
  for (const Package& pkg : topo.packages) {
    fmt::print(out, "\nPackage {}{}: CPUs {}\n", pkg.os_index, pkg.cpu_model.empty() ? "" : " (" + pkg.cpu_model + ")",
               pkg.cpus);
    for (const NumaNode& node : topo.numa_nodes)
      if (node.cpus.intersects(pkg.cpus))
        fmt::print(out, "  NUMA node {}: CPUs {}{}\n", node.os_index, node.cpus & pkg.cpus,
                   node.memory_bytes ? ", " + format_bytes(node.memory_bytes) + " memory" : "");
    // Group cores by L3 (cores without a known L3 form one group).
    std::map<std::optional<unsigned>, std::vector<const Core*>> by_l3;
    for (const Core& core : topo.cores)
      if (pkg.cpus.contains(core.cpus.first())) by_l3[find_cpu(topo, core.cpus.first())->l3].push_back(&core);
    for (auto& [l3, cores] : by_l3) {
      std::string indent = "  ";
      if (l3) {
        const Cache* cache = cache_of(topo, cores.front()->cpus.first(), l3_level);
        fmt::print(out, "  L3 #{}, {}{}, shared by {} core{} (CPUs {})\n", *l3, format_bytes(cache->size_bytes),
                   is_vcache_l3(topo, *cache) ? " (3D V-Cache)" : "", cores.size(), cores.size() == 1 ? "" : "s",
                   cache->cpus);
        indent = "    ";
      } else if (deepest_cache_level(topo) >= 2) {
        fmt::print(out, "  No L3:\n");
        indent = "    ";
      }
      std::optional<unsigned> open_l2;
      for (const Core* core : cores) {
        const LogicalCpu* first = find_cpu(topo, core->cpus.first());
        const Cache* l2 = first->l2 ? cache_of(topo, first->os_index, 2) : nullptr;
        bool shared_l2 = l2 && !core->cpus.contains(l2->cpus);
        if (shared_l2 && open_l2 != first->l2) {
          fmt::print(out, "{}L2 #{}, {}, shared by CPUs {}\n", indent, *first->l2, format_bytes(l2->size_bytes), l2->cpus);
          open_l2 = first->l2;
        }
        write_core(out, topo, *core, shared_l2 ? indent + "  " : indent);
      }
    }
  }

  fmt::print(out, "\nCPU lists (for cpuset=, isolcpus=, taskset -c)\n");
  std::vector<CpuSet> smt_groups, l3_groups, l2_clusters;
  for (const Core& core : topo.cores)
    if (core.cpus.size() > 1) smt_groups.push_back(core.cpus);
  for (const Cache* cache : caches_at_level(topo, 3)) l3_groups.push_back(cache->cpus);
  for (const Cache* cache : multi_core_caches(topo, 2)) l2_clusters.push_back(cache->cpus);
  fmt::print(out, "  SMT siblings:       {}\n", group_list(smt_groups));
  fmt::print(out, "  L3 groups:          {}\n", topo.caches.empty() ? "unknown" : group_list(l3_groups));
  if (!vcache_l3s(topo).empty()) {
    std::vector<CpuSet> vcache;
    for (const Cache* cache : vcache_l3s(topo)) vcache.push_back(cache->cpus);
    fmt::print(out, "  V-Cache L3s:        {}\n", group_list(vcache));
  }
  fmt::print(out, "  L2 shared by cores: {}\n", topo.caches.empty() ? "unknown" : group_list(l2_clusters));
  for (const CoreKind& kind : topo.kinds)
    fmt::print(out, "  {:<19} {}{}\n", kind.name + ":", kind.cpus,
               kind.max_mhz ? fmt::format("  (max {} MHz)", *kind.max_mhz) : "");
  for (const NumaNode& node : topo.numa_nodes)
    fmt::print(out, "  {:<19} {}\n", fmt::format("NUMA node {}:", node.os_index), node.cpus);
  if (!topo.numa_distances.empty()) {
    fmt::print(out, "  NUMA distances:    ");
    for (const auto& row : topo.numa_distances) fmt::print(out, " [{}]", fmt::join(row, " "));
    fmt::print(out, "\n");
  }

  if (!topo.pci.empty()) {
    fmt::print(out, "\nPCI devices\n");
    for (const PciDevice& dev : topo.pci)
      fmt::print(out, "  {}  {:<11} {:04x}:{:04x} {}{}{}{}\n", dev.address, to_string(dev.device_class), dev.vendor_id,
                 dev.device_id, dev.name.empty() ? "" : dev.name + "  ",
                 dev.numa ? fmt::format("NUMA node {}, CPUs {}", *dev.numa, dev.local_cpus) : "NUMA locality unknown",
                 dev.os_devices.empty() ? "" : fmt::format("  ({})", fmt::join(dev.os_devices, ", ")),
                 dev.iommu_group ? fmt::format(", IOMMU group {}", *dev.iommu_group) : "");
  }

  if (topo.host.known) {
    const HostState& h = topo.host;
    fmt::print(out, "\nHost state (kernel {})\n", h.kernel);
    fmt::print(out, "  isolcpus:  {}\n", h.isolcpus.empty() ? "none" : h.isolcpus.to_string());
    fmt::print(out, "  nohz_full: {}\n", h.nohz_full.empty() ? "none" : h.nohz_full.to_string());
    fmt::print(out, "  SMT:       {}\n", !h.smt_active ? "unknown" : *h.smt_active ? "active" : "off");
    std::vector<std::string> pools;
    for (const HugepagePool& pool : h.hugepages)
      if (!pool.numa) pools.push_back(fmt::format("{} pages: {} ({} free)", format_bytes(pool.page_bytes), pool.total, pool.free));
    fmt::print(out, "  hugepages: {}\n", pools.empty() ? "none" : fmt::format("{}", fmt::join(pools, "; ")));
  }
  if (!topo.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const std::string& w : topo.warnings) fmt::print(out, "  ! {}\n", w);
  }
}

}  // namespace vpt
