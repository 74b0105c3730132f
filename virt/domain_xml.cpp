#include "virt/domain_xml.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pugixml.hpp>

#include "common/text.hpp"
#include "virt/domain.hpp"
#include "virt/xml_util.hpp"

namespace vpt {

namespace {

// How the definition is laid out, so that inserted elements look like their neighbours.
struct Style {
  bool pretty = true;        // elements on lines of their own
  std::string nl = "\n";
  std::string unit = "  ";   // one level of indentation
  bool single_quote = true;  // libvirt writes attr='value'; virt-manager's editor attr="value"
};

bool is_whitespace(pugi::xml_node node) {
  return node.type() == pugi::node_pcdata &&
         std::string_view(node.value()).find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The quote around the first attribute of the root's start tag (<domain
// type='kvm'>), if the root has one. The patch never rewrites that tag, so
// patching the result again picks the same quote; counting quotes over the
// whole text did not: removing the old pins could tip the count and turn every
// line of the second patch into the other quote (found by
// tests/fuzz/domain_patch_fuzz.cpp).
std::optional<char> root_attribute_quote(std::string_view xml, pugi::xml_node root) {
  const std::ptrdiff_t name_at = root.offset_debug();
  if (name_at < 0 || static_cast<std::size_t>(name_at) >= xml.size() || !root.first_attribute()) return std::nullopt;
  // No '=' can come before the first attribute's: names hold none.
  const std::size_t equals = xml.find('=', static_cast<std::size_t>(name_at));
  if (equals == std::string_view::npos) return std::nullopt;
  const std::size_t quote = xml.find_first_not_of(" \t\r\n", equals + 1);
  if (quote == std::string_view::npos || (xml[quote] != '\'' && xml[quote] != '"')) return std::nullopt;
  return xml[quote];
}

Style detect_style(std::string_view xml, pugi::xml_node root) {
  Style style;
  if (auto quote = root_attribute_quote(xml, root)) {
    style.single_quote = *quote == '\'';
  } else {
    std::size_t single = 0, dbl = 0;
    for (std::size_t pos = xml.find('='); pos != std::string_view::npos; pos = xml.find('=', pos + 1)) {
      if (pos + 1 < xml.size() && xml[pos + 1] == '\'') ++single;
      if (pos + 1 < xml.size() && xml[pos + 1] == '"') ++dbl;
    }
    style.single_quote = single >= dbl;
  }
  if (xml.find("\r\n") != std::string_view::npos) style.nl = "\r\n";
  style.pretty = false;
  for (pugi::xml_node child : root.children()) {
    if (!is_whitespace(child)) continue;
    std::string_view ws = child.value();
    auto last_nl = ws.rfind('\n');
    if (last_nl == std::string_view::npos) continue;
    std::string_view unit = ws.substr(last_nl + 1);
    // Indentation is spaces and tabs; a stray carriage return is not copied
    // into every new line (found by tests/fuzz/domain_patch_fuzz.cpp).
    if (unit.find_first_not_of(" \t") != std::string_view::npos) continue;
    style.pretty = true;
    style.unit = std::string(unit);
    break;
  }
  return style;
}

// ---- Building the plan's elements -------------------------------------------

void set_attr(pugi::xml_node node, const char* name, const std::string& value) {
  pugi::xml_attribute attr = node.attribute(name);
  if (!attr) attr = node.append_attribute(name);
  attr.set_value(value.c_str());
}

pugi::xml_node add(pugi::xml_node parent, const char* name,
                   std::initializer_list<std::pair<const char*, std::string>> attrs = {}) {
  pugi::xml_node node = parent.append_child(name);
  for (const auto& [key, value] : attrs) node.append_attribute(key).set_value(value.c_str());
  return node;
}

void add_text(pugi::xml_node node, const std::string& text) {
  node.append_child(pugi::node_pcdata).set_value(text.c_str());
}

pugi::xml_node build_vcpu(pugi::xml_node parent, const GuestPlan& plan) {
  pugi::xml_node vcpu = add(parent, "vcpu", {{"placement", "static"}});
  add_text(vcpu, std::to_string(plan.vcpus.size()));
  return vcpu;
}

pugi::xml_node build_iothreads(pugi::xml_node parent, std::size_t count) {
  pugi::xml_node node = add(parent, "iothreads");
  add_text(node, std::to_string(count));
  return node;
}

void build_pins(pugi::xml_node cputune, const GuestPlan& plan, const std::vector<unsigned>& iothread_ids) {
  for (std::size_t i = 0; i < plan.vcpus.size(); ++i)
    add(cputune, "vcpupin", {{"vcpu", std::to_string(i)}, {"cpuset", std::to_string(plan.vcpus[i])}});
  if (!plan.emulator.empty()) add(cputune, "emulatorpin", {{"cpuset", plan.emulator.to_string()}});
  for (std::size_t i = 0; i < plan.iothreads.size(); ++i)
    if (!plan.iothreads[i].empty())
      add(cputune, "iothreadpin",
          {{"iothread", std::to_string(iothread_ids[i])}, {"cpuset", plan.iothreads[i].to_string()}});
}

pugi::xml_node build_topology(pugi::xml_node parent, const GuestTopology& t) {
  return add(parent, "topology",
             {{"sockets", std::to_string(t.sockets)},
              {"dies", std::to_string(t.dies)},
              {"cores", std::to_string(t.cores)},
              {"threads", std::to_string(t.threads)}});
}

pugi::xml_node build_cache(pugi::xml_node parent) { return add(parent, "cache", {{"mode", "passthrough"}}); }

pugi::xml_node build_topoext(pugi::xml_node parent) {
  return add(parent, "feature", {{"policy", "require"}, {"name", "topoext"}});
}

pugi::xml_node build_memnode(pugi::xml_node parent, const NumaCell& cell) {
  return add(parent, "memnode", {{"cellid", std::to_string(cell.cell)}, {"mode", "strict"},
                                 {"nodeset", std::to_string(cell.host_node)}});
}

pugi::xml_node build_numatune(pugi::xml_node parent, const GuestPlan& plan) {
  pugi::xml_node numatune = add(parent, "numatune");
  add(numatune, "memory", {{"mode", "strict"}, {"nodeset", plan.memory_nodes.to_string()}});
  for (const NumaCell& cell : plan.numa_cells) build_memnode(numatune, cell);
  return numatune;
}

// <cell id='0' cpus='0-7' memory='8388608' unit='KiB'/>; without a known
// memory the attribute is left out (the snippet then says to add it).
pugi::xml_node build_cell(pugi::xml_node parent, const NumaCell& cell) {
  pugi::xml_node node = add(parent, "cell", {{"id", std::to_string(cell.cell)}, {"cpus", cell.vcpus.to_string()}});
  if (cell.memory_bytes) {
    node.append_attribute("memory").set_value(std::to_string(*cell.memory_bytes / 1024).c_str());
    node.append_attribute("unit").set_value("KiB");
  }
  return node;
}

pugi::xml_node build_numa(pugi::xml_node parent, const GuestPlan& plan) {
  pugi::xml_node numa = add(parent, "numa");
  for (const NumaCell& cell : plan.numa_cells) build_cell(numa, cell);
  return numa;
}

pugi::xml_node build_cpu(pugi::xml_node parent, const GuestPlan& plan, const std::string& mode = "host-passthrough",
                         bool with_numa = true) {
  pugi::xml_node cpu = add(parent, "cpu", {{"mode", mode}, {"check", "none"}, {"migratable", "off"}});
  build_topology(cpu, plan.topology);
  if (plan.cache_passthrough) build_cache(cpu);
  if (plan.require_topoext) build_topoext(cpu);
  if (with_numa && !plan.numa_cells.empty()) build_numa(cpu, plan);
  return cpu;
}

// ---- Editing the tree without disturbing what is around -----------------------

class Editor {
 public:
  explicit Editor(Style style) : style_(std::move(style)) {}

  static unsigned depth(pugi::xml_node node) {
    unsigned d = 0;
    for (pugi::xml_node p = node.parent(); p && p.type() == pugi::node_element; p = p.parent()) ++d;
    return d;
  }

  std::string indent(unsigned depth) const {
    std::string s;
    for (unsigned i = 0; i < depth; ++i) s += style_.unit;
    return s;
  }

  // Lays out a freshly built element's children one per line, as the rest of the file.
  void reindent(pugi::xml_node node, unsigned depth) const {
    if (!style_.pretty) return;
    std::vector<pugi::xml_node> children;
    for (pugi::xml_node child : node.children())
      if (child.type() == pugi::node_element || child.type() == pugi::node_comment) children.push_back(child);
    if (children.empty()) return;
    for (pugi::xml_node child : children) {
      node.insert_child_before(pugi::node_pcdata, child).set_value((style_.nl + indent(depth + 1)).c_str());
      if (child.type() == pugi::node_element) reindent(child, depth + 1);
    }
    node.append_child(pugi::node_pcdata).set_value((style_.nl + indent(depth)).c_str());
  }

  // Copies `built` into `parent` right after `anchor` (null: as the first child),
  // on a line of its own.
  pugi::xml_node insert(pugi::xml_node parent, pugi::xml_node anchor, pugi::xml_node built) const {
    pugi::xml_node node;
    bool was_empty = !parent.first_child();
    if (anchor) node = parent.insert_copy_after(built, anchor);
    else if (parent.first_child()) node = parent.insert_copy_before(built, parent.first_child());
    else node = parent.append_copy(built);
    unsigned d = depth(node);
    if (style_.pretty) {
      parent.insert_child_before(pugi::node_pcdata, node).set_value((style_.nl + indent(d)).c_str());
      if (was_empty) parent.append_child(pugi::node_pcdata).set_value((style_.nl + indent(d - 1)).c_str());
    }
    reindent(node, d);
    return node;
  }

  // Removes an element with the line break and indentation in front of it.
  // Text in front that is not only layout (stray text in <cputune>) keeps its
  // words and loses just that line break, so patching twice adds nothing.
  static void remove(pugi::xml_node node) {
    pugi::xml_node parent = node.parent();
    pugi::xml_node before = node.previous_sibling();
    if (is_whitespace(before)) {
      parent.remove_child(before);
    } else if (before.type() == pugi::node_pcdata) {
      // Its last line break and the indentation after it, exactly what insert() adds.
      std::string_view text = before.value();
      std::size_t nl = text.rfind('\n');
      if (nl != std::string_view::npos && text.find_first_not_of(" \t", nl + 1) == std::string_view::npos) {
        if (nl > 0 && text[nl - 1] == '\r') --nl;
        before.set_value(std::string(text.substr(0, nl)).c_str());
      }
    }
    parent.remove_child(node);
  }

  // The node a new element goes after so that it stands where `node` stands
  // now: its previous sibling that is not layout whitespace (null = first).
  static pugi::xml_node anchor_before(pugi::xml_node node) {
    pugi::xml_node prev = node.previous_sibling();
    while (prev && is_whitespace(prev)) prev = prev.previous_sibling();
    return prev;
  }

  static pugi::xml_node last_non_whitespace(pugi::xml_node parent) {
    pugi::xml_node last = parent.last_child();
    while (last && is_whitespace(last)) last = last.previous_sibling();
    return last;
  }

  // Where an element named `name` goes among `parent`'s children, following
  // the order libvirt itself writes (`order`): after the last element that
  // comes before it, else before the first that comes after it, else last.
  static pugi::xml_node anchor_in_order(pugi::xml_node parent, std::string_view name,
                                        const std::vector<std::string_view>& order) {
    auto pos = std::find(order.begin(), order.end(), name);
    pugi::xml_node after, before;
    for (pugi::xml_node child : parent.children()) {
      if (child.type() != pugi::node_element) continue;
      auto at = std::find(order.begin(), order.end(), std::string_view(child.name()));
      if (at == order.end()) continue;
      if (at < pos) after = child;
      if (at > pos && !before) before = child;
    }
    if (after) return after;
    if (before) return anchor_before(before);
    return last_non_whitespace(parent);
  }

  pugi::xml_node insert_in_order(pugi::xml_node parent, pugi::xml_node built,
                                 const std::vector<std::string_view>& order) const {
    return insert(parent, anchor_in_order(parent, built.name(), order), built);
  }

 private:
  Style style_;
};

// The order of <domain>'s children in libvirt's own output (docs/formatdomain).
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
void ensure_attr(pugi::xml_node node, const char* name, const std::string& value, bool first = false) {
  pugi::xml_attribute attr = node.attribute(name);
  if (!attr) attr = first ? node.prepend_attribute(name) : node.append_attribute(name);
  attr.set_value(value.c_str());
}

// Sets the element's text, keeping the element itself (and its attributes) as they are.
void set_text(pugi::xml_node node, const std::string& text) {
  while (node.first_child()) node.remove_child(node.first_child());
  add_text(node, text);
}

// The CPU mode vpt-tune gives a domain. host-passthrough needs KVM: a TCG
// domain (type='qemu') gets QEMU's "max" CPU, which takes topology, cache
// passthrough and topoext as well.
std::string passthrough_mode(pugi::xml_node root) {
  pugi::xml_node cpu = root.child("cpu");
  const bool maximum = std::string_view(root.attribute("type").value()) == "qemu" ||
                       (cpu && std::string_view(cpu.attribute("mode").value()) == "maximum");
  return maximum ? "maximum" : "host-passthrough";
}

// An existing <cpu> becomes mode `target` with check='none' migratable='off';
// a host-model or custom CPU's <model>, <vendor> and match= go (`why` says
// the user why).
void make_passthrough(pugi::xml_node cpu, const std::string& target, std::string_view why,
                      std::vector<std::string>& notes) {
  std::string mode = cpu.attribute("mode") ? cpu.attribute("mode").value() : "custom";
  if (mode != target) {
    std::string model = detail::trimmed_text(cpu.child("model"));
    notes.push_back(fmt::format("<cpu mode='{}'>{} becomes {}: {} (the guest can no longer migrate to a host with "
                                "a different CPU)",
                                mode, model.empty() ? "" : fmt::format(" with model '{}'", model), target, why));
    for (const char* drop : {"model", "vendor"})
      while (pugi::xml_node n = cpu.child(drop)) Editor::remove(n);
    cpu.remove_attribute("match");
  }
  ensure_attr(cpu, "mode", target, true);
  set_attr(cpu, "check", "none");
  set_attr(cpu, "migratable", "off");
}

// <topology> where the old one stood, else in libvirt's order. Returns it.
pugi::xml_node put_topology(const Editor& editor, pugi::xml_node cpu, const GuestTopology& t, pugi::xml_node scratch) {
  pugi::xml_node anchor;
  if (pugi::xml_node old = cpu.child("topology")) {
    anchor = Editor::anchor_before(old);
    Editor::remove(old);
  } else {
    anchor = Editor::anchor_in_order(cpu, "topology", kCpuOrder);
  }
  return editor.insert(cpu, anchor, build_topology(scratch, t));
}

// <cache mode='passthrough'/>: an existing <cache> is switched, else one goes after `after`.
void put_cache_passthrough(const Editor& editor, pugi::xml_node cpu, pugi::xml_node after, pugi::xml_node scratch) {
  if (pugi::xml_node cache = cpu.child("cache")) {
    cache.remove_attribute("level");  // only emulate mode has a level
    set_attr(cache, "mode", "passthrough");
  } else {
    editor.insert(cpu, after ? after : Editor::anchor_in_order(cpu, "cache", kCpuOrder), build_cache(scratch));
  }
}

// The edits that own I/O threads: their count and ids, and which devices
// they serve. Shared by the plan's patch and attach_iothreads().
class DomainEditor {
 public:
  DomainEditor(pugi::xml_node root, const Style& style, std::vector<std::string>& notes)
      : root_(root), editor_(style), notes_(notes) {
    scratch_root_ = scratch_.append_child("domain");
  }

  // Gives the domain `count` iothreads; returns the id of each.
  std::vector<unsigned> patch_iothreads(std::size_t count) {
    std::vector<unsigned> ids;
    pugi::xml_node idlist = root_.child("iothreadids");
    if (idlist) {
      std::vector<pugi::xml_node> entries;
      for (pugi::xml_node entry : idlist.children("iothread")) entries.push_back(entry);
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i < count) ids.push_back(to_unsigned(entries[i].attribute("id").value()));
        else Editor::remove(entries[i]);
      }
      pugi::xml_node anchor = entries.empty() || count == 0 ? Editor::last_non_whitespace(idlist)
                                                            : entries[std::min(count, entries.size()) - 1];
      for (unsigned next = 1; ids.size() < count; ++next) {
        if (std::find(ids.begin(), ids.end(), next) != ids.end()) continue;
        ids.push_back(next);
        pugi::xml_node built = add(scratch(), "iothread", {{"id", std::to_string(next)}});
        anchor = editor_.insert(idlist, anchor, built);
      }
    } else {
      for (unsigned i = 1; i <= count; ++i) ids.push_back(i);
    }

    pugi::xml_node node = root_.child("iothreads");
    if (count == 0) {
      if (node) Editor::remove(node);
      if (idlist) Editor::remove(idlist);
    } else if (node) {
      if (detail::trimmed_text(node) != std::to_string(count)) set_text(node, std::to_string(count));
    } else {
      editor_.insert_in_order(root_, build_iothreads(scratch(), count), kDomainOrder);
    }
    return ids;
  }

