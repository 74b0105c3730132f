#include "pve/pve_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "common/input_file.hpp"
#include "common/text.hpp"
#include "pve/config_lines.hpp"
#include "pve/pve_node.hpp"
#include "virt/domain.hpp"

namespace vpt {

namespace {

// Larger than any real count; keeps sockets * cores far from overflowing.
constexpr unsigned kMaxCount = 4096;

[[noreturn]] void fail(const std::string& source, std::size_t line, const std::string& problem) {
  throw PveConfigError(fmt::format("cannot read Proxmox config '{}': line {}: {}", source, line, problem));
}

// What a user sees of a bad line: printable, and short.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 60)) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (text.size() > 60) out += "...";
  return out;
}


// One option line of the current section, for the value checks below.
struct Option {
  std::string value;
  std::size_t line = 0;
};

class ValueReader {
 public:
  ValueReader(const std::string& source, const std::map<std::string, Option>& options)
      : source_(source), options_(options) {}

  const Option* find(const std::string& key) const {
    auto it = options_.find(key);
    return it == options_.end() ? nullptr : &it->second;
  }

  [[noreturn]] void bad(const std::string& key, const Option& o, const std::string& why) const {
    fail(source_, o.line, fmt::format("{}: '{}' {}", key, shown(o.value), why));
  }

  std::optional<unsigned> count(const std::string& key, unsigned min) const {
    const Option* o = find(key);
    if (!o) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(o->value.data(), o->value.data() + o->value.size(), value);
    if (ec != std::errc() || end != o->value.data() + o->value.size())
      bad(key, *o, "is not a whole number");
    if (value < min || value > kMaxCount) bad(key, *o, fmt::format("is out of range ({}-{})", min, kMaxCount));
    return value;
  }

  std::optional<bool> boolean(const std::string& key) const {
    const Option* o = find(key);
    if (!o) return std::nullopt;
    auto b = parse_pve_bool(o->value);
    if (!b) bad(key, *o, "is not a boolean (1/0, on/off, yes/no, true/false)");
    return b;
  }

 private:
  const std::string& source_;
  const std::map<std::string, Option>& options_;
};

// "virtio12" for bus "virtio" -> 12; nullopt for another key. Indices beyond
// any qemu-server limit (hostpci15, virtio15, scsi30) are out of range.
std::optional<unsigned> key_index(const std::string& key, std::string_view bus) {
  if (key.size() <= bus.size() || !key.starts_with(bus)) return std::nullopt;
  std::string_view digits = std::string_view(key).substr(bus.size());
  unsigned index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (end != digits.data() + digits.size()) return std::nullopt;  // not digits: another key
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // "numa07": not numa7 for qemu-server either
  return ec == std::errc() && index < 1000 ? index : 1000;
}

}  // namespace

