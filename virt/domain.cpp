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
#include "common/text.hpp"
#include "virt/xml_util.hpp"

namespace vpt {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& reason) {
  throw DomainInputError(fmt::format("cannot read domain '{}': {}", source, reason));
}

// The part of an element name after its namespace prefix: "libosinfo:os" -> "os".
std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
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

// "0000:01:00.0" from a <hostdev><source><address>: libvirt reads each part in base 0.
std::string hostdev_address(const std::string& source, pugi::xml_node address) {
  unsigned parts[4] = {};
  const char* names[4] = {"domain", "bus", "slot", "function"};
  const unsigned limits[4] = {0xffff, 0xff, 0x1f, 0x7};
  for (int i = 0; i < 4; ++i) {
    pugi::xml_attribute a = address.attribute(names[i]);
    std::optional<unsigned> value = a ? parse_libvirt_pci_part(a.value()) : std::optional<unsigned>(0);
    if (!value || *value > limits[i])
      fail(source, fmt::format("<hostdev><source><address {}='{}'> is not a PCI {} (0 to {:#x}; libvirt reads "
                               "'10' as decimal, '0x10' as hex, '010' as octal)",
                               names[i], a.value(), names[i], limits[i]));
    parts[i] = *value;
  }
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", parts[0], parts[1], parts[2], parts[3]);
}