  // Every virtio disk and virtio-scsi controller gets one of the iothreads
  // `ids`: a device that already names one of them keeps it, the others go to
  // the least used (the first on a tie), so they spread over the devices.
  // Devices that name an iothread not in `ids` move too; with no ids, no device
  // names one. Throws DomainInputError for a per-queue mapping
  // (<driver><iothreads>) naming a dropped iothread: that layout is the user's.
  void attach_iothreads(const std::vector<unsigned>& ids) {
    pugi::xml_node devices = root_.child("devices");
    for (pugi::xpath_node hit : devices.select_nodes(".//driver//iothread[@id]")) {
      unsigned id = to_unsigned(hit.node().attribute("id").value());
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
      pugi::xml_node device = hit.node().parent().parent().parent();
      throw DomainInputError(fmt::format(
          "cannot patch domain '{}': its <{}> maps queues to iothread {}, but the plan has {} iothread(s){}", name(),
          device.name(), id, ids.size(), ids.empty() ? "" : fmt::format(" (ids {})", fmt::join(ids, ","))));
    }
    std::map<unsigned, unsigned> load;
    for (unsigned id : ids) load[id] = 0;
    detail::StorageDevices storage = detail::storage_devices(devices);
    std::vector<pugi::xml_node> unserved;
    for (pugi::xml_node device : storage.servable) {
      pugi::xml_attribute named = device.child("driver").attribute("iothread");
      if (named && load.count(to_unsigned(named.value()))) {
        ++load[to_unsigned(named.value())];
        continue;
      }
      if (named && ids.empty()) {
        notes_.push_back(fmt::format("{} no longer names iothread {}: the plan has no I/O thread",
                                     detail::device_label(device), named.value()));
        device.child("driver").remove_attribute(named);
        continue;
      }
      if (!ids.empty()) unserved.push_back(device);
    }
    for (pugi::xml_node device : unserved) {
      unsigned id = ids.front();
      for (unsigned candidate : ids)
        if (load[candidate] < load[id]) id = candidate;
      ++load[id];
      pugi::xml_node driver = device.child("driver");
      pugi::xml_attribute named = driver.attribute("iothread");
      notes_.push_back(named ? fmt::format("{} moves from iothread {}, which the plan drops, to I/O thread {}",
                                           detail::device_label(device), named.value(), id)
                             : fmt::format("{} is served by I/O thread {} (<driver iothread='{}'/>)",
                                           detail::device_label(device), id, id));
      if (!driver) {
        pugi::xml_node built = std::string_view(device.name()) == "disk"
                                   ? add(scratch(), "driver", {{"name", "qemu"}, {"iothread", std::to_string(id)}})
                                   : add(scratch(), "driver", {{"iothread", std::to_string(id)}});
        editor_.insert(device, pugi::xml_node(), built);
      } else {
        set_attr(driver, "iothread", std::to_string(id));
      }
    }
    // Other devices (a SATA disk...) cannot use one: drop names of dropped ids.
    for (pugi::xpath_node hit : devices.select_nodes(".//driver[@iothread]")) {
      pugi::xml_node driver = hit.node();
      unsigned id = to_unsigned(driver.attribute("iothread").value());
      if (load.count(id)) continue;
      notes_.push_back(fmt::format("<{}> no longer names iothread {}, which the plan drops", driver.parent().name(), id));
      driver.remove_attribute("iothread");
    }
  }

