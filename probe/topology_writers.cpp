#include "probe/topology_writers.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "probe/probe.hpp"

namespace vpt {

using nlohmann::json;

std::string format_bytes(std::optional<std::uint64_t> bytes) {
  if (!bytes) return "unknown size";
  const double b = static_cast<double>(*bytes);
  if (*bytes >= (1ull << 30)) return fmt::format("{:.3g} GiB", b / (1ull << 30));
  if (*bytes >= (1ull << 20)) return fmt::format("{:.3g} MiB", b / (1ull << 20));
  if (*bytes >= (1ull << 10)) return fmt::format("{:.3g} KiB", b / (1ull << 10));
  return fmt::format("{} B", *bytes);
}

namespace {

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

std::string_view cache_type_name(CacheType type) {
  switch (type) {
    case CacheType::Data: return "data";
    case CacheType::Instruction: return "instruction";
    case CacheType::Unified: return "unified";
  }
  return "?";
}

std::string cache_label(const Cache& cache) {
  std::string level = fmt::format("L{}", cache.level);
  if (cache.type == CacheType::Data) level += "d";
  if (cache.type == CacheType::Instruction) level += "i";
  return level;
}

}  // namespace

namespace {

// What the live host's tuning looks like (vpt-tune check reads it): optional
// in topology/1, absent from files written before it was added.
void host_tuning_to_json(const HostState& h, json& host) {
  host["isolcpus_managed_irq"] = h.isolcpus_managed_irq;
  json cpufreq = json::array();
  for (const auto& [cpu, policy] : h.cpufreq)
    cpufreq.push_back({{"cpu", cpu}, {"driver", policy.driver}, {"governor", policy.governor}, {"epp", policy.epp}});
  host["cpufreq"] = std::move(cpufreq);
  host["transparent_hugepage"] = {{"enabled", h.thp_enabled}, {"defrag", h.thp_defrag}};
  host["kvm_halt_poll_ns"] = optional_json(h.kvm_halt_poll_ns);
  host["irqbalance"] = h.irqbalance ? json{{"pid", h.irqbalance->pid},
                                           {"banned", h.irqbalance->banned ? json(h.irqbalance->banned->to_string())
                                                                           : json(nullptr)}}
                                    : json(nullptr);
  json irqs = json::array();
  for (const IrqLine& irq : h.irqs)
    irqs.push_back({{"irq", irq.irq},
                    {"actions", irq.actions},
                    {"affinity", irq.affinity.to_string()},
                    {"managed", optional_json(irq.managed)},
                    {"device", irq.device}});
  host["irqs"] = std::move(irqs);
  host["libvirt_qemu_hooks"] = h.libvirt_qemu_hooks;
}

}  // namespace

json topology_to_json(const Topology& topo) {
  json doc;
  doc["schema"] = kTopologySchema;
  doc["source"] = {{"kind", to_string(topo.source)}, {"name", topo.source_name}};
  doc["cpu_model"] = topo.cpu_model.empty() ? json(nullptr) : json(topo.cpu_model);
  doc["cpu_vendor"] = topo.cpu_vendor.empty() ? json(nullptr) : json(topo.cpu_vendor);

  json cpus = json::array();
  for (const LogicalCpu& cpu : topo.cpus)
    cpus.push_back({{"cpu", cpu.os_index},
                    {"core", cpu.core},
                    {"package", cpu.package},
                    {"numa", optional_json(cpu.numa)},
                    {"l1d", optional_json(cpu.l1d)},
                    {"l1i", optional_json(cpu.l1i)},
                    {"l2", optional_json(cpu.l2)},
                    {"l3", optional_json(cpu.l3)},
                    {"kind", cpu.kind}});
  doc["cpus"] = std::move(cpus);
  doc["offline_cpus"] = topo.offline_cpus.to_string();

  json cores = json::array();
  for (const Core& core : topo.cores)
    cores.push_back({{"core", core.index}, {"cpus", core.cpus.to_string()}, {"package", core.package}, {"kind", core.kind}});
  doc["cores"] = std::move(cores);

  json packages = json::array();
  for (const Package& pkg : topo.packages)
    packages.push_back({{"package", pkg.os_index},
                        {"cpus", pkg.cpus.to_string()},
                        {"cpu_model", pkg.cpu_model.empty() ? json(nullptr) : json(pkg.cpu_model)}});
  doc["packages"] = std::move(packages);

  json caches = json::array();
  for (const Cache& cache : topo.caches)
    caches.push_back({{"level", cache.level},
                      {"type", cache_type_name(cache.type)},
                      {"id", cache.index},
                      {"size_bytes", optional_json(cache.size_bytes)},
                      {"cpus", cache.cpus.to_string()}});
  doc["caches"] = std::move(caches);

  json kinds = json::array();
  for (const CoreKind& kind : topo.kinds)
    kinds.push_back({{"kind", kind.rank},
                     {"name", kind.name},
                     {"cpus", kind.cpus.to_string()},
                     {"max_mhz", optional_json(kind.max_mhz)},
                     {"linux_capacity", optional_json(kind.linux_capacity)},
                     {"core_type", kind.core_type.empty() ? json(nullptr) : json(kind.core_type)}});
  doc["kinds"] = std::move(kinds);

  json nodes = json::array();
  for (const NumaNode& node : topo.numa_nodes)
    nodes.push_back({{"node", node.os_index}, {"cpus", node.cpus.to_string()}, {"memory_bytes", optional_json(node.memory_bytes)}});
  doc["numa"] = {{"nodes", std::move(nodes)},
                 {"distances", topo.numa_distances.empty() ? json(nullptr) : json(topo.numa_distances)}};

  json pci = json::array();
  for (const PciDevice& dev : topo.pci)
    pci.push_back({{"address", dev.address},
                   {"class", to_string(dev.device_class)},
                   {"vendor_id", fmt::format("{:04x}", dev.vendor_id)},
                   {"device_id", fmt::format("{:04x}", dev.device_id)},
                   {"name", dev.name},
                   {"os_devices", dev.os_devices},
                   {"numa", optional_json(dev.numa)},
                   {"local_cpus", dev.local_cpus.to_string()},
                   {"iommu_group", optional_json(dev.iommu_group)}});
  doc["pci"] = std::move(pci);

  if (topo.host.known) {
    json pools = json::array();
    for (const HugepagePool& pool : topo.host.hugepages)
      pools.push_back({{"page_bytes", pool.page_bytes}, {"numa", optional_json(pool.numa)}, {"total", pool.total}, {"free", pool.free}});
    doc["host"] = {{"known", true},
                   {"hostname", topo.host.hostname},
                   {"kernel", topo.host.kernel},
                   {"isolcpus", topo.host.isolcpus.to_string()},
                   {"nohz_full", topo.host.nohz_full.to_string()},
                   {"smt_active", optional_json(topo.host.smt_active)},
                   {"hugepages", std::move(pools)}};
    host_tuning_to_json(topo.host, doc["host"]);
  } else {
    doc["host"] = {{"known", false}};
    // An hwloc export names the machine it came from (HostName).
    if (!topo.host.hostname.empty()) doc["host"]["hostname"] = topo.host.hostname;
  }
  doc["warnings"] = topo.warnings;
  return doc;
}

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
        fmt::print(out, "  L3 #{}, {}, shared by {} core{} (CPUs {})\n", *l3, format_bytes(cache->size_bytes),
                   cores.size(), cores.size() == 1 ? "" : "s", cache->cpus);
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

// ---- Reader ------------------------------------------------------------------

namespace {

// Reads one document, naming the JSON path of the first bad field.
class TopologyJsonReader {
 public:
  explicit TopologyJsonReader(const std::string& name) : name_(name) {}

