#include "virt/apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "common/unified_diff.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

std::string topology_text(const std::optional<GuestTopology>& t) {
  if (!t) return "none";
  return fmt::format("sockets={} dies={} cores={} threads={}", t->sockets, t->dies, t->cores, t->threads);
}

// Guest NUMA cells with their memory binding, in words ("no NUMA cells").
std::string cells_text(const Domain& d) {
  std::vector<std::string> parts;
  for (const DomainCell& c : d.numa_cells)
    parts.push_back(fmt::format("cell {} vCPUs {} {} MiB on node {}", c.id, c.vcpus, c.memory_bytes.value_or(0) >> 20,
                                c.memnode_nodeset ? c.memnode_nodeset->to_string() : "any"));
  return parts.empty() ? std::string("no NUMA cells") : fmt::format("{}", fmt::join(parts, "; "));
}

// Which iothread serves each virtio disk and virtio-scsi controller, in words.
std::string served_text(const Domain& d) {
  std::vector<std::string> parts;
  for (const IothreadDevice& dev : d.iothread_devices)
    parts.push_back(fmt::format("{} on {}", dev.label,
                                dev.iothread ? fmt::format("iothread {}", *dev.iothread) : std::string("the main loop")));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string pin_text(const std::optional<CpuSet>& cpus) { return cpus ? "CPUs " + cpus->to_string() : "no pin"; }

// What the running guest should get: only vCPUs and iothreads it has now.
struct LiveTargets {
  LivePins pins;
  std::vector<std::string> notes;
};

LiveTargets live_targets(const Domain& wanted, const LivePins& now) {
  LiveTargets t;
  t.pins = now;
  for (const auto& [vcpu, cpus] : wanted.vcpupins)
    if (vcpu < now.vcpus.size()) t.pins.vcpus[vcpu] = cpus;
  if (wanted.emulatorpin) t.pins.emulator = *wanted.emulatorpin;
  for (const auto& [id, cpus] : wanted.iothreadpins)
    if (now.iothreads.count(id)) t.pins.iothreads[id] = cpus;
  if (wanted.max_vcpus > now.vcpus.size())
    t.notes.push_back(fmt::format("the running guest has {} vCPUs: vCPUs {}-{} are pinned when it next boots",
                                  now.vcpus.size(), now.vcpus.size(), wanted.max_vcpus - 1));
  for (const auto& [id, cpus] : wanted.iothreadpins)
    if (!now.iothreads.count(id))
      t.notes.push_back(fmt::format("the running guest has no iothread {}: it is pinned when it next boots", id));
  return t;
}

// Pins `target` onto the running domain: emulator, iothreads, then vCPUs.
void pin_live(Hypervisor& hv, const std::string& domain, const LivePins& target, const LivePins& now) {
  if (target.emulator != now.emulator) hv.pin_emulator_live(domain, target.emulator);
  for (const auto& [id, cpus] : target.iothreads)
    if (now.iothreads.at(id) != cpus) hv.pin_iothread_live(domain, id, cpus);
  for (unsigned v = 0; v < target.vcpus.size(); ++v)
    if (target.vcpus[v] != now.vcpus[v]) hv.pin_vcpu_live(domain, v, target.vcpus[v]);
}

std::vector<std::string> live_differences(const LivePins& wanted, const LivePins& actual) {
  std::vector<std::string> out;
  for (unsigned v = 0; v < wanted.vcpus.size(); ++v)
    if (v >= actual.vcpus.size() || actual.vcpus[v] != wanted.vcpus[v])
      out.push_back(fmt::format("vCPU {} runs on CPUs {}, not {}", v,
                                v < actual.vcpus.size() ? actual.vcpus[v].to_string() : "?", wanted.vcpus[v].to_string()));
  if (actual.emulator != wanted.emulator)
    out.push_back(fmt::format("the emulator runs on CPUs {}, not {}", actual.emulator.to_string(), wanted.emulator.to_string()));
  for (const auto& [id, cpus] : wanted.iothreads) {
    auto it = actual.iothreads.find(id);
    if (it == actual.iothreads.end() || it->second != cpus)
      out.push_back(fmt::format("iothread {} runs on CPUs {}, not {}", id,
                                it == actual.iothreads.end() ? "?" : it->second.to_string(), cpus.to_string()));
  }
  return out;
}


// What `check --fix` sets, one way: what `expected` has must be in `actual`
// (libvirt may write more, such as <hyperv mode='custom'>).
void tuning_differences(const Domain& expected, const Domain& actual, std::vector<std::string>& out) {
  auto features = [&](const std::map<std::string, bool>& want, const std::map<std::string, bool>& got,
                      const char* where) {
    for (const auto& [name, on] : want) {
      auto it = got.find(name);
      if (on && (it == got.end() || !it->second)) out.push_back(fmt::format("<{}> has no {} state='on'", where, name));
    }
  };
  if (expected.hyperv_mode && expected.hyperv_mode != actual.hyperv_mode)
    out.push_back(fmt::format("<hyperv mode='{}'>, not '{}'", actual.hyperv_mode.value_or("none"), *expected.hyperv_mode));
  features(expected.hyperv, actual.hyperv, "hyperv");
  features(expected.kvm_features, actual.kvm_features, "kvm");
  for (const auto& [name, present] : expected.timers) {
    auto it = actual.timers.find(name);
    if (present && (it == actual.timers.end() || it->second != present))
      out.push_back(fmt::format("timer {} is not present='{}'", name, *present ? "yes" : "no"));
  }
  if (expected.cpu_migratable && expected.cpu_migratable != actual.cpu_migratable)
    out.push_back(fmt::format("<cpu migratable='{}'>, not '{}'", actual.cpu_migratable.value_or("unset"),
                              *expected.cpu_migratable));
  if (expected.memballoon_model && expected.memballoon_model != actual.memballoon_model)
    out.push_back(fmt::format("memballoon model '{}', not '{}'", actual.memballoon_model.value_or("none written"),
                              *expected.memballoon_model));
  if (expected.hugepages && !actual.hugepages) out.push_back("no <memoryBacking><hugepages/>");
  if (expected.hugepage_bytes && expected.hugepage_bytes != actual.hugepage_bytes)
    out.push_back(fmt::format("hugepages of {} bytes, not {}", actual.hugepage_bytes.value_or(0), *expected.hugepage_bytes));
  for (const DomainDisk& want : expected.disks) {
    if (!want.cache) continue;
    auto it = std::find_if(actual.disks.begin(), actual.disks.end(),
                           [&](const DomainDisk& d) { return d.target == want.target; });
    if (it == actual.disks.end() || it->cache != want.cache)
      out.push_back(fmt::format("disk {} has cache '{}', not '{}'", want.target,
                                it == actual.disks.end() ? "?" : it->cache.value_or("default"), *want.cache));
  }
}

// CPUs a definition pins anything to.
CpuSet pinned_cpus(const Domain& d) {
  CpuSet cpus = d.emulatorpin.value_or(CpuSet{});
  for (const auto& [vcpu, set] : d.vcpupins) cpus |= set;
  for (const auto& [id, set] : d.iothreadpins) cpus |= set;
  return cpus;
}

// What changes between the definitions only when the guest next boots.
std::vector<std::string> restart_only_changes(const Domain& old_domain, const Domain& wanted) {
  std::vector<std::string> out;
  if (wanted.max_vcpus != old_domain.max_vcpus)
    out.push_back(fmt::format("vCPU count {} -> {}", old_domain.max_vcpus, wanted.max_vcpus));
  if (topology_text(wanted.cpu_topology) != topology_text(old_domain.cpu_topology) ||
      wanted.cpu_mode != old_domain.cpu_mode || wanted.cache_passthrough != old_domain.cache_passthrough ||
      wanted.require_topoext != old_domain.require_topoext || wanted.cpu_migratable != old_domain.cpu_migratable)
    out.push_back("guest CPU (mode, topology, cache, features)");
  if (wanted.iothreads != old_domain.iothreads)
    out.push_back(fmt::format("iothread count {} -> {}", old_domain.iothreads, wanted.iothreads));
  if (wanted.numatune_nodeset != old_domain.numatune_nodeset) out.push_back("memory placement");
  if (cells_text(wanted) != cells_text(old_domain)) out.push_back("guest NUMA cells");
  if (served_text(wanted) != served_text(old_domain)) out.push_back("which I/O thread serves each disk");
  if (wanted.hyperv != old_domain.hyperv || wanted.kvm_features != old_domain.kvm_features)
    out.push_back("Hyper-V and KVM features");
  if (wanted.timers != old_domain.timers) out.push_back("timers");
  if (wanted.hugepages != old_domain.hugepages) out.push_back("memory backing");
  bool disks_differ = wanted.disks.size() != old_domain.disks.size();
  for (std::size_t i = 0; !disks_differ && i < wanted.disks.size(); ++i)
    disks_differ = wanted.disks[i].cache != old_domain.disks[i].cache;
  if (wanted.memballoon_model != old_domain.memballoon_model || disks_differ) out.push_back("devices");
  return out;
}

}  // namespace


