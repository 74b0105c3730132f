// The topology document ("schema": "vpt-tune/topology/1"): one field list per
// struct, which both topology_to_json and topology_from_json use.
#include <charconv>
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "probe/probe.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

using nlohmann::json;

std::string_view cache_type_name(CacheType type) {
  switch (type) {
    case CacheType::Data: return "data";
    case CacheType::Instruction: return "instruction";
    case CacheType::Unified: return "unified";
  }
  return "?";
}
std::string_view source_name(TopologySource s) { return to_string(s); }
std::string_view class_name(PciDevice::Class c) { return to_string(c); }

constexpr TopologySource kSources[] = {TopologySource::LiveHost, TopologySource::HwlocXml, TopologySource::LscpuText};
constexpr CacheType kCacheTypes[] = {CacheType::Unified, CacheType::Data, CacheType::Instruction};
constexpr PciDevice::Class kPciClasses[] = {PciDevice::Class::Gpu,     PciDevice::Class::Nvme,
                                            PciDevice::Class::Network, PciDevice::Class::Storage,
                                            PciDevice::Class::Accelerator, PciDevice::Class::Other};

// A PCI vendor or device id as lspci writes it: four hex digits.
JsonFields<PciDevice>::Writer hex_id_writer(std::uint16_t PciDevice::*id) {
  return [id](const PciDevice& d) { return json(fmt::format("{:04x}", d.*id)); };
}
JsonFields<PciDevice>::Reader hex_id_reader(std::uint16_t PciDevice::*id) {
  return [id](const json& v, const std::string& path, PciDevice& d) {
    const std::string hex = JsonReader::get<std::string>(v, path);
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (hex.empty() || ec != std::errc() || end != hex.data() + hex.size() || value > 0xffff)
      JsonReader::fail(path, fmt::format("'{}' is not a 4-digit hex id", printable(hex, 20)));
    d.*id = static_cast<std::uint16_t>(value);
  };
}

// ---- One field list per struct ----
// Primary facts are read back; indices derived from them (a CPU's core,
// caches and kind, a cache's id, a kind's rank) are written for people and
// other tools and recomputed and checked by finish_topology() on reading.

const JsonFields<LogicalCpu>& cpu_fields() {
  static const auto fields =
      JsonFields<LogicalCpu>()
          .custom(
              "cpu", [](const LogicalCpu& c) { return json(c.os_index); },
              [](const json& v, const std::string& p, LogicalCpu& c) { c.os_index = JsonReader::cpu_number(v, p); })
          .derived("core", &LogicalCpu::core)
          .derived("package", &LogicalCpu::package)
          .derived("numa", &LogicalCpu::numa)
          .derived("l1d", &LogicalCpu::l1d)
          .derived("l1i", &LogicalCpu::l1i)
          .derived("l2", &LogicalCpu::l2)
          .derived("l3", &LogicalCpu::l3)
          .derived("kind", &LogicalCpu::kind);
  return fields;
}

const JsonFields<Core>& core_fields() {
  static const auto fields = JsonFields<Core>()
                                 .derived("core", &Core::index)
                                 .field("cpus", &Core::cpus)
                                 .field("package", &Core::package)
                                 .derived("kind", &Core::kind);
  return fields;
}

const JsonFields<Package>& package_fields() {
  static const auto fields = JsonFields<Package>()
                                 .field("package", &Package::os_index)
                                 .field("cpus", &Package::cpus)
                                 .text_or_null("cpu_model", &Package::cpu_model);
  return fields;
}

const JsonFields<Cache>& cache_fields() {
  static const auto fields =
      JsonFields<Cache>()
          .custom(
              "level", [](const Cache& c) { return json(c.level); },
              [](const json& v, const std::string& p, Cache& c) {
                c.level = JsonReader::get<int>(v, p);
                if (c.level < 1 || c.level > 4) JsonReader::fail(p, fmt::format("L{} is not a cache level", c.level));
              })
          .choice("type", &Cache::type, kCacheTypes, cache_type_name)
          .derived("id", &Cache::index)
          .field("size_bytes", &Cache::size_bytes)
          .field("cpus", &Cache::cpus);
  return fields;
}