  [[noreturn]] void fail(const std::string& path, std::string_view problem) const {
    throw TopologyInputError(fmt::format("cannot read topology '{}': {}{}", name_, path.empty() ? "" : path + ": ", problem));
  }
  const json& at(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(join(path, key), "missing");
    return *it;
  }
  const json& array(const json& obj, const std::string& key, const std::string& path) const {
    const json& a = at(obj, key, path);
    if (!a.is_array()) fail(join(path, key), fmt::format("expected an array, found {}", a.type_name()));
    return a;
  }
  template <typename T>
  T get(const json& value, const std::string& path) const {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!value.is_string()) fail(path, fmt::format("expected a string, found {}", value.type_name()));
      return value.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!value.is_boolean()) fail(path, fmt::format("expected true or false, found {}", value.type_name()));
      return value.get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!value.is_number()) fail(path, fmt::format("expected a number, found {}", value.type_name()));
      return value.get<T>();
    } else {
      // Whole numbers in range only: no silent wrap of -1 or 1e30 into an index.
      constexpr std::uint64_t max = std::numeric_limits<T>::max();
      bool in_range = value.is_number_unsigned()  ? value.get<std::uint64_t>() <= max
                      : value.is_number_integer() ? value.get<std::int64_t>() >= 0 &&
                                                        static_cast<std::uint64_t>(value.get<std::int64_t>()) <= max
                                                  : false;
      if (!in_range)
        fail(path, value.is_number() ? fmt::format("{} is not a whole number from 0 to {}", value.dump(), max)
                                     : fmt::format("expected a number, found {}", value.type_name()));
      return static_cast<T>(value.get<std::uint64_t>());
    }
  }
  template <typename T>
  T field(const json& obj, const std::string& key, const std::string& path) const {
    return get<T>(at(obj, key, path), join(path, key));
  }
  // null or absent: nullopt.
  template <typename T>
  std::optional<T> optional(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    return get<T>(*it, join(path, key));
  }
  std::string text_or_empty(const json& obj, const std::string& key, const std::string& path) const {
    return optional<std::string>(obj, key, path).value_or("");
  }
  CpuSet cpus(const json& obj, const std::string& key, const std::string& path) const {
    std::string text = field<std::string>(obj, key, path);
    try {
      return CpuSet::parse(text);
    } catch (const std::invalid_argument& e) {
      fail(join(path, key), e.what());
    }
  }
  template <typename Enum, std::size_t N>
  Enum choice(const json& obj, const std::string& key, const std::string& path, const Enum (&values)[N],
              std::string_view (*name)(Enum)) const {
    std::string text = field<std::string>(obj, key, path);
    for (Enum v : values)
      if (name(v) == text) return v;
    fail(join(path, key), fmt::format("unknown value '{}'", text));
  }

  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

 private:
  const std::string& name_;
};