 protected:
  pugi::xml_node scratch() {
    while (scratch_root_.first_child()) scratch_root_.remove_child(scratch_root_.first_child());
    return scratch_root_;
  }

  std::string name() const { return detail::trimmed_text(root_.child("name")); }

  pugi::xml_node root_;
  Editor editor_;
  std::vector<std::string>& notes_;
  pugi::xml_document scratch_;
  pugi::xml_node scratch_root_;
};

class Patcher : public DomainEditor {
 public:
  Patcher(pugi::xml_node root, const Style& style, const GuestPlan& plan, std::vector<std::string>& notes)
      : DomainEditor(root, style, notes), plan_(plan) {}

  void run() {
    patch_vcpu();
    std::vector<unsigned> ids = patch_iothreads(plan_.iothreads.size());
    attach_iothreads(ids);
    patch_cputune(ids);
    patch_numatune();
    patch_cpu();
    fit_vcpu_references();
  }

 private:
  void patch_vcpu() {
    const auto count = plan_.vcpus.size();
    pugi::xml_node vcpu = root_.child("vcpu");
    if (!vcpu) {
      editor_.insert_in_order(root_, build_vcpu(scratch(), plan_), kDomainOrder);
    } else {
      if (detail::trimmed_text(vcpu) != std::to_string(count)) set_text(vcpu, std::to_string(count));
      if (pugi::xml_attribute placement = vcpu.attribute("placement");
          placement && std::string_view(placement.value()) != "static") {
        numad_placed_ = std::string_view(placement.value()) == "auto";
        notes_.push_back(fmt::format("<vcpu placement='{}'> becomes 'static': every vCPU gets its own pin",
                                     placement.value()));
      }
      ensure_attr(vcpu, "placement", "static", true);
      if (pugi::xml_attribute cpuset = vcpu.attribute("cpuset")) {
        notes_.push_back(fmt::format("<vcpu cpuset='{}'> dropped: every vCPU gets its own pin", cpuset.value()));
        vcpu.remove_attribute(cpuset);
      }
      if (pugi::xml_attribute current = vcpu.attribute("current");
          current && !root_.child("vcpus") && to_unsigned(current.value()) > count) {
        notes_.push_back(fmt::format("<vcpu current='{}'> dropped: the plan has {} vCPUs", current.value(), count));
        vcpu.remove_attribute(current);
      }
    }
    if (pugi::xml_node vcpus = root_.child("vcpus")) fit_hotplug_list(vcpus, static_cast<unsigned>(count));
  }