std::vector<std::string> owned_differences(const Domain& expected, const Domain& actual) {
  std::vector<std::string> out;
  if (expected.max_vcpus != actual.max_vcpus)
    out.push_back(fmt::format("{} vCPUs, not {}", actual.max_vcpus, expected.max_vcpus));
  for (unsigned v = 0; v < std::max(expected.max_vcpus, actual.max_vcpus); ++v) {
    auto e = expected.vcpupins.find(v), a = actual.vcpupins.find(v);
    std::optional<CpuSet> ev = e == expected.vcpupins.end() ? std::nullopt : std::optional(e->second);
    std::optional<CpuSet> av = a == actual.vcpupins.end() ? std::nullopt : std::optional(a->second);
    if (ev != av) out.push_back(fmt::format("vCPU {} has {}, not {}", v, pin_text(av), pin_text(ev)));
  }
  if (expected.emulatorpin != actual.emulatorpin)
    out.push_back(fmt::format("the emulator has {}, not {}", pin_text(actual.emulatorpin), pin_text(expected.emulatorpin)));
  if (expected.iothreads != actual.iothreads)
    out.push_back(fmt::format("{} iothreads, not {}", actual.iothreads, expected.iothreads));
  if (expected.iothreadpins != actual.iothreadpins) {
    for (unsigned id : expected.iothread_ids) {
      auto e = expected.iothreadpins.find(id), a = actual.iothreadpins.find(id);
      std::optional<CpuSet> ev = e == expected.iothreadpins.end() ? std::nullopt : std::optional(e->second);
      std::optional<CpuSet> av = a == actual.iothreadpins.end() ? std::nullopt : std::optional(a->second);
      if (ev != av) out.push_back(fmt::format("iothread {} has {}, not {}", id, pin_text(av), pin_text(ev)));
    }
    if (out.empty()) out.push_back("the iothread pins differ");
  }
  if (expected.cpu_mode != actual.cpu_mode)
    out.push_back(fmt::format("CPU mode {}, not {}", actual.cpu_mode.value_or("none"), expected.cpu_mode.value_or("none")));
  if (topology_text(expected.cpu_topology) != topology_text(actual.cpu_topology))
    out.push_back(fmt::format("guest topology {}, not {}", topology_text(actual.cpu_topology),
                              topology_text(expected.cpu_topology)));
  if (expected.cache_passthrough != actual.cache_passthrough)
    out.push_back(fmt::format("cache passthrough {}", actual.cache_passthrough ? "on" : "off"));
  if (expected.require_topoext != actual.require_topoext)
    out.push_back(fmt::format("topoext {}", actual.require_topoext ? "required" : "not required"));
  if (cells_text(expected) != cells_text(actual))
    out.push_back(fmt::format("{}, not {}", cells_text(actual), cells_text(expected)));
  if (served_text(expected) != served_text(actual))
    out.push_back(fmt::format("{}, not {}", served_text(actual), served_text(expected)));
  if (expected.numatune_nodeset != actual.numatune_nodeset || expected.numatune_mode != actual.numatune_mode)
    out.push_back(fmt::format("memory on nodes {} ({}), not {} ({})",
                              actual.numatune_nodeset ? actual.numatune_nodeset->to_string() : "any",
                              actual.numatune_mode.value_or("none"),
                              expected.numatune_nodeset ? expected.numatune_nodeset->to_string() : "any",
                              expected.numatune_mode.value_or("none")));
  tuning_differences(expected, actual, out);
  return out;
}