const JsonFields<CoreKind>& kind_fields() {
  static const auto fields = JsonFields<CoreKind>()
                                 .derived("kind", &CoreKind::rank)
                                 .field("name", &CoreKind::name)
                                 .field("cpus", &CoreKind::cpus)
                                 .field("max_mhz", &CoreKind::max_mhz)
                                 .field("linux_capacity", &CoreKind::linux_capacity)
                                 .text_or_null("core_type", &CoreKind::core_type);
  return fields;
}

const JsonFields<NumaNode>& numa_node_fields() {
  static const auto fields = JsonFields<NumaNode>()
                                 .field("node", &NumaNode::os_index)
                                 .field("cpus", &NumaNode::cpus)
                                 .field("memory_bytes", &NumaNode::memory_bytes);
  return fields;
}

const JsonFields<PciDevice>& pci_fields() {
  static const auto fields = JsonFields<PciDevice>()
                                 .field("address", &PciDevice::address)
                                 .choice("class", &PciDevice::device_class, kPciClasses, class_name)
                                 .custom("vendor_id", hex_id_writer(&PciDevice::vendor_id),
                                         hex_id_reader(&PciDevice::vendor_id))
                                 .custom("device_id", hex_id_writer(&PciDevice::device_id),
                                         hex_id_reader(&PciDevice::device_id))
                                 .field("name", &PciDevice::name)
                                 .field("os_devices", &PciDevice::os_devices)
                                 .field("numa", &PciDevice::numa)
                                 .field("local_cpus", &PciDevice::local_cpus)
                                 .field("iommu_group", &PciDevice::iommu_group);
  return fields;
}

const JsonFields<HugepagePool>& hugepage_fields() {
  static const auto fields = JsonFields<HugepagePool>()
                                 .field("page_bytes", &HugepagePool::page_bytes)
                                 .field("numa", &HugepagePool::numa)
                                 .field("total", &HugepagePool::total)
                                 .field("free", &HugepagePool::free);
  return fields;
}

const JsonFields<CpuFrequencyPolicy>& cpufreq_fields() {
  static const auto fields = JsonFields<CpuFrequencyPolicy>()
                                 .field("driver", &CpuFrequencyPolicy::driver)
                                 .field("governor", &CpuFrequencyPolicy::governor)
                                 .field("epp", &CpuFrequencyPolicy::epp);
  return fields;
}

const JsonFields<IrqLine>& irq_fields() {
  static const auto fields = JsonFields<IrqLine>()
                                 .field("irq", &IrqLine::irq)
                                 .field("actions", &IrqLine::actions)
                                 .field("affinity", &IrqLine::affinity)
                                 .field("managed", &IrqLine::managed)
                                 .field("device", &IrqLine::device);
  return fields;
}

const JsonFields<IrqbalanceDaemon>& irqbalance_fields() {
  static const auto fields =
      JsonFields<IrqbalanceDaemon>()
          .custom(
              "pid", [](const IrqbalanceDaemon& d) { return json(d.pid); },
              [](const json& v, const std::string& p, IrqbalanceDaemon& d) {
                d.pid = JsonReader::get<int>(v, p);
                if (d.pid < 0) JsonReader::fail(p, fmt::format("{} is not a process id", d.pid));
              })
          .field("banned", &IrqbalanceDaemon::banned);
  return fields;
}