  // <vcpus> says which vCPUs are online at start and in which order the rest
  // are hot-plugged. Keep that choice for the vCPUs the plan keeps: drop the
  // entries beyond the plan, add new vCPUs offline (or online where every vCPU
  // was), and make <vcpu current> the number online, as libvirt requires.
  void fit_hotplug_list(pugi::xml_node vcpus, unsigned count) {
    pugi::xml_node vcpu = root_.child("vcpu");
    const bool all_online = !vcpu.attribute("current");
    unsigned last_order = 0;              // 0: no entry has an order (libvirt's start at 1)
    std::set<unsigned> listed;            // ids kept, each once
    std::vector<pugi::xml_node> dropped;  // beyond the plan, or an id listed twice
    for (pugi::xml_node entry : vcpus.children("vcpu")) {
      last_order = std::max(last_order, entry.attribute("order").as_uint());
      const unsigned id = entry.attribute("id").as_uint();
      if (id >= count || !listed.insert(id).second) dropped.push_back(entry);
    }
    const bool fits = dropped.empty() && listed.size() == count;
    for (pugi::xml_node entry : dropped) Editor::remove(entry);
    pugi::xml_node anchor = vcpus.last_child();
    while (anchor && anchor.type() != pugi::node_element) anchor = anchor.previous_sibling();
    for (unsigned id = 0; id < count; ++id) {
      if (listed.count(id)) continue;
      pugi::xml_node entry = add(scratch(), "vcpu", {{"id", std::to_string(id)}, {"enabled", all_online ? "yes" : "no"},
                                                     {"hotpluggable", "yes"}});
      if (all_online && last_order > 0) entry.append_attribute("order").set_value(std::to_string(++last_order).c_str());
      anchor = editor_.insert(vcpus, anchor, entry);
    }
    if (!fits)
      notes_.push_back(all_online
                           ? fmt::format("<vcpus> lists the plan's {} vCPUs, all online at start as before", count)
                           : fmt::format("<vcpus> lists the plan's {} vCPUs: those listed online before stay online, "
                                         "the others are hot-pluggable",
                                         count));
    if (all_online) return;
    // <vcpu current> is the number the list puts online (vCPU 0 always is).
    unsigned online = 0;
    for (pugi::xml_node entry : vcpus.children("vcpu"))
      if (std::string_view(entry.attribute("enabled").value()) == "yes") ++online;
    online = std::max(online, 1u);
    if (to_unsigned(vcpu.attribute("current").value()) != online) {
      notes_.push_back(fmt::format("<vcpu current='{}'> becomes {}: the vCPUs <vcpus> puts online",
                                   printable(vcpu.attribute("current").value(), 16), online));
      ensure_attr(vcpu, "current", std::to_string(online), true);
    }
  }

  void patch_cputune(const std::vector<unsigned>& iothread_ids) {
    pugi::xml_node cputune = root_.child("cputune");
    if (!cputune) {
      pugi::xml_node built = add(scratch(), "cputune");
      build_pins(built, plan_, iothread_ids);
      editor_.insert_in_order(root_, built, kDomainOrder);
      return;
    }
    std::vector<pugi::xml_node> pins;
    for (pugi::xml_node child : cputune.children())
      if (is_pin(child)) pins.push_back(child);
    pugi::xml_node anchor;
    if (!pins.empty()) {
      anchor = Editor::anchor_before(pins.front());
      for (pugi::xml_node pin : pins) Editor::remove(pin);
    } else {
      anchor = Editor::anchor_in_order(cputune, "vcpupin", kCputuneOrder);
    }
    pugi::xml_node built = add(scratch(), "cputune");
    build_pins(built, plan_, iothread_ids);
    for (pugi::xml_node pin : built.children()) anchor = editor_.insert(cputune, anchor, pin);
  }

  void patch_numatune() {
    if (plan_.memory_nodes.empty()) {
      keep_numad_memory_placement();
      return;
    }
    pugi::xml_node numatune = root_.child("numatune");
    if (!numatune) {
      editor_.insert_in_order(root_, build_numatune(scratch(), plan_), kDomainOrder);
      return;
    }
    pugi::xml_node memory = numatune.child("memory");
    if (!memory) {
      pugi::xml_node built = add(scratch(), "memory", {{"mode", "strict"}, {"nodeset", plan_.memory_nodes.to_string()}});
      editor_.insert(numatune, pugi::xml_node(), built);
    } else {
      ensure_attr(memory, "mode", "strict", true);
      ensure_attr(memory, "nodeset", plan_.memory_nodes.to_string());
      memory.remove_attribute("placement");  // placement='auto' asks numad instead of the nodeset
    }
    if (plan_.numa_cells.empty()) {
      // Cells the plan does not own stay, but their memory follows the vCPUs.
      for (pugi::xml_node memnode : numatune.children("memnode"))
        if (std::string_view(memnode.attribute("nodeset").value()) != plan_.memory_nodes.to_string()) {
          notes_.push_back(fmt::format("<memnode cellid='{}'> takes its memory from node {} (was {}): the guest's "
                                       "vCPUs are there now",
                                       memnode.attribute("cellid").value(), plan_.memory_nodes,
                                       memnode.attribute("nodeset").value()));
          ensure_attr(memnode, "nodeset", plan_.memory_nodes.to_string());
        }
      return;
    }
    // One <memnode> per cell, strict, on its host node: replaced in place.
    std::map<unsigned, pugi::xml_node> old;
    for (pugi::xml_node memnode : numatune.children("memnode"))
      old[to_unsigned(memnode.attribute("cellid").value())] = memnode;
    pugi::xml_node anchor = numatune.child("memory");
    for (const NumaCell& cell : plan_.numa_cells) {
      auto it = old.find(cell.cell);
      if (it == old.end()) {
        anchor = editor_.insert(numatune, anchor, build_memnode(scratch(), cell));
        continue;
      }
      ensure_attr(it->second, "mode", "strict");
      ensure_attr(it->second, "nodeset", std::to_string(cell.host_node));
      anchor = it->second;
      old.erase(it);
    }
    for (auto& [id, memnode] : old) Editor::remove(memnode);
  }