ApplyResult apply_patch(Hypervisor& hv, const std::string& domain_arg, const DefinitionPatch& patch_fn,
                        const ApplyOptions& options) {
  ApplyResult result;
  const std::string name = hv.find_domain(domain_arg);
  result.domain = name;
  const std::string old_xml = hv.definition_xml(name, /*secure=*/true);
  const Domain old_domain = parse_domain_xml(old_xml, name);
  PatchResult patch = patch_fn(old_xml);
  const Domain wanted = parse_domain_xml(patch.xml, name);
  // A pin to a CPU the host lacks is bad input, refused before anything changes
  // (pins the definition already had are libvirt's to judge).
  const CpuSet host = hv.host_cpus();
  const CpuSet missing = pinned_cpus(wanted) - host - pinned_cpus(old_domain);
  if (!missing.empty())
    throw DomainInputError(fmt::format("cannot apply {} to domain '{}': it uses CPUs {}, which host '{}' does "
                                       "not have (it has CPUs {})",
                                       options.what, name, missing.to_string(), hv.uri(), host.to_string()));
  const bool running = hv.is_running(name);
  const std::string backup_dir = options.backup_dir.empty() ? default_backup_dir() : options.backup_dir;

  const bool needs_define = !owned_differences(wanted, old_domain).empty();
  if (needs_define) {
    result.notes = patch.notes;
    result.diff = unified_diff(old_xml, patch.xml, name + " (current definition)", name + " (with " + options.what + ")");
    result.backup = write_backup(backup_dir, name, old_xml, options.made_by);

    // From here on, any failure defines the backup again.
    auto roll_back = [&](const std::string& failure) -> ApplyError {
      try {
        hv.define(old_xml);
      } catch (const std::exception& e) {
        bool unchanged = false;
        try {
          unchanged = hv.definition_xml(name, true) == old_xml;
        } catch (const std::exception&) {
        }
        if (unchanged)
          return ApplyError(fmt::format("{}; the definition is unchanged (backup in '{}')", failure, result.backup));
        return ApplyError(fmt::format("{}; defining the backup again failed too: {}; the old definition is in '{}' "
                                      "(restore it with: vpt-tune restore --domain {} '{}')",
                                      failure, e.what(), result.backup, name, result.backup));
      }
      return ApplyError(fmt::format("{}; the previous definition was defined again from backup '{}'", failure,
                                    result.backup));
    };
    try {
      hv.define(patch.xml);
    } catch (const std::exception& e) {
      throw roll_back(fmt::format("cannot apply {} to domain '{}': {}", options.what, name, e.what()));
    }
    std::vector<std::string> wrong;
    try {
      wrong = owned_differences(wanted, parse_domain_xml(hv.definition_xml(name, true), name));
    } catch (const std::exception& e) {
      throw roll_back(fmt::format("cannot read back domain '{}' after defining it: {}", name, e.what()));
    }
    if (!wrong.empty())
      throw roll_back(fmt::format("cannot verify domain '{}' after defining it: {}", name, fmt::join(wrong, "; ")));
    result.defined = true;

    if (running) {
      std::vector<std::string> restart_only = restart_only_changes(old_domain, wanted);
      if (!restart_only.empty())
        result.notes.push_back(fmt::format("domain '{}' is running: {} take(s) effect at its next boot", name,
                                           fmt::join(restart_only, ", ")));
    }
  }

  const bool pins_change = wanted.vcpupins != old_domain.vcpupins || wanted.emulatorpin != old_domain.emulatorpin ||
                           wanted.iothreadpins != old_domain.iothreadpins;
  if (running && !options.live && needs_define && pins_change)
    result.notes.push_back(fmt::format(
        "domain '{}' is running: its pins change at its next start (add --live to pin the running guest now)", name));
  if (options.live && !running)
    result.notes.push_back(fmt::format("domain '{}' is not running: --live has nothing to pin; the definition "
                                       "takes effect when it starts", name));
  if (options.live && running) {
    const LivePins before = hv.live_pins(name);
    LiveTargets target = live_targets(wanted, before);
    result.notes.insert(result.notes.end(), target.notes.begin(), target.notes.end());
    if (target.pins != before) {
      auto roll_back = [&](const std::string& failure) -> ApplyError {
        std::vector<std::string> trouble;
        try {
          LivePins now = hv.live_pins(name);
          pin_live(hv, name, before, now);
        } catch (const std::exception& e) {
          trouble.push_back(fmt::format("putting the previous live pins back failed: {}", e.what()));
        }
        if (result.defined) {
          try {
            hv.define(old_xml);
          } catch (const std::exception& e) {
            trouble.push_back(fmt::format("defining the backup again failed: {}", e.what()));
          }
        }
        std::string done = result.defined
                               ? fmt::format("the previous live pins were put back and the previous definition was "
                                             "defined again from backup '{}'", result.backup)
                               : std::string("the previous live pins were put back");
        if (!trouble.empty())
          done = fmt::format("{} (the backup is '{}')", fmt::join(trouble, "; "), result.backup);
        return ApplyError(fmt::format("{}; {}", failure, done));
      };
      try {
        pin_live(hv, name, target.pins, before);
      } catch (const std::exception& e) {
        throw roll_back(fmt::format("cannot pin running domain '{}': {}", name, e.what()));
      }
      std::vector<std::string> wrong;
      try {
        wrong = live_differences(target.pins, hv.live_pins(name));
      } catch (const std::exception& e) {
        throw roll_back(fmt::format("cannot read back the live pins of domain '{}': {}", name, e.what()));
      }
      if (!wrong.empty())
        throw roll_back(fmt::format("cannot verify the live pins of domain '{}': {}", name, fmt::join(wrong, "; ")));
      result.live_pinned = true;
    }
  }
  return result;
}