PveConfig parse_pve_config(std::string_view text, const std::string& source) {
  PveConfig config;
  config.source = source;
  config.text = std::string(text);
  std::filesystem::path path(source);
  if (std::string stem = path.stem().string(); path.extension() == ".conf" && !stem.empty() && stem.size() < 10 &&
                                               std::all_of(stem.begin(), stem.end(), ::isdigit))
    config.vmid = static_cast<unsigned>(std::stoul(stem));

  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    fail(source, static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n')) + 1,
         "contains a NUL byte: this is not a text file");

  std::map<std::string, Option> current, pending;
  std::vector<std::string> deleted;
  std::string section;  // "" = the current configuration
  std::size_t line_no = 0;
  for (const ConfigLine& line : split_config_lines(text)) {
    ++line_no;
    switch (line.kind) {
      case ConfigLine::Kind::Blank:
      case ConfigLine::Kind::Comment:
        break;
      case ConfigLine::Kind::Section:
        section = std::string(line.key);
        if (section.empty()) fail(source, line_no, "empty section name '[]'");
        config.sections.push_back(section);
        break;
      case ConfigLine::Kind::Option:
        if (section.empty()) {
          current[std::string(line.key)] = {std::string(line.value), line_no};
        } else if (lowercase(section) == "pending") {
          if (line.key == "delete") {
            std::string list(line.value);
            std::replace(list.begin(), list.end(), ';', ',');
            std::istringstream keys(list);
            for (std::string key; std::getline(keys, key, ',');)
              if (!key.empty()) {
                config.pending_keys.push_back(key);
                deleted.push_back(key);
              }
          } else {
            config.pending_keys.emplace_back(line.key);
            pending[std::string(line.key)] = {std::string(line.value), line_no};
          }
        }
        break;
      case ConfigLine::Kind::Invalid:
        if (line.text.starts_with("lxc."))  // pct's raw lxc.* lines
          fail(source, line_no,
               "'lxc.' lines belong to a container: this is a container config (/etc/pve/lxc), not a VM's; vpt-tune "
               "plans QEMU VMs only");
        fail(source, line_no,
             line.value.empty() && !line.key.empty()
                 ? fmt::format("'{}:' has no value", shown(line.key))
                 : fmt::format("expected 'key: value', a '#' comment or a '[section]', found '{}'", shown(line.text)));
    }
  }
  if (current.empty())
    throw PveConfigError(fmt::format("cannot read Proxmox config '{}': it has no 'key: value' option before its first "
                                     "section: not a VM config",
                                     source));
  for (const auto& [key, option] : current) config.options[key] = option.value;

  // A container's config (pct, /etc/pve/lxc/ID.conf) parses as lines too.
  for (const auto& [key, option] : current)
    if (key == "rootfs" || key == "hostname" || key == "unprivileged" || key == "arch" || key.starts_with("lxc.") ||
        (key.starts_with("mp") && key.size() > 2 && std::isdigit(static_cast<unsigned char>(key[2]))))
      fail(source, option.line,
           fmt::format("'{}:' is a container key: this is a container config (/etc/pve/lxc), not a VM's; vpt-tune "
                       "plans QEMU VMs only",
                       key));

  // What the VM's next start uses: [PENDING] values and deletions over the current ones.
  std::map<std::string, Option> next = current;
  for (const std::string& key : deleted) next.erase(key);
  for (const auto& [key, option] : pending) next[key] = option;
  current = std::move(next);

  const ValueReader read(source, current);
  config.sockets = read.count("sockets", 1).value_or(read.count("smp", 1).value_or(1));
  config.cores = read.count("cores", 1).value_or(1);
  config.hotplugged_vcpus = read.count("vcpus", 1);
  config.numa = read.boolean("numa").value_or(false);
  if (const Option* o = read.find("name")) config.name = o->value;
  if (const Option* o = read.find("args")) {
    try {
      split_pve_args(o->value);
    } catch (const std::invalid_argument& e) {
      read.bad("args", *o,
               fmt::format("does not split into words: {} (qemu-server would pass none of it to QEMU)", e.what()));
    }
    config.args = o->value;
  }
  if (const Option* o = read.find("hookscript")) config.hookscript = o->value;
  if (const Option* o = read.find("lock")) config.lock = o->value;

  if (const Option* o = read.find("memory")) {
    PropertyString memory = parse_property_string(o->value, "current");
    auto it = memory.find("current");
    unsigned mib = 0;
    bool ok = it != memory.end() && !it->second.empty();
    if (ok) {
      auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), mib);
      ok = ec == std::errc() && end == it->second.data() + it->second.size() && mib >= 16;
    }
    if (!ok) read.bad("memory", *o, "is not a memory size in MiB (16 or more)");
    config.memory_mib = mib;
  }
  if (const Option* o = read.find("affinity")) {
    try {
      config.affinity = CpuSet::parse(o->value);
    } catch (const std::invalid_argument& e) {
      read.bad("affinity", *o, fmt::format("is not a CPU list: {}", e.what()));
    }
    if (config.affinity->empty()) read.bad("affinity", *o, "is an empty CPU list");
  }
  if (const Option* o = read.find("cpu")) {
    PropertyString cpu = parse_property_string(o->value, "cputype");
    config.cpu_type = cpu.count("cputype") ? cpu["cputype"] : "";
  }
  if (const Option* o = read.find("hugepages")) {
    if (o->value != "2" && o->value != "1024" && o->value != "any") read.bad("hugepages", *o, "is not 2, 1024 or any");
    config.hugepages = o->value;
  }
  if (const Option* o = read.find("hotplug")) {
    std::string list = o->value == "1" ? "network,disk,usb" : o->value == "0" ? "" : o->value;
    std::istringstream features(list);
    for (std::string feature; std::getline(features, feature, ',');) {
      config.cpu_hotplug |= feature == "cpu";
      config.memory_hotplug |= feature == "memory";
    }
  }

  // Disks in qemu-server's order (Drive.pm valid_drive_names: ide, scsi, virtio, sata),
  // each bus by index: the order it creates the iothread objects in.
  const std::string scsihw = read.find("scsihw") ? read.find("scsihw")->value : "";
  for (std::string_view bus : {"scsi", "virtio"}) {
    std::vector<std::pair<unsigned, std::string>> disks;
    for (const auto& [key, option] : current)
      if (auto index = key_index(key, bus)) disks.emplace_back(*index, key);
    std::sort(disks.begin(), disks.end());
    for (const auto& [index, key] : disks) {
      PropertyString drive = parse_property_string(current.at(key).value, "file");
      if (drive["media"] == "cdrom" || drive["file"] == "none") continue;
      bool iothread = false;
      if (drive.count("iothread")) {
        auto b = parse_pve_bool(drive["iothread"]);
        if (!b) read.bad(key, current.at(key), "has an iothread= that is not a boolean");
        iothread = *b;
      }
      const bool gets_thread = iothread && (bus == "virtio" || scsihw == "virtio-scsi-single");
      if (gets_thread)
        config.iothread_ids.push_back(fmt::format("iothread-{}{}", bus == "virtio" ? "virtio" : "virtioscsi", index));
      else
        config.disks_without_iothread.push_back(key);
    }
  }

  // hostpci0..hostpciN in index order; "host=" (the default key) lists devices with ';'.
  std::vector<std::pair<unsigned, std::string>> pci_keys;
  for (const auto& [key, option] : current)
    if (auto index = key_index(key, "hostpci")) pci_keys.emplace_back(*index, key);
  std::sort(pci_keys.begin(), pci_keys.end());
  for (const auto& [index, key] : pci_keys) {
    PropertyString pci = parse_property_string(current.at(key).value, "host");
    if (pci.count("mapping")) {
      config.hostpci_mappings.push_back(pci["mapping"]);
      continue;
    }
    std::istringstream ids(pci["host"]);
    for (std::string id; std::getline(ids, id, ';');) {
      auto address = parse_pci_address(id);
      if (!address) read.bad(key, current.at(key), fmt::format("names '{}', which is not a PCI address", shown(id)));
      config.hostpci.push_back(*address);
    }
  }
  for (const auto& [key, option] : current)
    if (auto n = key_index(key, "numa")) {
      if (*n >= 8) read.bad(key, option, "is beyond numa7 (qemu-server reads numa0-numa7)");
      config.numa_nodes[*n] = option.value;
    }
  return config;
}

PveConfig load_pve_config_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file_text(path);  // bounded: --pve-config /dev/zero is one quick error
  } catch (const InputFileError& e) {
    throw PveConfigError(fmt::format("cannot read Proxmox config '{}': {}", path, e.what()));
  }
  return parse_pve_config(text, path);
}

GuestRequest request_defaults_from(const PveConfig& config, const Topology* host) {
  GuestRequest request;
  request.name = !config.name.empty() ? config.name
                 : config.vmid        ? fmt::format("vm{}", *config.vmid)
                                      : std::string("guest");
  request.vcpus = config.online_vcpus();
  request.iothreads = static_cast<unsigned>(config.iothread_ids.size());
  request.gpu = choose_gpu(config.hostpci, host);
  request.hugepages = config.hugepages.has_value();
  return request;
}

}  // namespace vpt