  // <numatune><memory> without nodeset or placement takes <vcpu>'s placement;
  // once that is 'static' libvirt wants a nodeset. With no node of its own
  // to give, the plan keeps numad's memory placement by saying it.
  void keep_numad_memory_placement() {
    pugi::xml_node memory = root_.child("numatune").child("memory");
    if (!numad_placed_ || !memory || memory.attribute("nodeset") || memory.attribute("placement")) return;
    ensure_attr(memory, "placement", "auto");
    notes_.push_back("<numatune><memory> gets placement='auto': numad still places the memory, as <vcpu "
                     "placement='auto'> had it do");
  }

  std::uint64_t memory_of(pugi::xml_node memory) const {
    auto bytes = detail::memory_bytes(memory);
    if (!bytes)
      throw DomainInputError(fmt::format("cannot patch domain '{}': <memory> '{}' is not a memory size", name(),
                                         memory.child_value()));
    return *bytes;
  }

  // <cpu><numa>: one cell per host node the guest spans, its memory from the
  // plan or else the domain's <memory> split by vCPUs.
  void patch_numa_cells(pugi::xml_node cpu) {
    if (plan_.numa_cells.empty()) return;
    std::vector<NumaCell> cells = plan_.numa_cells;
    if (std::any_of(cells.begin(), cells.end(), [](const NumaCell& c) { return !c.memory_bytes; })) {
      pugi::xml_node memory = root_.child("memory");
      if (!memory)
        throw DomainInputError(fmt::format("cannot patch domain '{}': it has no <memory> to split over its {} NUMA "
                                           "cells", name(), cells.size()));
      size_numa_cells(cells, memory_of(memory));
    }
    pugi::xml_node numa = cpu.child("numa");
    if (!numa) {
      pugi::xml_node built = add(scratch(), "numa");
      for (const NumaCell& cell : cells) build_cell(built, cell);
      editor_.insert(cpu, Editor::anchor_in_order(cpu, "numa", kCpuOrder), built);
      return;
    }
    std::map<unsigned, pugi::xml_node> old;
    for (pugi::xml_node c : numa.children("cell")) old[to_unsigned(c.attribute("id").value())] = c;
    pugi::xml_node anchor;
    for (const NumaCell& cell : cells) {
      auto it = old.find(cell.cell);
      if (it == old.end()) {
        anchor = editor_.insert(numa, anchor, build_cell(scratch(), cell));
        continue;
      }
      // Same cell id: cpus and memory are the plan's; memAccess, discard and distances stay.
      ensure_attr(it->second, "cpus", cell.vcpus.to_string());
      ensure_attr(it->second, "memory", std::to_string(*cell.memory_bytes / 1024));
      ensure_attr(it->second, "unit", "KiB");
      anchor = it->second;
      old.erase(it);
    }
    for (auto& [id, c] : old) Editor::remove(c);
    std::uint64_t sum = 0;
    for (const NumaCell& cell : cells) sum += *cell.memory_bytes;
    if (pugi::xml_node memory = root_.child("memory"); memory && memory_of(memory) != sum)
      notes_.push_back(fmt::format("the NUMA cells add up to {} MiB and <memory> says {} MiB: libvirt makes the "
                                   "guest's memory the cells' sum",
                                   sum >> 20, memory_of(memory) >> 20));
  }

  void patch_cpu() {
    pugi::xml_node cpu = root_.child("cpu");
    const std::string target = passthrough_mode(root_);
    if (!cpu) {
      patch_numa_cells(editor_.insert_in_order(root_, build_cpu(scratch(), plan_, target, false), kDomainOrder));
      return;
    }
    make_passthrough(cpu, target, "cache passthrough needs the host's own CPU", notes_);
    pugi::xml_node topology = put_topology(editor_, cpu, plan_.topology, scratch());
    if (plan_.cache_passthrough) put_cache_passthrough(editor_, cpu, topology, scratch());
    patch_numa_cells(cpu);
    if (plan_.require_topoext) {
      pugi::xml_node topoext = cpu.find_child_by_attribute("feature", "name", "topoext");
      if (topoext) {
        ensure_attr(topoext, "policy", "require", true);
      } else {
        pugi::xml_node after = topology;
        for (pugi::xml_node child : cpu.children())
          if (std::string_view(child.name()) == "cache" || std::string_view(child.name()) == "feature" ||
              std::string_view(child.name()) == "maxphysaddr")
            after = child;
        editor_.insert(cpu, after, build_topoext(scratch()));
      }
    }
  }

  // Elements the plan does not own that name vCPUs by number: libvirt refuses
  // a definition where they name vCPUs it no longer has ("vCPU '4' is not
  // present"), and a guest NUMA cell must hold every vCPU.
  void fit_vcpu_references() {
    const auto count = static_cast<unsigned>(plan_.vcpus.size());
    const CpuSet planned = CpuSet::range(0, count - 1);
    auto parsed = [](pugi::xml_node node, const char* attr) -> std::optional<CpuSet> {
      try {
        return parse_libvirt_cpuset(node.attribute(attr).value());
      } catch (const std::invalid_argument&) {
        return std::nullopt;  // not ours to judge: libvirt reports it when the definition is used
      }
    };
    std::vector<pugi::xml_node> gone;
    for (pugi::xml_node child : root_.child("cputune").children()) {
      const std::string_view tag = child.name();
      if (tag != "vcpusched" && tag != "cachetune" && tag != "memorytune") continue;
      std::optional<CpuSet> vcpus = parsed(child, "vcpus");
      if (!vcpus || planned.contains(*vcpus)) continue;
      CpuSet kept = *vcpus;
      kept &= planned;
      if (kept.empty()) {
        notes_.push_back(fmt::format("<{} vcpus='{}'> dropped: the plan has vCPUs 0-{}", tag, *vcpus, count - 1));
        gone.push_back(child);
      } else {
        notes_.push_back(fmt::format("<{} vcpus='{}'> now names vCPUs {}: the plan has vCPUs 0-{}", tag, *vcpus,
                                     kept, count - 1));
        ensure_attr(child, "vcpus", kept.to_string());
      }
    }
    for (pugi::xml_node node : gone) Editor::remove(node);
    if (plan_.numa_cells.empty()) fit_guest_numa_cells(count, parsed);
  }