ApplyResult apply_plan(Hypervisor& hv, const std::string& domain, const GuestPlan& plan, const ApplyOptions& options) {
  return apply_patch(hv, domain, [&](const std::string& xml) { return patch_domain(xml, plan); }, options);
}

namespace {

// Every apply so far is rolled back: the backup defined again and, where the
// running guest was re-pinned, its previous pins put back. Returns what failed.
std::vector<std::string> roll_back(Hypervisor& hv, const std::vector<ApplyResult>& done,
                                   const std::vector<std::optional<LivePins>>& before, const std::string& backup_dir) {
  std::vector<std::string> trouble;
  for (std::size_t i = done.size(); i-- > 0;) {
    const ApplyResult& r = done[i];
    try {
      if (r.defined && !r.backup.empty()) restore_backup(hv, r.domain, r.backup, backup_dir);
      if (r.live_pinned && before[i]) {
        const LivePins& pins = *before[i];
        hv.pin_emulator_live(r.domain, pins.emulator);
        for (const auto& [id, cpus] : pins.iothreads) hv.pin_iothread_live(r.domain, id, cpus);
        for (unsigned v = 0; v < pins.vcpus.size(); ++v) hv.pin_vcpu_live(r.domain, v, pins.vcpus[v]);
      }
    } catch (const std::exception& e) {
      trouble.push_back(fmt::format("domain '{}': {}", r.domain, e.what()));
    }
  }
  return trouble;
}

// A record of one whole-host apply, for `restore --all`: one "DOMAIN<TAB>BACKUP" line each.
void write_manifest(const std::string& backup_dir, const std::vector<ApplyResult>& done) {
  std::string text;
  for (const ApplyResult& r : done)
    if (r.defined && !r.backup.empty()) text += r.domain + '\t' + r.backup + '\n';
  if (text.empty()) return;
  write_backup(backup_dir, kWholeHostManifest, text, BackupMaker::Apply, ".tsv");
}

}  // namespace

