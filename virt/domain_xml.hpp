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
// memory, with a <memnode> per NUMA cell) and <cpu mode='host-passthrough'>
// with topology, cache, topoext and NUMA cells; comments say what the user
// adds by hand (cell memory when unknown, the disks' iothread='N').
std::string plan_snippet_xml(const GuestPlan& plan);

struct PatchResult {
  std::string xml;
  // What the patch decided that a user should know ("<cpu mode='host-model'>
  // becomes host-passthrough", "<vcpus> dropped: it listed 8 vCPUs, the plan has 6").
  std::vector<std::string> notes;
};

// Gives a domain `count` I/O threads (<iothreads>, and <iothreadids> where it
// lists them: the first ids stay, the smallest unused ones are added) and
// attaches them to every device one can serve: each virtio disk and
// virtio-scsi controller gets <driver iothread='N'/>. A device that already
// names one of the domain's iothreads keeps it; the others go to the least
// used iothread, so the threads spread over the devices. Devices that name an
// iothread the domain no longer has move to one it has (count 0: they name
// none), and so do the <iothreadpin>s of dropped iothreads (they go). Without
// this, an <iothreads> element only starts idle threads: every disk stays in
// QEMU's main loop. Everything else is kept byte for byte; the notes say which
// device went to which thread. Used by patch_domain (with the plan's count) and
// for fixing a definition whose virtio disk has no I/O thread.
// Throws DomainInputError for unreadable XML, or a per-queue mapping
// (<driver><iothreads><iothread id=...>) that names a dropped iothread.
PatchResult attach_iothreads(std::string_view domain_xml, std::size_t count);

// Merges the plan into a domain definition. Replaces or inserts only what the
// plan owns and keeps every other node, attribute order, comment and
// whitespace as it was:
//  - <vcpu>: the count and placement='static'; cpuset= is dropped (every vCPU
//    gets its own pin); current= stays while it is not above the new count.
//  - <vcpus>: kept when it lists as many vCPUs as the plan has, else dropped
//    (with current=): its hotplug layout was for another count.
//  - <iothreads>: the plan's count. <iothreadids>, when present, keeps its
//    first ids, gains the smallest unused ones, loses the rest; the plan's
//    iothread i is pinned to the i-th id. Every virtio disk and virtio-scsi
//    controller is attached to one of them, as attach_iothreads() does.
//  - <cputune>: <vcpupin>, <emulatorpin>, <iothreadpin> are replaced; shares,
//    period, quota, *sched, cachetune, memorytune stay.
//  - <cpu>: mode='host-passthrough' check='none' migratable='off' (a
//    host-model or custom CPU's <model>, <vendor> and match= go: cache
//    passthrough needs the host's CPU), <topology>, <cache mode='passthrough'/>
//    when the plan asks for it, topoext required when the plan asks for it.
//    Other <feature>s and <numa> cells stay. A TCG domain (type='qemu') or
//    one already in mode='maximum' gets mode='maximum' instead: QEMU without
//    KVM cannot start host-passthrough.
//  - <cpu><numa>: when the plan has NUMA cells, one <cell id cpus memory
//    unit='KiB'> per cell (memory from the plan, else the domain's <memory>
//    split by vCPUs); other attributes of a cell with the same id stay.
//  - <numatune><memory mode='strict' nodeset=.../>: only when the plan
//    places memory; with cells, one <memnode cellid mode='strict' nodeset>
//    per cell on its host node. Without cells, existing <memnode>s follow the
//    memory nodeset. Without placed memory, an existing <numatune> stays.
// Patching a patched definition with the same plan returns it unchanged.
// Throws DomainInputError when the XML cannot be read or the plan cannot be
// merged (see attach_iothreads; cells with no <memory> to split).
PatchResult patch_domain(std::string_view original, const GuestPlan& plan);
std::string patch_domain_xml(std::string_view original, const GuestPlan& plan);

// Settings `vpt-tune check --fix` changes besides a plan. patch_domain()
// merges them in place like a plan: only these values change, everything
// else stays byte for byte; an empty DomainTuning changes nothing.
struct DomainTuning {
  // <features><hyperv> children switched on (created, or state='on'), in
  // libvirt's order; "spinlocks" gets retries='8191'. An existing vendor_id is
  // never touched (it is for drivers and anti-cheat, not performance).
  std::vector<std::string> hyperv_on;
  // <hyperv><vendor_id state='on' value=.../> where the block has none: a guest
  // with <kvm><hidden> would otherwise see "Microsoft Hv" again (NVIDIA Code 43).
  std::optional<std::string> hyperv_vendor_id;
  // <cputune><emulatorpin> and <iothreadpin iothread=id> (replacing those there):
  // the helper pins when no plan places the vCPUs.
  std::optional<CpuSet> emulator_pin;
  std::map<unsigned, CpuSet> iothread_pins;
  std::map<unsigned, CpuSet> vcpu_pins;      // <vcpupin vcpu=N cpuset=...>: a shared guest's pool
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

}  // namespace vpt