  // The guest's own NUMA cells, where the plan has none (one host node): their
  // vCPUs must be exactly the plan's. When they are not, the vCPUs are dealt
  // out again in order, a contiguous block per cell (the earlier cells take
  // the remainder); memory, distances and memAccess stay as they are.
  template <class Parse>
  void fit_guest_numa_cells(unsigned count, Parse parsed) {
    std::vector<pugi::xml_node> cells;
    CpuSet named;
    for (pugi::xml_node cell : root_.child("cpu").child("numa").children("cell")) {
      if (!cell.attribute("cpus")) continue;  // a memory-only cell
      std::optional<CpuSet> cpus = parsed(cell, "cpus");
      if (!cpus) return;
      named |= *cpus;
      cells.push_back(cell);
    }
    if (cells.empty() || named == CpuSet::range(0, count - 1)) return;
    if (count < cells.size())
      throw DomainInputError(fmt::format("cannot patch domain '{}': its <cpu><numa> has {} cells with vCPUs and the "
                                         "plan {} vCPUs; ask for at least {} (--vcpus) or remove cells",
                                         name(), cells.size(), count, cells.size()));
    const auto n = static_cast<unsigned>(cells.size());
    unsigned next = 0;
    std::vector<std::string> parts;
    for (unsigned i = 0; i < n; ++i) {
      const unsigned size = count / n + (i < count % n ? 1 : 0);
      const CpuSet block = CpuSet::range(next, next + size - 1);
      next += size;
      ensure_attr(cells[i], "cpus", block.to_string());
      parts.push_back(fmt::format("cell {} vCPUs {}", cells[i].attribute("id").as_uint(), block));
    }
    notes_.push_back(fmt::format("<cpu><numa> now holds the plan's {} vCPUs: {} (its memory stays)", count,
                                 fmt::join(parts, ", ")));
  }