std::vector<ApplyResult> apply_changes(Hypervisor& hv, const std::vector<DomainChange>& changes,
                                       const ApplyOptions& options) {
  ApplyOptions apply = options;
  if (apply.backup_dir.empty()) apply.backup_dir = default_backup_dir();
  std::vector<ApplyResult> done;
  std::vector<std::optional<LivePins>> before;
  for (const auto& [name, patch] : changes) {
    std::optional<LivePins> pins;
    try {
      if (apply.live && hv.is_running(name)) pins = hv.live_pins(name);
      done.push_back(apply_patch(hv, name, patch, apply));
      before.push_back(pins);
    } catch (const std::exception& e) {
      std::vector<std::string> names;
      for (const ApplyResult& r : done) names.push_back(r.domain);
      std::vector<std::string> trouble = roll_back(hv, done, before, apply.backup_dir);
      throw ApplyError(fmt::format(
          "cannot apply the whole-host plan: {}; {}{}", e.what(),
          names.empty() ? std::string("nothing else had changed")
                        : fmt::format("rolled back {} to their backups", fmt::join(names, ", ")),
          trouble.empty() ? std::string() : fmt::format(" (rollback failed for {})", fmt::join(trouble, "; "))));
    }
  }
  write_manifest(apply.backup_dir, done);
  return done;
}


