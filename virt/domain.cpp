#include "virt/domain.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "virt/xml_util.hpp"

namespace vpt {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& reason) {
  throw DomainInputError(fmt::format("cannot read domain '{}': {}", source, reason));
}

unsigned parse_count(const std::string& source, std::string_view what, std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    fail(source, fmt::format("{} '{}' is not a number", what, text));
  return value;
}

CpuSet parse_cpuset_attr(const std::string& source, pugi::xml_node node, const char* attr) {
  try {
    return parse_libvirt_cpuset(node.attribute(attr).value());
  } catch (const std::invalid_argument& e) {
    fail(source, fmt::format("<{} {}='{}'>: {}", node.name(), attr, node.attribute(attr).value(), e.what()));
  }
}

// "0x0000" -> 0; PCI address parts are hex in libvirt XML.
unsigned parse_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return value;
}

// libvirt's memory units (docs/formatdomain, "Memory Allocation") and their size in bytes.
constexpr std::pair<std::string_view, std::uint64_t> kMemoryUnits[] = {
    {"b", 1},          {"bytes", 1},           {"KB", 1000},          {"k", 1024},
    {"KiB", 1024},     {"MB", 1000000},        {"M", 1ull << 20},     {"MiB", 1ull << 20},
    {"GB", 1000000000}, {"G", 1ull << 30},     {"GiB", 1ull << 30},   {"TB", 1000000000000},
    {"T", 1ull << 40}, {"TiB", 1ull << 40}};

// <memory unit=...>N</memory> in bytes.
std::uint64_t parse_memory(const std::string& source, const std::string& what, std::string_view number,
                           pugi::xml_attribute unit_attr) {
  const std::uint64_t value = parse_count(source, what, number);
  std::string_view unit = unit_attr ? unit_attr.value() : "KiB";
  for (const auto& [name, factor] : kMemoryUnits)
    if (unit == name) return value * factor;
  fail(source, fmt::format("{} has an unknown unit '{}'", what, unit));
}

// The part of an element name after its namespace prefix: "libosinfo:os" -> "os".
std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool state_on(pugi::xml_node node) { return std::string_view(node.attribute("state").value()) == "on"; }

std::optional<unsigned> optional_count(const std::string& source, pugi::xml_node node, const char* attr) {
  pugi::xml_attribute a = node.attribute(attr);
  if (!a) return std::nullopt;
  return parse_count(source, fmt::format("<{} {}>", node.name(), attr), a.value());
}

std::optional<std::string> optional_text(pugi::xml_node node, const char* attr) {
  pugi::xml_attribute a = node.attribute(attr);
  if (!a) return std::nullopt;
  return std::string(a.value());
}