// What the live host's kernel was told and its tuning (`check` reads it). The
// tuning fields came later in topology/1: files written before lack them.
const JsonFields<HostState>& host_fields() {
  static const auto fields =
      JsonFields<HostState>()
          .custom(
              "known", [](const HostState&) { return json(true); }, nullptr)
          .added_later("hostname", &HostState::hostname)
          .field("kernel", &HostState::kernel)
          .field("isolcpus", &HostState::isolcpus)
          .field("nohz_full", &HostState::nohz_full)
          .field("smt_active", &HostState::smt_active)
          .list("hugepages", &HostState::hugepages, hugepage_fields())
          .added_later("isolcpus_managed_irq", &HostState::isolcpus_managed_irq)
          .custom(
              "cpufreq",  // one entry per CPU: {"cpu": 3, "driver": ..., ...}
              [](const HostState& h) {
                json list = json::array();
                for (const auto& [cpu, policy] : h.cpufreq) {
                  json entry = cpufreq_fields().write(policy);
                  entry["cpu"] = cpu;
                  list.push_back(std::move(entry));
                }
                return list;
              },
              [](const json& v, const std::string& p, HostState& h) {
                if (!v.is_array()) JsonReader::fail(p, fmt::format("expected an array, found {}", v.type_name()));
                for (std::size_t i = 0; i < v.size(); ++i) {
                  const std::string entry = JsonReader::index(p, i);
                  h.cpufreq[JsonReader::field<unsigned>(v[i], "cpu", entry)] = cpufreq_fields().read(v[i], entry);
                }
              },
              Presence::AddedLater)
          .custom(
              "transparent_hugepage",
              [](const HostState& h) { return json{{"enabled", h.thp_enabled}, {"defrag", h.thp_defrag}}; },
              [](const json& v, const std::string& p, HostState& h) {
                h.thp_enabled = JsonReader::field<std::string>(v, "enabled", p);
                h.thp_defrag = JsonReader::field<std::string>(v, "defrag", p);
              },
              Presence::AddedLater)
          .added_later("kvm_halt_poll_ns", &HostState::kvm_halt_poll_ns)
          .custom(
              "irqbalance",
              [](const HostState& h) { return h.irqbalance ? irqbalance_fields().write(*h.irqbalance) : json(nullptr); },
              [](const json& v, const std::string& p, HostState& h) {
                if (!v.is_null()) h.irqbalance = irqbalance_fields().read(v, p);  // null: not running
              },
              Presence::AddedLater)
          .list("irqs", &HostState::irqs, irq_fields(), Presence::AddedLater)
          .custom(
              "libvirt_qemu_hooks", [](const HostState& h) { return json(h.libvirt_qemu_hooks); },
              [](const json& v, const std::string& p, HostState& h) {
                h.libvirt_qemu_hooks = JsonReader::get<std::vector<std::string>>(v, p);
              },
              Presence::AddedLater);
  return fields;
}

