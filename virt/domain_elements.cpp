#include "virt/domain_elements.hpp"

#include <sstream>

#include <fmt/format.h>

#include "virt/xml_util.hpp"

namespace vpt {

namespace detail {

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

pugi::xml_node build_cpu(pugi::xml_node parent, const GuestPlan& plan, const std::string& mode, bool with_numa) {
  pugi::xml_node cpu = add(parent, "cpu", {{"mode", mode}, {"check", "none"}, {"migratable", "off"}});
  build_topology(cpu, plan.topology);
  if (plan.cache_passthrough) build_cache(cpu);
  if (plan.require_topoext) build_topoext(cpu);
  if (with_numa && !plan.numa_cells.empty()) build_numa(cpu, plan);
  return cpu;
}

std::string passthrough_mode(pugi::xml_node root) {
  pugi::xml_node cpu = root.child("cpu");
  const bool maximum = std::string_view(root.attribute("type").value()) == "qemu" ||
                       (cpu && std::string_view(cpu.attribute("mode").value()) == "maximum");
  return maximum ? "maximum" : "host-passthrough";
}

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

void put_cache_passthrough(const Editor& editor, pugi::xml_node cpu, pugi::xml_node after, pugi::xml_node scratch) {
  if (pugi::xml_node cache = cpu.child("cache")) {
    cache.remove_attribute("level");  // only emulate mode has a level
    set_attr(cache, "mode", "passthrough");
  } else {
    editor.insert(cpu, after ? after : Editor::anchor_in_order(cpu, "cache", kCpuOrder), build_cache(scratch));
  }
}

}  // namespace detail

std::string plan_snippet_xml(const GuestPlan& plan) {
  using namespace detail;  // the builders above
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

}  // namespace vpt