  const GuestPlan& plan_;
  bool numad_placed_ = false;  // the domain had <vcpu placement='auto'>
};

// ---- Settings besides a plan (check --fix) ----------------------------------

// libvirt's output order of these elements' children (docs/formatdomain and
// the order of its enums: virDomainFeature, virDomainHyperv, virDomainKVM).
const std::vector<std::string_view> kFeaturesOrder = {
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "capabilities", "pmu",
    "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist", "xen", "cfpc",
    "sbbc", "ibs", "tcg", "async-teardown"};
const std::vector<std::string_view> kHypervOrder = {
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset", "vendor_id", "frequencies",
    "reenlightenment", "tlbflush", "ipi", "evmcs", "avic", "emsr_bitmap", "xmm_input"};
const std::vector<std::string_view> kKvmOrder = {"hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring"};
const std::vector<std::string_view> kMemoryBackingOrder = {"hugepages", "nosharepages", "locked", "source",
                                                           "access", "allocation", "discard"};
const std::vector<std::string_view> kDevicesOrder = {
    "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial", "parallel",
    "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video", "hostdev", "redirdev",
    "redirfilter", "hub", "watchdog", "memballoon", "rng", "panic", "shmem", "memory", "iommu", "vsock", "crypto",
    "pstore"};

// Retries before a spinning vCPU notifies the hypervisor: 8191 (0x1fff), the
// value virt-manager and Proxmox (qemu-server, CPUConfig.pm) give Windows.
constexpr const char* kSpinlockRetries = "8191";

// The names in `wanted`, sorted by their place in `order` (unknown names last).
std::vector<std::string> in_order(std::vector<std::string> wanted, const std::vector<std::string_view>& order) {
  auto rank = [&](const std::string& name) { return std::find(order.begin(), order.end(), name) - order.begin(); };
  std::stable_sort(wanted.begin(), wanted.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  return wanted;
}

class TuningPatcher {
 public:
  TuningPatcher(pugi::xml_node root, const Style& style, const DomainTuning& tuning, std::vector<std::string>& notes)
      : root_(root), editor_(style), tuning_(tuning), notes_(notes) {
    scratch_root_ = scratch_.append_child("domain");
  }

  void run() {
    patch_memory_backing();
    patch_helper_pins();
    patch_features();
    patch_cpu();
    patch_clock();
    patch_devices();
  }

 private:
  pugi::xml_node scratch() {
    while (scratch_root_.first_child()) scratch_root_.remove_child(scratch_root_.first_child());
    return scratch_root_;
  }

  // `parent`'s child `name`, created in libvirt's order when missing.
  pugi::xml_node child_or_insert(pugi::xml_node parent, const char* name, const std::vector<std::string_view>& order,
                                 std::initializer_list<std::pair<const char*, std::string>> attrs = {}) {
    if (pugi::xml_node existing = parent.child(name)) return existing;
    return editor_.insert_in_order(parent, add(scratch(), name, attrs), order);
  }

  void patch_memory_backing() {
    if (!tuning_.hugepages) return;
    pugi::xml_node backing = child_or_insert(root_, "memoryBacking", kDomainOrder);
    pugi::xml_node hugepages = child_or_insert(backing, "hugepages", kMemoryBackingOrder);
    if (tuning_.hugepage_bytes && !hugepages.child("page"))
      editor_.insert(hugepages, pugi::xml_node(),
                     add(scratch(), "page", {{"size", std::to_string(*tuning_.hugepage_bytes / 1024)}, {"unit", "KiB"}}));
  }

  // Switches on each of `names` under `parent` (<hyperv> or <kvm>).
  void switch_on(pugi::xml_node parent, const std::vector<std::string>& names,
                 const std::vector<std::string_view>& order) {
    for (const std::string& name : in_order(names, order)) {
      if (pugi::xml_node existing = parent.child(name.c_str())) {
        ensure_attr(existing, "state", "on", true);
        if (name == "spinlocks" && !existing.attribute("retries")) set_attr(existing, "retries", kSpinlockRetries);
        continue;
      }
      pugi::xml_node built = add(scratch(), name.c_str(), {{"state", "on"}});
      if (name == "spinlocks") set_attr(built, "retries", kSpinlockRetries);
      editor_.insert_in_order(parent, built, order);
    }
  }

  // One pin element of <cputune>: its cpuset replaced, or the element added in libvirt's order.
  void put_pin(pugi::xml_node cputune, const char* name, const char* id_attr, const std::string& id,
               const CpuSet& cpus) {
    pugi::xml_node pin = id_attr ? cputune.find_child_by_attribute(name, id_attr, id.c_str()) : cputune.child(name);
    if (pin) {
      set_attr(pin, "cpuset", cpus.to_string());
      return;
    }
    pugi::xml_node built = id_attr ? add(scratch(), name, {{id_attr, id}, {"cpuset", cpus.to_string()}})
                                   : add(scratch(), name, {{"cpuset", cpus.to_string()}});
    pugi::xml_node after;
    for (pugi::xml_node p : cputune.children(name)) after = p;
    if (after) editor_.insert(cputune, after, built);
    else editor_.insert_in_order(cputune, built, kCputuneOrder);
  }

  void patch_helper_pins() {
    if (!tuning_.emulator_pin && tuning_.iothread_pins.empty() && tuning_.vcpu_pins.empty()) return;
    pugi::xml_node cputune = child_or_insert(root_, "cputune", kDomainOrder);
    for (const auto& [vcpu, cpus] : tuning_.vcpu_pins) put_pin(cputune, "vcpupin", "vcpu", std::to_string(vcpu), cpus);
    if (tuning_.emulator_pin) put_pin(cputune, "emulatorpin", nullptr, "", *tuning_.emulator_pin);
    for (const auto& [id, cpus] : tuning_.iothread_pins)
      put_pin(cputune, "iothreadpin", "iothread", std::to_string(id), cpus);
  }

  void patch_features() {
    const bool hyperv_change = !tuning_.hyperv_on.empty() || tuning_.hyperv_vendor_id;
    if (!hyperv_change && tuning_.kvm_on.empty()) return;
    pugi::xml_node features = child_or_insert(root_, "features", kDomainOrder);
    if (hyperv_change) {
      pugi::xml_node hyperv = child_or_insert(features, "hyperv", kFeaturesOrder, {{"mode", "custom"}});
      // mode='passthrough' already gives every enlightenment KVM has.
      if (std::string_view(hyperv.attribute("mode").value()) != "passthrough")
        switch_on(hyperv, tuning_.hyperv_on, kHypervOrder);
      if (tuning_.hyperv_vendor_id && !hyperv.child("vendor_id"))
        editor_.insert_in_order(hyperv, add(scratch(), "vendor_id", {{"state", "on"}, {"value", *tuning_.hyperv_vendor_id}}),
                                kHypervOrder);
    }
    if (!tuning_.kvm_on.empty()) switch_on(child_or_insert(features, "kvm", kFeaturesOrder), tuning_.kvm_on, kKvmOrder);
  }

  void patch_cpu() {
    const bool mode = tuning_.cpu_host_passthrough;
    if (!mode && !tuning_.cpu_migratable_off && !tuning_.topology && !tuning_.cache_passthrough) return;
    pugi::xml_node cpu = root_.child("cpu");
    if (!cpu) {
      pugi::xml_node built = add(scratch(), "cpu");
      if (mode) {
        set_attr(built, "mode", passthrough_mode(root_));
        set_attr(built, "check", "none");
        set_attr(built, "migratable", "off");
      }
      cpu = editor_.insert_in_order(root_, built, kDomainOrder);
    } else if (mode) {
      make_passthrough(cpu, passthrough_mode(root_), "the guest gets the host's CPU features and caches", notes_);
    }
    const std::string_view now = cpu.attribute("mode").value();
    if (tuning_.cpu_migratable_off && (now == "host-passthrough" || now == "maximum")) set_attr(cpu, "migratable", "off");
    pugi::xml_node topology = tuning_.topology ? put_topology(editor_, cpu, *tuning_.topology, scratch()) : cpu.child("topology");
    if (tuning_.cache_passthrough) put_cache_passthrough(editor_, cpu, topology, scratch());
  }

  void patch_clock() {
    if (tuning_.timers.empty()) return;
    pugi::xml_node clock = root_.child("clock");
    if (!clock) {
      // offset='utc' is what libvirt assumes without <clock>: the guest's time does not change.
      clock = editor_.insert_in_order(root_, add(scratch(), "clock", {{"offset", "utc"}}), kDomainOrder);
      notes_.push_back("added <clock offset='utc'> (libvirt's default) to hold the timers");
    }
    for (const auto& [name, present] : tuning_.timers) {
      const std::string value = present ? "yes" : "no";
      if (pugi::xml_node timer = clock.find_child_by_attribute("timer", "name", name.c_str())) {
        set_attr(timer, "present", value);
        continue;
      }
      pugi::xml_node after;
      for (pugi::xml_node t : clock.children("timer")) after = t;
      if (!after) after = Editor::last_non_whitespace(clock);
      editor_.insert(clock, after, add(scratch(), "timer", {{"name", name}, {"present", value}}));
    }
  }

  void patch_devices() {
    if (!tuning_.memballoon_none && tuning_.disk_cache_none.empty() && tuning_.disk_io_native.empty()) return;
    pugi::xml_node devices = child_or_insert(root_, "devices", kDomainOrder);
    if (tuning_.memballoon_none) {
      if (pugi::xml_node balloon = devices.child("memballoon")) {
        if (std::string_view(balloon.attribute("model").value()) != "none") {
          // Its address, stats period and driver options belong to the virtio device that goes.
          while (balloon.first_child()) balloon.remove_child(balloon.first_child());
          std::vector<std::string> drop;
          for (pugi::xml_attribute a : balloon.attributes())
            if (std::string_view(a.name()) != "model") drop.push_back(a.name());
          for (const std::string& name : drop) balloon.remove_attribute(name.c_str());
          set_attr(balloon, "model", "none");
        }
      } else {
        editor_.insert_in_order(devices, add(scratch(), "memballoon", {{"model", "none"}}), kDevicesOrder);
        notes_.push_back("added <memballoon model='none'/>: without it libvirt gives the guest a virtio balloon");
      }
    }
    for (const auto& [targets, attr, value] : {std::tuple{&tuning_.disk_cache_none, "cache", "none"},
                                               std::tuple{&tuning_.disk_io_native, "io", "native"}})
      for (const std::string& target : *targets) set_disk_driver(devices, target, attr, value);
  }

  // <driver attr=value> of the disk whose <target dev> is `target`.
  void set_disk_driver(pugi::xml_node devices, const std::string& target, const char* attr, const char* value) {
    pugi::xml_node disk;
    for (pugi::xml_node d : devices.children("disk"))
      if (target == d.child("target").attribute("dev").value()) disk = d;
    if (!disk)
      throw DomainInputError(fmt::format("cannot patch domain '{}': it has no disk '{}'",
                                         detail::trimmed_text(root_.child("name")), target));
    pugi::xml_node driver = disk.child("driver");
    if (!driver) driver = editor_.insert(disk, pugi::xml_node(), add(scratch(), "driver", {{"name", "qemu"}}));
    set_attr(driver, attr, value);
  }

  pugi::xml_node root_;
  Editor editor_;
  const DomainTuning& tuning_;
  std::vector<std::string>& notes_;
  pugi::xml_document scratch_;
  pugi::xml_node scratch_root_;
};

unsigned save_flags(const Style& style) {
  unsigned flags = pugi::format_raw | pugi::format_no_declaration | pugi::format_no_escapes;
  if (style.single_quote) flags |= pugi::format_attribute_single_quote;
  return flags;
}

// With entities kept as written (format_no_escapes), a value holding the
// quote character it will be written in must have that quote escaped.
void escape_quotes(pugi::xml_node node, bool single_quote) {
  const char quote = single_quote ? '\'' : '"';
  const char* entity = single_quote ? "&apos;" : "&quot;";
  for (pugi::xml_attribute attr : node.attributes()) {
    std::string value = attr.value();
    if (value.find(quote) == std::string::npos) continue;
    std::string escaped;
    for (char c : value) escaped += c == quote ? std::string(entity) : std::string(1, c);
    attr.set_value(escaped.c_str());
  }
  for (pugi::xml_node child : node.children())
    if (child.type() == pugi::node_element || child.type() == pugi::node_declaration) escape_quotes(child, single_quote);
}

// pugixml writes every attribute in one quote style, while `virsh dumpxml`
// keeps what applications wrote in <metadata> ("..." in single-quoted
// files). Lines the patch did not change are put back exactly as they were:
// lines of the patched text that match a line of the original up to the
// quote characters (longest common subsequence) are copied from the original.
// Only where the patched text has its delimiter (`quote`, which it writes as
// an entity inside values) may the original have the other quote. Inside a
// value spanning lines even that can change what a quote closes, so the
// result must read as the same document as the patched text, or the patched
// text is returned as pugixml wrote it (found by tests/fuzz/domain_patch_fuzz.cpp).
std::string keep_original_lines(std::string_view original, const std::string& patched, char quote) {
  const char other = quote == '"' ? '\'' : '"';
  auto same = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i] && !(a[i] == other && b[i] == quote)) return false;
    return true;
  };
  const auto a = split_lines(original), b = split_lines(patched);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      at(i, j) = same(a[i], b[j]) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  std::string out;
  out.reserve(patched.size());
  for (std::size_t i = 0, j = 0; j < m;) {
    if (i < n && same(a[i], b[j])) {
      out += a[i];
      ++i, ++j;
    } else if (i < n && at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      out += b[j];
      ++j;
    }
  }
  auto canonical = [](std::string_view text) -> std::optional<std::string> {
    pugi::xml_document doc;
    const unsigned flags = pugi::parse_default | pugi::parse_comments | pugi::parse_pi | pugi::parse_declaration |
                           pugi::parse_doctype | pugi::parse_fragment;
    if (!doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8)) return std::nullopt;
    std::ostringstream printed;
    doc.save(printed, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
    return printed.str();
  };
  if (out != patched && canonical(out) != canonical(patched)) return patched;
  return out;
}

}  // namespace

