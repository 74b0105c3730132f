// Settings `check --fix` changes besides a plan (patch_domain with a
// DomainTuning): Hyper-V enlightenments, helper pins, <cpu>, timers,
// hugepages, memballoon, disk cache and I/O modes.
#include "virt/domain_xml.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

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

}  // namespace
}  // namespace detail

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
  return detail::edit_domain(original, [&](pugi::xml_node root, const detail::Style& style, std::vector<std::string>& notes) {
    detail::TuningPatcher(root, style, tuning, notes).run();
  });
}

}  // namespace vpt
