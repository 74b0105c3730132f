// The elements a plan puts into a domain definition, built fresh (for the
// snippet a user pastes and for a definition that lacks them) and the <cpu>
// edits both patchers make. Internal to virt/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "optimizer/plan.hpp"
#include "virt/xml_edit.hpp"

namespace vpt::detail {

// Each appends the element to `parent` and returns it.
pugi::xml_node build_vcpu(pugi::xml_node parent, const GuestPlan& plan);
pugi::xml_node build_iothreads(pugi::xml_node parent, std::size_t count);
// <vcpupin>s, <emulatorpin>, <iothreadpin>s (plan iothread i pinned as id iothread_ids[i]).
void build_pins(pugi::xml_node cputune, const GuestPlan& plan, const std::vector<unsigned>& iothread_ids);
pugi::xml_node build_topology(pugi::xml_node parent, const GuestTopology& t);
pugi::xml_node build_cache(pugi::xml_node parent);
pugi::xml_node build_topoext(pugi::xml_node parent);
pugi::xml_node build_memnode(pugi::xml_node parent, const NumaCell& cell);
pugi::xml_node build_numatune(pugi::xml_node parent, const GuestPlan& plan);
// <cell id='0' cpus='0-7' memory='8388608' unit='KiB'/>; without a known
// memory the attribute is left out (the snippet then says to add it).
pugi::xml_node build_cell(pugi::xml_node parent, const NumaCell& cell);
pugi::xml_node build_numa(pugi::xml_node parent, const GuestPlan& plan);
pugi::xml_node build_cpu(pugi::xml_node parent, const GuestPlan& plan, const std::string& mode = "host-passthrough",
                         bool with_numa = true);

// The CPU mode vpt-tune gives a domain. host-passthrough needs KVM: a TCG
// domain (type='qemu') gets QEMU's "max" CPU, which takes topology, cache
// passthrough and topoext as well.
std::string passthrough_mode(pugi::xml_node root);
// An existing <cpu> becomes mode `target` with check='none' migratable='off';
// a host-model or custom CPU's <model>, <vendor> and match= go (`why` tells
// the user why, in `notes`).
void make_passthrough(pugi::xml_node cpu, const std::string& target, std::string_view why,
                      std::vector<std::string>& notes);
// <topology> where the old one stood, else in libvirt's order. Returns it.
pugi::xml_node put_topology(const Editor& editor, pugi::xml_node cpu, const GuestTopology& t, pugi::xml_node scratch);
// <cache mode='passthrough'/>: an existing <cache> is switched, else one goes after `after`.
void put_cache_passthrough(const Editor& editor, pugi::xml_node cpu, pugi::xml_node after, pugi::xml_node scratch);

}  // namespace vpt::detail
