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

#include "common/input_file.hpp"
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

  // One of each: libvirt reads the first, a patch would edit the first, and
  // the second would silently disagree with both.
  for (const char* name : {"name", "uuid", "vcpu", "vcpus", "iothreads", "iothreadids", "cputune", "cpu", "numatune",
                           "devices"})
    if (root.child(name).next_sibling(name)) fail(source_name, fmt::format("<domain> has more than one <{}>", name));
  if (pugi::xml_node cputune = root.child("cputune"); cputune.child("emulatorpin").next_sibling("emulatorpin"))
    fail(source_name, "<cputune> has more than one <emulatorpin>");
  if (pugi::xml_node numatune = root.child("numatune"); numatune.child("memory").next_sibling("memory"))
    fail(source_name, "<numatune> has more than one <memory>");

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
  // QEMU's limit is 4096 (1024 on i440fx); a larger count is a typo or garbage.
  constexpr unsigned kMaxVcpus = 16384, kMaxIothreads = 16384;
  if (d.max_vcpus > kMaxVcpus) fail(src, fmt::format("<vcpu> {} is more vCPUs than any QEMU runs ({} at most)", d.max_vcpus, kMaxVcpus));
  if (d.current_vcpus > d.max_vcpus)
    fail(src, fmt::format("<vcpu current='{}'> is above the maximum {}", d.current_vcpus, d.max_vcpus));

  // libvirt: explicit <iothreadids> first, then the smallest unused ids up to <iothreads>.
  for (pugi::xml_node id : root.child("iothreadids").children("iothread")) {
    unsigned n = parse_count(src, "<iothread id>", id.attribute("id").value());
    if (n == 0) fail(src, "<iothread id='0'>: iothread ids start at 1");
    if (std::find(d.iothread_ids.begin(), d.iothread_ids.end(), n) != d.iothread_ids.end())
      fail(src, fmt::format("<iothread id='{}'> is listed twice", n));
    d.iothread_ids.push_back(n);
  }
  d.iothreads = static_cast<unsigned>(d.iothread_ids.size());
  if (pugi::xml_node n = root.child("iothreads"))
    d.iothreads = std::max(d.iothreads, parse_count(src, "<iothreads>", n.child_value()));
  if (d.iothreads > kMaxIothreads)
    fail(src, fmt::format("<iothreads> {} is more than {}", d.iothreads, kMaxIothreads));
  for (unsigned next = 1; d.iothread_ids.size() < d.iothreads; ++next)
    if (std::find(d.iothread_ids.begin(), d.iothread_ids.end(), next) == d.iothread_ids.end())
      d.iothread_ids.push_back(next);

  pugi::xml_node cputune = root.child("cputune");
  for (pugi::xml_node pin : cputune.children("vcpupin")) {
    unsigned vcpu = parse_count(src, "<vcpupin vcpu>", pin.attribute("vcpu").value());
    if (!d.vcpupins.emplace(vcpu, parse_cpuset_attr(src, pin, "cpuset")).second)
      fail(src, fmt::format("<vcpupin vcpu='{}'> is given twice", vcpu));
  }
  if (pugi::xml_node pin = cputune.child("emulatorpin")) d.emulatorpin = parse_cpuset_attr(src, pin, "cpuset");
  for (pugi::xml_node pin : cputune.children("iothreadpin")) {
    unsigned id = parse_count(src, "<iothreadpin iothread>", pin.attribute("iothread").value());
    if (!d.iothreadpins.emplace(id, parse_cpuset_attr(src, pin, "cpuset")).second)
      fail(src, fmt::format("<iothreadpin iothread='{}'> is given twice", id));
  }

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
  return d;
}

Domain load_domain_xml_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file_text(path);
  } catch (const InputFileError& e) {
    fail(path, e.what());
  }
  return parse_domain_xml(text, path);
}

GuestRequest request_defaults_from(const Domain& domain, const Topology* host) {
  GuestRequest request;
  request.name = domain.name;
  request.vcpus = domain.max_vcpus;
  request.iothreads = std::max(1u, domain.iothreads);
  if (!domain.hostdevs.empty()) {
    request.gpu = domain.hostdevs.front();
    if (host) {
      auto is_gpu = [&](const std::string& address) {
        return std::any_of(host->pci.begin(), host->pci.end(), [&](const PciDevice& dev) {
          return dev.address == address && dev.device_class == PciDevice::Class::Gpu;
        });
      };
      auto gpu = std::find_if(domain.hostdevs.begin(), domain.hostdevs.end(), is_gpu);
      if (gpu != domain.hostdevs.end()) request.gpu = *gpu;
    }
  }
  return request;
}

}  // namespace vpt
