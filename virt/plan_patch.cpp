// The plan's patch of a definition (patch_domain with a GuestPlan) and the
// I/O-thread edits it shares with attach_iothreads().
#include "virt/domain_xml.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/text.hpp"
#include "virt/domain.hpp"
#include "virt/domain_elements.hpp"
#include "virt/xml_edit.hpp"
#include "virt/xml_save.hpp"
#include "virt/xml_util.hpp"

namespace vpt {

namespace detail {
namespace {

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

}  // namespace
}  // namespace detail

PatchResult patch_domain(std::string_view original, const GuestPlan& plan) {
  return detail::edit_domain(original, [&](pugi::xml_node root, const detail::Style& style, std::vector<std::string>& notes) {
    if (plan.vcpus.empty())
      throw DomainInputError(fmt::format("cannot patch domain '{}': the plan has no vCPUs",
                                         detail::trimmed_text(root.child("name"))));
    detail::Patcher(root, style, plan, notes).run();
  });
}

std::string patch_domain_xml(std::string_view original, const GuestPlan& plan) {
  return patch_domain(original, plan).xml;
}

PatchResult attach_iothreads(std::string_view original, std::size_t count) {
  return detail::edit_domain(original, [&](pugi::xml_node root, const detail::Style& style, std::vector<std::string>& notes) {
    detail::DomainEditor editor(root, style, notes);
    std::vector<unsigned> ids = editor.patch_iothreads(count);
    editor.attach_iothreads(ids);
    // A pin of an iothread the domain no longer has would make libvirt refuse it.
    std::vector<pugi::xml_node> stale;
    for (pugi::xml_node pin : root.child("cputune").children("iothreadpin"))
      if (std::find(ids.begin(), ids.end(), detail::to_unsigned(pin.attribute("iothread").value())) == ids.end())
        stale.push_back(pin);
    for (pugi::xml_node pin : stale) {
      notes.push_back(fmt::format("<iothreadpin iothread='{}'> dropped: the domain has no such iothread now",
                                  pin.attribute("iothread").value()));
      detail::Editor::remove(pin);
    }
  });
}

}  // namespace vpt