// QEMU's "key=value,flag,-flag,+flag" option list split at commas ("a,,b" escapes are not
// used by -cpu or -device vfio-pci values people write).
std::vector<std::string_view> option_items(std::string_view value) {
  std::vector<std::string_view> items;
  while (!value.empty()) {
    const auto comma = value.find(',');
    items.push_back(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
  }
  return items;
}

// What <qemu:commandline> changes that `check` and the plan must know.
void read_qemu_commandline(pugi::xml_node root, Domain& d, const std::string& src) {
  constexpr std::size_t kMaxArgs = 4096;
  for (pugi::xml_node child : root.children()) {
    if (local_name(child) != "commandline") continue;
    for (pugi::xml_node arg : child.children()) {
      if (local_name(arg) != "arg") continue;
      if (d.qemu_args.size() == kMaxArgs) fail(src, fmt::format("<qemu:commandline> has more than {} arguments", kMaxArgs));
      d.qemu_args.emplace_back(arg.attribute("value").value());
    }
  }
  auto is = [](std::string_view arg, std::string_view option) {
    return arg == option || (arg.size() == option.size() + 1 && arg[0] == '-' && arg.substr(1) == option);
  };
  for (std::size_t i = 0; i + 1 < d.qemu_args.size(); ++i) {
    const std::string& arg = d.qemu_args[i];
    const std::string& value = d.qemu_args[i + 1];
    if (is(arg, "-cpu")) {
      d.qemu_cpu = value;  // QEMU takes the last -cpu: libvirt's own comes first
    } else if (is(arg, "-overcommit")) {
      for (std::string_view item : option_items(value))
        if (item == "cpu-pm=on") d.qemu_cpu_pm = true;
    } else if (is(arg, "-device")) {
      auto items = option_items(value);
      if (items.empty() || (items.front() != "vfio-pci" && items.front() != "driver=vfio-pci")) continue;
      for (std::string_view item : items)
        if (item.starts_with("host="))
          if (auto address = parse_pci_address(item.substr(5));
              address && std::find(d.hostdevs.begin(), d.hostdevs.end(), *address) == d.hostdevs.end())
            d.hostdevs.push_back(*address);
    }
  }
  if (!d.qemu_cpu) return;
  // QEMU's -cpu replaces what libvirt built from <cpu> and <features>: read its flags instead.
  if (d.cpu_mode) d.qemu_cpu_replaces.push_back(fmt::format("<cpu mode='{}'>", d.cpu_mode->substr(0, 40)));
  if (d.hyperv_mode) d.qemu_cpu_replaces.emplace_back("<features><hyperv>");
  if (!d.kvm_features.empty()) d.qemu_cpu_replaces.emplace_back("<features><kvm>");
  if (d.timers.count("hypervclock")) d.qemu_cpu_replaces.emplace_back("<timer name='hypervclock'>");
  d.hyperv_vendor_id.reset();
  d.kvm_features.erase("hidden");
  d.cpu_disabled_features.clear();
  for (std::string_view item : option_items(*d.qemu_cpu)) {
    const auto eq = item.find('=');
    std::string key(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    for (char& ch : key)
      if (ch == '_') ch = '-';
    if (key == "hv-vendor-id" && !value.empty()) d.hyperv_vendor_id = std::string(value);
    else if (key == "kvm" && (value == "off" || value == "false" || value == "no")) d.kvm_features["hidden"] = true;
    else if (key.starts_with("-") && key.size() > 1) d.cpu_disabled_features.push_back(key.substr(1));
    else if (value == "off" || value == "false") d.cpu_disabled_features.push_back(key);
  }
}

std::uint64_t parse_memory(const std::string& source, pugi::xml_node node, const char* value_attr = nullptr) {
  auto bytes = detail::memory_bytes(node, value_attr);
  if (!bytes)
    fail(source, fmt::format("<{}{}> '{}' with unit '{}' is not a memory size", node.name(),
                             value_attr ? std::string(" ") + value_attr : "",
                             value_attr ? node.attribute(value_attr).value() : node.child_value(),
                             node.attribute("unit").as_string("KiB")));
  return *bytes;
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
    d.hugepage_bytes = parse_memory(src, page, "size");

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

unsigned iothreads_for(const Domain& domain, unsigned wanted, std::vector<std::string>& notes) {
  const auto servable = static_cast<unsigned>(domain.iothread_devices.size());
  const unsigned count = std::min(wanted, std::max(servable, domain.iothreads));
  if (count == wanted && count <= servable) return count;
  std::vector<std::string> labels;
  for (const IothreadDevice& d : domain.iothread_devices) labels.push_back(d.label);
  std::vector<std::string> others = domain.unservable_disks;
  if (!domain.hostdevs.empty()) others.push_back(fmt::format("passed through: PCI {}", fmt::join(domain.hostdevs, ", ")));
  const std::string devices =
      servable == 0 ? fmt::format("no virtio disk or virtio-scsi controller for one to serve{}",
                                  others.empty() ? "" : fmt::format(" ({})", fmt::join(others, "; ")))
                    : fmt::format("{} device{} an I/O thread can serve ({})", servable, servable == 1 ? "" : "s",
                                  fmt::join(labels, ", "));
  if (count == 0)
    notes.push_back(fmt::format("No I/O thread: domain '{}' has {}; its disk I/O stays in QEMU's main loop or with "
                                "the passed-through device.",
                                domain.name, devices));
  else if (count > servable)
    notes.push_back(fmt::format("{} I/O thread{} as domain '{}' defines, but it has {}: {} serve{} nothing (none is "
                                "added).",
                                count, count == 1 ? "" : "s", domain.name, devices,
                                count - servable == 1 ? "one" : fmt::format("{} of them", count - servable),
                                count - servable == 1 ? "s" : ""));
  else
    notes.push_back(fmt::format("{} I/O thread{}, not {}: domain '{}' has {}; another would do nothing.", count,
                                count == 1 ? "" : "s", wanted, domain.name, devices));
  return count;
}

std::optional<std::string> parse_pci_address(std::string_view id) {
  auto hex = [](std::string_view s, std::size_t digits) {
    if (s.empty() || s.size() > digits) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  };
  std::string_view domain = "0000", function = "0";
  std::size_t colons = static_cast<std::size_t>(std::count(id.begin(), id.end(), ':'));
  if (colons == 2) {
    domain = id.substr(0, id.find(':'));
    id.remove_prefix(domain.size() + 1);
  } else if (colons != 1) {
    return std::nullopt;
  }
  if (auto dot = id.find('.'); dot != std::string_view::npos) {
    function = id.substr(dot + 1);
    id = id.substr(0, dot);
  }
  std::string_view bus = id.substr(0, id.find(':')), device = id.substr(id.find(':') + 1);
  if (!hex(domain, 4) || !hex(bus, 2) || !hex(device, 2) || function.size() != 1 || function[0] < '0' ||
      function[0] > '7')
    return std::nullopt;
  return lowercase(fmt::format("{:0>4}:{:0>2}:{:0>2}.{}", domain, bus, device, function));
}

std::optional<unsigned> parse_libvirt_pci_part(std::string_view text) {
  // libvirt: virStrToLong_uip(..., 0, ...), i.e. strtoul with base 0, no sign, no spaces.
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

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
    for (pugi::xml_node f : cpu.children("feature")) {
      const std::string_view name = f.attribute("name").value(), policy = f.attribute("policy").as_string("require");
      if (name == "topoext" && policy == "require") d.require_topoext = true;
      if (policy == "disable" || policy == "forbid") d.cpu_disabled_features.emplace_back(name);
    }
  }

  if (pugi::xml_node memory = root.child("numatune").child("memory")) {
    d.numatune_mode = memory.attribute("mode") ? memory.attribute("mode").value() : "strict";
    if (memory.attribute("nodeset")) d.numatune_nodeset = parse_cpuset_attr(src, memory, "nodeset");
  }
  if (pugi::xml_node memory = root.child("memory")) d.memory_bytes = parse_memory(src, memory);
  for (pugi::xml_node cell : root.child("cpu").child("numa").children("cell")) {
    DomainCell c;
    c.id = cell.attribute("id") ? parse_count(src, "<cell id>", cell.attribute("id").value())
                                : static_cast<unsigned>(d.numa_cells.size());
    if (cell.attribute("cpus")) c.vcpus = parse_cpuset_attr(src, cell, "cpus");
    if (cell.attribute("memory")) c.memory_bytes = parse_memory(src, cell, "memory");
    d.numa_cells.push_back(std::move(c));
  }
  for (pugi::xml_node memnode : root.child("numatune").children("memnode")) {
    unsigned id = parse_count(src, "<memnode cellid>", memnode.attribute("cellid").value());
    auto cell = std::find_if(d.numa_cells.begin(), d.numa_cells.end(), [&](const DomainCell& c) { return c.id == id; });
    if (cell == d.numa_cells.end()) fail(src, fmt::format("<memnode cellid='{}'> names no <numa><cell>", id));
    cell->memnode_mode = memnode.attribute("mode").as_string("strict");
    if (memnode.attribute("nodeset")) cell->memnode_nodeset = parse_cpuset_attr(src, memnode, "nodeset");
  }

  detail::StorageDevices storage = detail::storage_devices(root.child("devices"));
  for (pugi::xml_node device : storage.servable) {
    IothreadDevice io{detail::device_label(device), std::nullopt};
    if (pugi::xml_attribute id = device.child("driver").attribute("iothread"))
      io.iothread = parse_count(src, fmt::format("<{}><driver iothread>", device.name()), id.value());
    d.iothread_devices.push_back(std::move(io));
  }
  d.unservable_disks = std::move(storage.unservable);

  for (pugi::xml_node hostdev : root.child("devices").children("hostdev")) {
    if (std::string_view(hostdev.attribute("type").value()) != "pci") continue;
    pugi::xml_node a = hostdev.child("source").child("address");
    if (!a) continue;
    d.hostdevs.push_back(hostdev_address(src, a));
  }
  read_review_facts(root, d, src);
  read_qemu_commandline(root, d, src);
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

Domain require_qemu_guest(Domain domain, const std::string& source) {
  if (domain.type == "kvm" || domain.type == "qemu" || domain.type == "test") return domain;
  fail(source, fmt::format("<domain type='{}'> is not a QEMU/KVM guest: vpt-tune reviews and plans only kvm and "
                           "qemu domains, and writes nothing for others",
                           domain.type.substr(0, 32)));
}

GuestRequest request_defaults_from(const Domain& domain, const Topology* host) {
  GuestRequest request;
  request.name = domain.name;
  request.vcpus = domain.max_vcpus;
  request.iothreads = iothreads_for(domain, std::max(1u, domain.iothreads), request.notes);
  request.memory_bytes = domain.memory_bytes;
  request.hugepages = domain.hugepages;
  request.gpu = choose_gpu(domain.hostdevs, host);
  if (domain.qemu_cpu)
    request.notes.push_back(fmt::format(
        "domain '{}' passes its own -cpu in <qemu:commandline>, which QEMU takes instead of libvirt's: the plan's "
        "<cpu> mode, cache and topoext settings have no effect until that -cpu goes (its pins and topology, which "
        "become -smp, do)",
        domain.name));
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

bool is_memory_unit(std::string_view unit) { return detail::memory_unit_bytes(unit).has_value(); }

}  // namespace vpt