// What `check` reviews besides the pins: memory, guest OS, Hyper-V and KVM
// features, timers, memory backing and the disks and controllers.
void read_review_facts(pugi::xml_node root, Domain& d, const std::string& src) {
  if (pugi::xml_node memory = root.child("memory"))
    d.memory_bytes = parse_memory(src, "<memory>", memory.child_value(), memory.attribute("unit"));
  if (pugi::xml_node vcpu = root.child("vcpu"); vcpu.attribute("cpuset"))
    d.vcpu_cpuset = parse_cpuset_attr(src, vcpu, "cpuset");
  for (pugi::xml_node app : root.child("metadata").children())
    if (local_name(app) == "libosinfo")
      for (pugi::xml_node os : app.children())
        if (local_name(os) == "os") d.os_id = os.attribute("id").value();
  d.machine = root.child("os").child("type").attribute("machine").value();
  if (pugi::xml_node cpu = root.child("cpu")) d.cpu_migratable = optional_text(cpu, "migratable");

  pugi::xml_node features = root.child("features");
  if (pugi::xml_node hyperv = features.child("hyperv")) {
    d.hyperv_mode = hyperv.attribute("mode") ? hyperv.attribute("mode").value() : "custom";
    for (pugi::xml_node f : hyperv.children()) {
      if (f.type() != pugi::node_element) continue;
      d.hyperv[f.name()] = state_on(f);
      if (std::string_view(f.name()) == "vendor_id" && state_on(f)) d.hyperv_vendor_id = f.attribute("value").value();
    }
  }
  for (pugi::xml_node f : features.child("kvm").children())
    if (f.type() == pugi::node_element) d.kvm_features[f.name()] = state_on(f);
  for (pugi::xml_node timer : root.child("clock").children("timer")) {
    std::optional<bool> present;
    if (pugi::xml_attribute a = timer.attribute("present")) present = std::string_view(a.value()) == "yes";
    d.timers[timer.attribute("name").value()] = present;
  }
  pugi::xml_node hugepages = root.child("memoryBacking").child("hugepages");
  d.hugepages = static_cast<bool>(hugepages);
  // <page size='2048' unit='KiB'/>: the same units as <memory>, KiB by default.
  if (pugi::xml_node page = hugepages.child("page"); page && page.attribute("size"))
    d.hugepage_bytes = parse_memory(src, "<hugepages><page size>", page.attribute("size").value(), page.attribute("unit"));

  pugi::xml_node devices = root.child("devices");
  if (pugi::xml_node balloon = devices.child("memballoon")) d.memballoon_model = balloon.attribute("model").value();
  for (pugi::xml_node disk : devices.children("disk")) {
    DomainDisk k;
    k.type = disk.attribute("type").value();
    k.device = disk.attribute("device") ? disk.attribute("device").value() : "disk";
    k.bus = disk.child("target").attribute("bus").value();
    k.target = disk.child("target").attribute("dev").value();
    pugi::xml_node driver = disk.child("driver");
    k.driver_type = driver.attribute("type").value();
    k.cache = optional_text(driver, "cache");
    k.io = optional_text(driver, "io");
    k.iothread = optional_count(src, driver, "iothread");
    k.queues = optional_count(src, driver, "queues");
    if (pugi::xml_node address = disk.child("address");
        std::string_view(address.attribute("type").value()) == "drive")
      k.controller = optional_count(src, address, "controller");
    d.disks.push_back(std::move(k));
  }
  for (pugi::xml_node controller : devices.children("controller")) {
    DomainController c;
    c.type = controller.attribute("type").value();
    c.model = controller.attribute("model").value();
    c.index = optional_count(src, controller, "index").value_or(0);
    c.iothread = optional_count(src, controller.child("driver"), "iothread");
    c.queues = optional_count(src, controller.child("driver"), "queues");
    d.controllers.push_back(std::move(c));
  }
}

}  // namespace

CpuSet parse_libvirt_cpuset(std::string_view text) {
  // Items apply in order, as in libvirt: "^N" removes N from the CPUs so far.
  CpuSet set;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto start = item.find_first_not_of(" \t");
    if (start != std::string_view::npos && item[start] == '^') set -= CpuSet::parse(item.substr(start + 1));
    else if (item.find_first_not_of(" \t") == std::string_view::npos)
      throw std::invalid_argument(fmt::format("empty item in CPU list '{}'", text));
    else set |= CpuSet::parse(item);
  }
  if (set.empty()) throw std::invalid_argument(fmt::format("CPU list '{}' is empty", text));
  return set;
}