std::string_view source_name(TopologySource s) { return to_string(s); }
std::string_view class_name(PciDevice::Class c) { return to_string(c); }

}  // namespace

namespace {

// host_tuning_to_json's fields, each optional (older topology/1 files lack them).
void read_host_tuning(const TopologyJsonReader& r, const json& host, HostState& h) {
  h.isolcpus_managed_irq = r.optional<bool>(host, "isolcpus_managed_irq", "host").value_or(false);
  if (host.contains("cpufreq")) {
    const json& policies = r.array(host, "cpufreq", "host");
    for (std::size_t i = 0; i < policies.size(); ++i) {
      std::string p = r.index("host.cpufreq", i);
      h.cpufreq[r.field<unsigned>(policies[i], "cpu", p)] = {r.field<std::string>(policies[i], "driver", p),
                                                             r.field<std::string>(policies[i], "governor", p),
                                                             r.field<std::string>(policies[i], "epp", p)};
    }
  }
  if (host.contains("transparent_hugepage")) {
    const json& thp = r.at(host, "transparent_hugepage", "host");
    h.thp_enabled = r.field<std::string>(thp, "enabled", "host.transparent_hugepage");
    h.thp_defrag = r.field<std::string>(thp, "defrag", "host.transparent_hugepage");
  }
  h.kvm_halt_poll_ns = r.optional<std::uint64_t>(host, "kvm_halt_poll_ns", "host");
  if (host.contains("irqbalance") && !host.at("irqbalance").is_null()) {
    const json& daemon = r.at(host, "irqbalance", "host");
    IrqbalanceDaemon d;
    d.pid = static_cast<int>(r.field<unsigned>(daemon, "pid", "host.irqbalance"));
    if (daemon.contains("banned") && !daemon.at("banned").is_null()) d.banned = r.cpus(daemon, "banned", "host.irqbalance");
    h.irqbalance = d;
  }
  if (host.contains("irqs")) {
    const json& irqs = r.array(host, "irqs", "host");
    for (std::size_t i = 0; i < irqs.size(); ++i) {
      std::string p = r.index("host.irqs", i);
      h.irqs.push_back({r.field<unsigned>(irqs[i], "irq", p), r.field<std::string>(irqs[i], "actions", p),
                        r.cpus(irqs[i], "affinity", p), r.optional<bool>(irqs[i], "managed", p),
                        r.field<std::string>(irqs[i], "device", p)});
    }
  }
  if (host.contains("libvirt_qemu_hooks")) {
    const json& hooks = r.array(host, "libvirt_qemu_hooks", "host");
    for (std::size_t i = 0; i < hooks.size(); ++i)
      h.libvirt_qemu_hooks.push_back(r.get<std::string>(hooks[i], r.index("host.libvirt_qemu_hooks", i)));
  }
}

}  // namespace

