// Writing a GuestPlan into libvirt domain XML: the snippet a user pastes, the
// whole definition patched in place, and a unified diff between the two texts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"

namespace vpt {

// The elements the plan owns, as a user pastes them into `virsh edit`:
// <vcpu>, <iothreads>, <cputune> pins, <numatune> (when the plan places
// memory) and <cpu mode='host-passthrough'> with topology, cache and topoext.
std::string plan_snippet_xml(const GuestPlan& plan);

struct PatchResult {
  std::string xml;
  // What the patch decided that a user should know ("<cpu mode='host-model'>
  // becomes host-passthrough", "<vcpus> dropped: it listed 8 vCPUs, the plan has 6").
  std::vector<std::string> notes;
};

// Merges the plan into a domain definition. Replaces or inserts only what the
// plan owns and keeps every other node, attribute order, comment and
// whitespace as it was:
//  - <vcpu>: the count and placement='static'; cpuset= is dropped (every vCPU
//    gets its own pin); current= stays while it is not above the new count.
//  - <vcpus>: kept when it lists as many vCPUs as the plan has, else dropped
//    (with current=): its hotplug layout was for another count.
//  - <iothreads>: the plan's count. <iothreadids>, when present, keeps its
//    first ids, gains the smallest unused ones, loses the rest; the plan's
//    iothread i is pinned to the i-th id.
//  - <cputune>: <vcpupin>, <emulatorpin>, <iothreadpin> are replaced; shares,
//    period, quota, *sched, cachetune, memorytune stay.
//  - <cpu>: mode='host-passthrough' check='none' migratable='off' (a
//    host-model or custom CPU's <model>, <vendor> and match= go: cache
//    passthrough needs the host's CPU), <topology>, <cache mode='passthrough'/>
//    when the plan asks for it, topoext required when the plan asks for it.
//    Other <feature>s and <numa> cells stay. A TCG domain (type='qemu') or
//    one already in mode='maximum' gets mode='maximum' instead: QEMU without
//    KVM cannot start host-passthrough.
//  - <numatune><memory mode='strict' nodeset=.../>: only when the plan
//    places memory; <memnode>s stay. Without, an existing <numatune> stays.
// Patching a patched definition with the same plan returns it unchanged.
// Throws DomainInputError when the XML cannot be read or the plan cannot be
// merged (a device uses an iothread id the plan drops).
PatchResult patch_domain(std::string_view original, const GuestPlan& plan);
std::string patch_domain_xml(std::string_view original, const GuestPlan& plan);

// Settings `vpt-tune check --fix` changes besides a plan. patch_domain()
// merges them in place like a plan: only these values change, everything
// else stays byte for byte; an empty DomainTuning changes nothing.
struct DomainTuning {
  // <features><hyperv> children switched on (created, or state='on'), in
  // libvirt's order; "spinlocks" gets retries='8191'. vendor_id is never
  // touched (it is for drivers and anti-cheat, not performance).
  std::vector<std::string> hyperv_on;
  std::vector<std::string> kvm_on;           // <features><kvm> children: "hint-dedicated"
  std::map<std::string, bool> timers;        // <clock><timer name present='yes|no'/>
  // <cpu mode='host-passthrough' check='none' migratable='off'> (a TCG
  // domain gets mode='maximum', as for a plan); the old model goes.
  bool cpu_host_passthrough = false;
  bool cpu_migratable_off = false;           // migratable='off' on a host-passthrough CPU
  std::optional<GuestTopology> topology;     // <cpu><topology>
  bool cache_passthrough = false;            // <cpu><cache mode='passthrough'/>
  bool memballoon_none = false;              // <memballoon model='none'/>
  bool hugepages = false;                    // <memoryBacking><hugepages/>
  std::optional<std::uint64_t> hugepage_bytes;  // with <page size=...>; nullopt = the host's default size
  std::vector<std::string> disk_cache_none;  // <target dev>s whose <driver cache> becomes 'none'
  std::vector<std::string> disk_io_native;   // <target dev>s whose <driver io> becomes 'native'

  bool empty() const;
  // Adds what `other` changes (lists without duplicates).
  void merge(const DomainTuning& other);
};

// Merges the settings into a domain definition (see DomainTuning). Throws
// DomainInputError for XML that cannot be read, or a disk the tuning names
// that the definition lacks.
PatchResult patch_domain(std::string_view original, const DomainTuning& tuning);

// A unified diff (3 lines of context) of two texts, "" when they are equal.
std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         const std::string& old_label, const std::string& new_label);

}  // namespace vpt
