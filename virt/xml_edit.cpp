#include "virt/xml_edit.hpp"

#include <charconv>

namespace vpt::detail {

void set_attr(pugi::xml_node node, const char* name, const std::string& value) {
  pugi::xml_attribute attr = node.attribute(name);
  if (!attr) attr = node.append_attribute(name);
  attr.set_value(value.c_str());
}

pugi::xml_node add(pugi::xml_node parent, const char* name,
                   std::initializer_list<std::pair<const char*, std::string>> attrs) {
  pugi::xml_node node = parent.append_child(name);
  for (const auto& [key, value] : attrs) node.append_attribute(key).set_value(value.c_str());
  return node;
}

void add_text(pugi::xml_node node, const std::string& text) {
  node.append_child(pugi::node_pcdata).set_value(text.c_str());
}

bool is_pin(pugi::xml_node node) {
  std::string_view n = node.name();
  return node.type() == pugi::node_element && (n == "vcpupin" || n == "emulatorpin" || n == "iothreadpin");
}

unsigned to_unsigned(const char* text) {
  unsigned value = 0;
  std::string_view s = text;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

// Sets an attribute, adding it in front when `first` (libvirt writes it first), else last.
void ensure_attr(pugi::xml_node node, const char* name, const std::string& value, bool first) {
  pugi::xml_attribute attr = node.attribute(name);
  if (!attr) attr = first ? node.prepend_attribute(name) : node.append_attribute(name);
  attr.set_value(value.c_str());
}

// Sets the element's text, keeping the element itself (and its attributes) as they are.
void set_text(pugi::xml_node node, const std::string& text) {
  while (node.first_child()) node.remove_child(node.first_child());
  add_text(node, text);
}

const std::vector<std::string_view> kDomainOrder = {
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
    "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread",
    "cputune", "numatune", "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap",
    "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf",
    "devices", "seclabel", "keywrap", "launchSecurity"};
const std::vector<std::string_view> kCputuneOrder = {
    "shares", "period", "quota", "global_period", "global_quota", "emulator_period", "emulator_quota",
    "iothread_period", "iothread_quota", "vcpupin", "emulatorpin", "iothreadpin", "emulatorsched",
    "vcpusched", "iothreadsched", "cachetune", "memorytune"};
const std::vector<std::string_view> kCpuOrder = {"model", "vendor", "topology", "cache", "maxphysaddr",
                                                 "feature", "numa"};

}  // namespace vpt::detail