Topology topology_from_json(const json& doc, const std::string& name) {
  const TopologyJsonReader r(name);
  if (!doc.is_object()) r.fail("", "not a JSON object");
  if (!doc.contains("schema") || doc["schema"] != kTopologySchema)
    r.fail("", fmt::format("not a vpt-tune topology (expected \"schema\": \"{}\")", kTopologySchema));

  Topology t;
  const json& source = r.at(doc, "source", "");
  t.source = r.choice(source, "kind", "source",
                      {TopologySource::LiveHost, TopologySource::HwlocXml, TopologySource::LscpuText}, source_name);
  t.source_name = r.field<std::string>(source, "name", "source");
  t.cpu_model = r.text_or_empty(doc, "cpu_model", "");
  t.cpu_vendor = r.text_or_empty(doc, "cpu_vendor", "");

  // Primary facts only: indices derived from them (a CPU's core, caches and
  // kind, cache ids) are recomputed and checked by finish_topology().
  const json& cpus = r.array(doc, "cpus", "");
  if (cpus.size() > kMaxCpus) r.fail("cpus", fmt::format("{} CPUs: vpt-tune handles hosts of up to {} CPUs", cpus.size(), kMaxCpus));
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    LogicalCpu cpu;
    cpu.os_index = r.field<unsigned>(cpus[i], "cpu", r.index("cpus", i));
    if (cpu.os_index >= (1u << 20)) r.fail(r.index("cpus", i) + ".cpu", fmt::format("CPU {} is out of range", cpu.os_index));
    t.cpus.push_back(cpu);
  }
  t.offline_cpus = r.cpus(doc, "offline_cpus", "");
  const json& cores = r.array(doc, "cores", "");
  for (std::size_t i = 0; i < cores.size(); ++i) {
    std::string p = r.index("cores", i);
    t.cores.push_back({0, r.cpus(cores[i], "cpus", p), r.field<unsigned>(cores[i], "package", p), 0});
  }
  const json& packages = r.array(doc, "packages", "");
  for (std::size_t i = 0; i < packages.size(); ++i) {
    std::string p = r.index("packages", i);
    t.packages.push_back({r.field<unsigned>(packages[i], "package", p), r.cpus(packages[i], "cpus", p),
                          r.text_or_empty(packages[i], "cpu_model", p)});
  }
  const json& caches = r.array(doc, "caches", "");
  for (std::size_t i = 0; i < caches.size(); ++i) {
    std::string p = r.index("caches", i);
    Cache c;
    c.level = static_cast<int>(r.field<unsigned>(caches[i], "level", p));
    if (c.level < 1 || c.level > 4) r.fail(p + ".level", fmt::format("L{} is not a cache level", c.level));
    c.type = r.choice(caches[i], "type", p, {CacheType::Unified, CacheType::Data, CacheType::Instruction},
                      cache_type_name);
    c.size_bytes = r.optional<std::uint64_t>(caches[i], "size_bytes", p);
    c.cpus = r.cpus(caches[i], "cpus", p);
    t.caches.push_back(std::move(c));
  }
  const json& kinds = r.array(doc, "kinds", "");
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    std::string p = r.index("kinds", i);
    t.kinds.push_back({0, r.field<std::string>(kinds[i], "name", p), r.cpus(kinds[i], "cpus", p),
                       r.optional<unsigned>(kinds[i], "max_mhz", p), r.optional<unsigned>(kinds[i], "linux_capacity", p),
                       r.text_or_empty(kinds[i], "core_type", p)});
  }
  const json& numa = r.at(doc, "numa", "");
  const json& nodes = r.array(numa, "nodes", "numa");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    std::string p = r.index("numa.nodes", i);
    t.numa_nodes.push_back({r.field<unsigned>(nodes[i], "node", p), r.cpus(nodes[i], "cpus", p),
                            r.optional<std::uint64_t>(nodes[i], "memory_bytes", p)});
  }
  if (const json& d = r.at(numa, "distances", "numa"); !d.is_null()) {
    if (!d.is_array() || d.size() != t.numa_nodes.size())
      r.fail("numa.distances", fmt::format("expected {} rows, one per node", t.numa_nodes.size()));
    for (std::size_t i = 0; i < d.size(); ++i) {
      std::string p = r.index("numa.distances", i);
      if (!d[i].is_array() || d[i].size() != t.numa_nodes.size())
        r.fail(p, fmt::format("expected {} distances, one per node", t.numa_nodes.size()));
      std::vector<double> row;
      for (std::size_t k = 0; k < d[i].size(); ++k) row.push_back(r.get<double>(d[i][k], r.index(p, k)));
      t.numa_distances.push_back(std::move(row));
    }
  }
  const json& pci = r.array(doc, "pci", "");
  for (std::size_t i = 0; i < pci.size(); ++i) {
    std::string p = r.index("pci", i);
    const json& j = pci[i];
    PciDevice dev;
    dev.address = r.field<std::string>(j, "address", p);
    dev.device_class = r.choice(j, "class", p,
                                {PciDevice::Class::Gpu, PciDevice::Class::Nvme, PciDevice::Class::Network,
                                 PciDevice::Class::Storage, PciDevice::Class::Accelerator, PciDevice::Class::Other},
                                class_name);
    for (auto [key, id] : {std::pair{"vendor_id", &dev.vendor_id}, std::pair{"device_id", &dev.device_id}}) {
      std::string hex = r.field<std::string>(j, key, p);
      unsigned long value = 0;
      auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
      if (hex.empty() || ec != std::errc() || end != hex.data() + hex.size() || value > 0xffff)
        r.fail(r.join(p, key), fmt::format("'{}' is not a 4-digit hex id", hex));
      *id = static_cast<std::uint16_t>(value);
    }
    dev.name = r.field<std::string>(j, "name", p);
    const json& os = r.array(j, "os_devices", p);
    for (std::size_t k = 0; k < os.size(); ++k) dev.os_devices.push_back(r.get<std::string>(os[k], r.index(p + ".os_devices", k)));
    dev.numa = r.optional<unsigned>(j, "numa", p);
    dev.local_cpus = r.cpus(j, "local_cpus", p);
    dev.iommu_group = r.optional<unsigned>(j, "iommu_group", p);
    t.pci.push_back(std::move(dev));
  }
  const json& host = r.at(doc, "host", "");
  t.host.known = r.field<bool>(host, "known", "host");
  t.host.hostname = r.text_or_empty(host, "hostname", "host");
  if (t.host.known) {
    t.host.kernel = r.field<std::string>(host, "kernel", "host");
    t.host.isolcpus = r.cpus(host, "isolcpus", "host");
    t.host.nohz_full = r.cpus(host, "nohz_full", "host");
    t.host.smt_active = r.optional<bool>(host, "smt_active", "host");
    const json& pools = r.array(host, "hugepages", "host");
    for (std::size_t i = 0; i < pools.size(); ++i) {
      std::string p = r.index("host.hugepages", i);
      t.host.hugepages.push_back({r.field<std::uint64_t>(pools[i], "page_bytes", p),
                                  r.optional<unsigned>(pools[i], "numa", p),
                                  r.field<std::uint64_t>(pools[i], "total", p), r.field<std::uint64_t>(pools[i], "free", p)});
    }
    read_host_tuning(r, host, t.host);
  }
  const json& warnings = r.array(doc, "warnings", "");
  for (std::size_t i = 0; i < warnings.size(); ++i) t.warnings.push_back(r.get<std::string>(warnings[i], r.index("warnings", i)));

  try {
    finish_topology(t);
  } catch (const std::runtime_error& e) {
    r.fail("", e.what());
  }
  return t;
}

}  // namespace vpt