std::string plan_snippet_xml(const GuestPlan& plan) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("domain");
  build_vcpu(root, plan);
  if (!plan.iothreads.empty()) build_iothreads(root, plan.iothreads.size());
  std::vector<unsigned> ids;
  for (unsigned i = 1; i <= plan.iothreads.size(); ++i) ids.push_back(i);
  build_pins(add(root, "cputune"), plan, ids);
  if (!plan.memory_nodes.empty()) build_numatune(root, plan);
  pugi::xml_node cpu = build_cpu(root, plan);
  if (!plan.numa_cells.empty() && !plan.numa_cells.front().memory_bytes)
    cpu.child("numa").prepend_child(pugi::node_comment).set_value(
        " add memory='...' unit='KiB' to each cell: the guest's memory split over the cells ");
  if (!plan.iothreads.empty())
    root.append_child(pugi::node_comment).set_value(
        (plan.iothreads.size() == 1
             ? std::string(" and in each virtio <disk> and virtio-scsi <controller>: <driver ... iothread='1'/> ")
             : fmt::format(" and in each virtio <disk> and virtio-scsi <controller>: <driver ... iothread='N'/>, "
                           "N from 1 to {} spread over them ", plan.iothreads.size()))
            .c_str());

  Style style;
  Editor editor(style);
  std::ostringstream out;
  for (pugi::xml_node child : root.children()) {
    if (child.type() == pugi::node_element) editor.reindent(child, 0);
    child.print(out, "", save_flags(style));
    out << '\n';
  }
  return out.str();
}

namespace {

// Every patch: read the definition, let `edit` change the tree (it adds its
// notes), write it in the definition's own style and keep every line the edit
// did not change exactly as it was.
template <typename Edit>
PatchResult edit_domain(std::string_view original, Edit&& edit) {
  pugi::xml_document doc;
  detail::load_domain_document(doc, original, "input", /*raw=*/true);
  pugi::xml_node root = doc.document_element();
  const Style style = detect_style(original, root);
  PatchResult result;
  edit(root, style, result.notes);
  escape_quotes(doc, style.single_quote);
  std::ostringstream out;
  doc.save(out, "", save_flags(style), pugi::encoding_utf8);
  result.xml = keep_original_lines(original, out.str(), style.single_quote ? '\'' : '"');
  return result;
}

}  // namespace

PatchResult patch_domain(std::string_view original, const GuestPlan& plan) {
  return edit_domain(original, [&](pugi::xml_node root, const Style& style, std::vector<std::string>& notes) {
    if (plan.vcpus.empty())
      throw DomainInputError(fmt::format("cannot patch domain '{}': the plan has no vCPUs",
                                         detail::trimmed_text(root.child("name"))));
    Patcher(root, style, plan, notes).run();
  });
}

std::string patch_domain_xml(std::string_view original, const GuestPlan& plan) {
  return patch_domain(original, plan).xml;
}

bool DomainTuning::empty() const {
  return hyperv_on.empty() && !hyperv_vendor_id && !emulator_pin && iothread_pins.empty() && vcpu_pins.empty() &&
         kvm_on.empty() &&
         timers.empty() && !cpu_host_passthrough && !cpu_migratable_off &&
         !topology && !cache_passthrough && !memballoon_none && !hugepages && disk_cache_none.empty() &&
         disk_io_native.empty();
}

void DomainTuning::merge(const DomainTuning& other) {
  auto add_all = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const std::string& s : from)
      if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
  };
  add_all(hyperv_on, other.hyperv_on);
  add_all(kvm_on, other.kvm_on);
  add_all(disk_cache_none, other.disk_cache_none);
  add_all(disk_io_native, other.disk_io_native);
  for (const auto& [name, present] : other.timers) timers[name] = present;
  if (other.hyperv_vendor_id) hyperv_vendor_id = other.hyperv_vendor_id;
  if (other.emulator_pin) emulator_pin = other.emulator_pin;
  for (const auto& [id, cpus] : other.iothread_pins) iothread_pins[id] = cpus;
  for (const auto& [vcpu, cpus] : other.vcpu_pins) vcpu_pins[vcpu] = cpus;
  cpu_host_passthrough |= other.cpu_host_passthrough;
  cpu_migratable_off |= other.cpu_migratable_off;
  if (other.topology) topology = other.topology;
  cache_passthrough |= other.cache_passthrough;
  memballoon_none |= other.memballoon_none;
  hugepages |= other.hugepages;
  if (other.hugepage_bytes) hugepage_bytes = other.hugepage_bytes;
}

PatchResult patch_domain(std::string_view original, const DomainTuning& tuning) {
  return edit_domain(original, [&](pugi::xml_node root, const Style& style, std::vector<std::string>& notes) {
    TuningPatcher(root, style, tuning, notes).run();
  });
}

PatchResult attach_iothreads(std::string_view original, std::size_t count) {
  return edit_domain(original, [&](pugi::xml_node root, const Style& style, std::vector<std::string>& notes) {
    DomainEditor editor(root, style, notes);
    std::vector<unsigned> ids = editor.patch_iothreads(count);
    editor.attach_iothreads(ids);
    // A pin of an iothread the domain no longer has would make libvirt refuse it.
    std::vector<pugi::xml_node> stale;
    for (pugi::xml_node pin : root.child("cputune").children("iothreadpin"))
      if (std::find(ids.begin(), ids.end(), to_unsigned(pin.attribute("iothread").value())) == ids.end())
        stale.push_back(pin);
    for (pugi::xml_node pin : stale) {
      notes.push_back(fmt::format("<iothreadpin iothread='{}'> dropped: the domain has no such iothread now",
                                  pin.attribute("iothread").value()));
      Editor::remove(pin);
    }
  });
}

}  // namespace vpt