const JsonFields<Topology>& topology_fields() {
  static const auto fields =
      JsonFields<Topology>()
          .custom(
              "schema", [](const Topology&) { return json(kTopologySchema); }, nullptr)
          .custom(
              "source",
              [](const Topology& t) { return json{{"kind", to_string(t.source)}, {"name", t.source_name}}; },
              [](const json& v, const std::string& p, Topology& t) {
                t.source = JsonReader::choice(v, "kind", p, kSources, source_name);
                t.source_name = JsonReader::field<std::string>(v, "name", p);
              })
          .text_or_null("cpu_model", &Topology::cpu_model)
          .text_or_null("cpu_vendor", &Topology::cpu_vendor)
          .custom(
              "cpu_family", [](const Topology& t) { return t.cpu_family ? json(*t.cpu_family) : json(nullptr); },
              [](const json& v, const std::string& p, Topology& t) {
                if (!v.is_null()) t.cpu_family = JsonReader::get<unsigned>(v, p);
              },
              Presence::AddedLater)
          .custom(
              "cpu_flags", [](const Topology& t) { return json(t.cpu_flags); },
              [](const json& v, const std::string& p, Topology& t) {
                t.cpu_flags = JsonReader::get<std::vector<std::string>>(v, p);
                std::sort(t.cpu_flags.begin(), t.cpu_flags.end());
              },
              Presence::AddedLater)
          .custom(
              "cpus",
              [](const Topology& t) {
                json list = json::array();
                for (const LogicalCpu& cpu : t.cpus) list.push_back(cpu_fields().write(cpu));
                return list;
              },
              [](const json& v, const std::string& p, Topology& t) {
                if (!v.is_array()) JsonReader::fail(p, fmt::format("expected an array, found {}", v.type_name()));
                if (v.size() > kMaxCpus)
                  JsonReader::fail(p, fmt::format("{} CPUs: vpt-tune handles hosts of up to {} CPUs", v.size(), kMaxCpus));
                for (std::size_t i = 0; i < v.size(); ++i) t.cpus.push_back(cpu_fields().read(v[i], JsonReader::index(p, i)));
              })
          .field("offline_cpus", &Topology::offline_cpus)
          .list("cores", &Topology::cores, core_fields())
          .list("packages", &Topology::packages, package_fields())
          .list("caches", &Topology::caches, cache_fields())
          .list("kinds", &Topology::kinds, kind_fields())
          .custom(
              "numa",
              [](const Topology& t) {
                json nodes = json::array();
                for (const NumaNode& node : t.numa_nodes) nodes.push_back(numa_node_fields().write(node));
                return json{{"nodes", std::move(nodes)},
                            {"distances", t.numa_distances.empty() ? json(nullptr) : json(t.numa_distances)}};
              },
              [](const json& v, const std::string& p, Topology& t) {
                const json& nodes = JsonReader::array(v, "nodes", p);
                for (std::size_t i = 0; i < nodes.size(); ++i)
                  t.numa_nodes.push_back(numa_node_fields().read(nodes[i], JsonReader::index(p + ".nodes", i)));
                const json& d = JsonReader::at(v, "distances", p);
                if (d.is_null()) return;
                const std::string dp = JsonReader::join(p, "distances");
                if (!d.is_array() || d.size() != t.numa_nodes.size())
                  JsonReader::fail(dp, fmt::format("expected {} rows, one per node", t.numa_nodes.size()));
                for (std::size_t i = 0; i < d.size(); ++i) {
                  const std::string row = JsonReader::index(dp, i);
                  if (!d[i].is_array() || d[i].size() != t.numa_nodes.size())
                    JsonReader::fail(row, fmt::format("expected {} distances, one per node", t.numa_nodes.size()));
                  t.numa_distances.push_back(JsonReader::get<std::vector<double>>(d[i], row));
                }
              })
          .list("pci", &Topology::pci, pci_fields())
          .custom(
              "host",
              [](const Topology& t) {
                if (t.host.known) return host_fields().write(t.host);
                json host = {{"known", false}};
                // An hwloc export names the machine it came from (HostName).
                if (!t.host.hostname.empty()) host["hostname"] = t.host.hostname;
                return host;
              },
              [](const json& v, const std::string& p, Topology& t) {
                t.host.known = JsonReader::field<bool>(v, "known", p);
                if (t.host.known) host_fields().read_into(v, p, t.host);
                else t.host.hostname = JsonReader::text_or_empty(v, "hostname", p);
              })
          .field("warnings", &Topology::warnings);
  return fields;
}

}  // namespace

json topology_to_json(const Topology& topo) { return topology_fields().write(topo); }

Topology topology_from_json(const json& doc, const std::string& name) {
  auto refuse = [&](std::string_view problem) {
    return TopologyInputError(fmt::format("cannot read topology '{}': {}", name, problem));
  };
  Topology t;
  try {
    if (!doc.is_object()) JsonReader::fail("", "not a JSON object");
    if (!doc.contains("schema") || doc["schema"] != kTopologySchema)
      JsonReader::fail("", fmt::format("not a vpt-tune topology (expected \"schema\": \"{}\")", kTopologySchema));
    topology_fields().read_into(doc, "", t);
  } catch (const JsonFieldError& e) {
    throw refuse(e.what());
  }
  try {
    finish_topology(t);
  } catch (const std::runtime_error& e) {
    throw refuse(e.what());
  }
  return t;
}

}  // namespace vpt