void write_apply_result(std::ostream& out, const ApplyResult& r) {
  if (!r.defined && !r.live_pinned) {
    out << fmt::format("domain '{}': already applied, nothing changed\n", r.domain);
  } else {
    if (r.defined) out << r.diff << fmt::format("domain '{}': new definition defined and verified\n", r.domain);
    if (r.live_pinned) out << fmt::format("domain '{}': running guest pinned and verified\n", r.domain);
    if (!r.backup.empty())
      out << fmt::format("backup of the previous definition: {}\n  undo with: vpt-tune restore --domain {} {}\n",
                         r.backup, r.domain, r.backup);
  }
  for (const std::string& note : r.notes) out << "note: " << note << '\n';
}

RestoreResult restore_backup(Hypervisor& hv, const std::string& domain_arg, const std::string& backup_path,
                             const std::string& backup_dir) {
  std::string xml;
  try {
    xml = read_backup(backup_path);
  } catch (const std::runtime_error& e) {
    throw DomainInputError(e.what());
  }
  const Domain backup = parse_domain_xml(xml, backup_path);
  RestoreResult result;
  result.domain = backup.name;
  std::string current;
  if (!domain_arg.empty()) {
    std::string name;
    try {
      name = hv.find_domain(domain_arg);
    } catch (const DomainInputError&) {
      name = domain_arg;  // undefined since: the backup defines it again
    }
    if (name != backup.name && domain_arg != backup.uuid)
      throw DomainInputError(fmt::format("cannot restore backup '{}': it is of domain '{}', not '{}'", backup_path,
                                         backup.name, domain_arg));
  }
  try {
    hv.find_domain(backup.name);
    current = hv.definition_xml(backup.name, /*secure=*/true);
  } catch (const DomainInputError&) {
    // Not defined any more: nothing to back up.
  }
  if (!current.empty()) {
    result.backup_of_replaced =
        write_backup(backup_dir.empty() ? default_backup_dir() : backup_dir, backup.name, current, BackupMaker::Restore);
    result.diff = unified_diff(current, xml, backup.name + " (current definition)", backup_path);
  }
  hv.define(xml);
  std::vector<std::string> wrong = owned_differences(backup, parse_domain_xml(hv.definition_xml(backup.name, true), backup.name));
  if (!wrong.empty())
    throw LibvirtError(fmt::format("cannot verify domain '{}' after restoring '{}': {}", backup.name, backup_path,
                                   fmt::join(wrong, "; ")));
  return result;
}

}  // namespace vpt