Domain parse_domain_xml(std::string_view xml, const std::string& source_name) {
  pugi::xml_document doc;
  detail::load_domain_document(doc, xml, source_name);
  pugi::xml_node root = doc.document_element();

  Domain d;
  d.xml = std::string(xml);
  d.type = root.attribute("type").value();
  d.name = detail::trimmed_text(root.child("name"));
  if (d.name.empty()) fail(source_name, "<domain> has no <name>");
  const std::string& src = source_name;
  d.uuid = detail::trimmed_text(root.child("uuid"));

  if (pugi::xml_node vcpu = root.child("vcpu")) {
    d.max_vcpus = parse_count(src, "<vcpu>", vcpu.child_value());
    d.current_vcpus = d.max_vcpus;
    if (pugi::xml_attribute current = vcpu.attribute("current"))
      d.current_vcpus = parse_count(src, "<vcpu current>", current.value());
  }
  if (d.max_vcpus == 0) fail(src, "<vcpu> is 0");
  if (d.current_vcpus > d.max_vcpus)
    fail(src, fmt::format("<vcpu current='{}'> is above the maximum {}", d.current_vcpus, d.max_vcpus));

  // libvirt: explicit <iothreadids> first, then the smallest unused ids up to <iothreads>.
  for (pugi::xml_node id : root.child("iothreadids").children("iothread"))
    d.iothread_ids.push_back(parse_count(src, "<iothread id>", id.attribute("id").value()));
  d.iothreads = static_cast<unsigned>(d.iothread_ids.size());
  if (pugi::xml_node n = root.child("iothreads"))
    d.iothreads = std::max(d.iothreads, parse_count(src, "<iothreads>", n.child_value()));
  for (unsigned next = 1; d.iothread_ids.size() < d.iothreads; ++next)
    if (std::find(d.iothread_ids.begin(), d.iothread_ids.end(), next) == d.iothread_ids.end())
      d.iothread_ids.push_back(next);

  pugi::xml_node cputune = root.child("cputune");
  for (pugi::xml_node pin : cputune.children("vcpupin"))
    d.vcpupins[parse_count(src, "<vcpupin vcpu>", pin.attribute("vcpu").value())] =
        parse_cpuset_attr(src, pin, "cpuset");
  if (pugi::xml_node pin = cputune.child("emulatorpin")) d.emulatorpin = parse_cpuset_attr(src, pin, "cpuset");
  for (pugi::xml_node pin : cputune.children("iothreadpin"))
    d.iothreadpins[parse_count(src, "<iothreadpin iothread>", pin.attribute("iothread").value())] =
        parse_cpuset_attr(src, pin, "cpuset");

  if (pugi::xml_node cpu = root.child("cpu")) {
    d.cpu_mode = cpu.attribute("mode") ? cpu.attribute("mode").value() : "custom";
    if (pugi::xml_node model = cpu.child("model")) {
      std::string text = detail::trimmed_text(model);
      if (!text.empty()) d.cpu_model = text;
    }
    if (pugi::xml_node topo = cpu.child("topology")) {
      GuestTopology t;
      auto get = [&](const char* attr, unsigned& out) {
        if (pugi::xml_attribute a = topo.attribute(attr))
          out = parse_count(src, fmt::format("<topology {}>", attr), a.value());
      };
      get("sockets", t.sockets);
      get("dies", t.dies);
      get("cores", t.cores);
      get("threads", t.threads);
      d.cpu_topology = t;
    }
    d.cache_passthrough = std::string_view(cpu.child("cache").attribute("mode").value()) == "passthrough";
    for (pugi::xml_node f : cpu.children("feature"))
      if (std::string_view(f.attribute("name").value()) == "topoext" &&
          std::string_view(f.attribute("policy").value()) == "require")
        d.require_topoext = true;
  }

  if (pugi::xml_node memory = root.child("numatune").child("memory")) {
    d.numatune_mode = memory.attribute("mode") ? memory.attribute("mode").value() : "strict";
    if (memory.attribute("nodeset")) d.numatune_nodeset = parse_cpuset_attr(src, memory, "nodeset");
  }

  for (pugi::xml_node hostdev : root.child("devices").children("hostdev")) {
    if (std::string_view(hostdev.attribute("type").value()) != "pci") continue;
    pugi::xml_node a = hostdev.child("source").child("address");
    if (!a) continue;
    d.hostdevs.push_back(fmt::format("{:04x}:{:02x}:{:02x}.{:x}", parse_hex(a.attribute("domain").value()),
                                     parse_hex(a.attribute("bus").value()), parse_hex(a.attribute("slot").value()),
                                     parse_hex(a.attribute("function").value())));
  }
  read_review_facts(root, d, src);
  return d;
}

Domain load_domain_xml_file(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open the file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) fail(path, "cannot read the file");
    text = buffer.str();
  }
  return parse_domain_xml(text, path);
}

GuestRequest request_defaults_from(const Domain& domain, const Topology* host) {
  GuestRequest request;
  request.name = domain.name;
  request.vcpus = domain.max_vcpus;
  request.iothreads = std::max(1u, domain.iothreads);
  request.gpu = choose_gpu(domain.hostdevs, host);
  return request;
}

std::optional<std::string> choose_gpu(const std::vector<std::string>& pci_addresses, const Topology* host) {
  if (pci_addresses.empty()) return std::nullopt;
  if (host) {
    auto is_gpu = [&](const std::string& address) {
      return std::any_of(host->pci.begin(), host->pci.end(), [&](const PciDevice& dev) {
        return dev.address == address && dev.device_class == PciDevice::Class::Gpu;
      });
    };
    auto gpu = std::find_if(pci_addresses.begin(), pci_addresses.end(), is_gpu);
    if (gpu != pci_addresses.end()) return *gpu;
  }
  return pci_addresses.front();
}

bool is_memory_unit(std::string_view unit) {
  for (const auto& [name, factor] : kMemoryUnits)
    if (unit == name) return true;
  return false;
}

}  // namespace vpt
