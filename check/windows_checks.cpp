// Windows guests: Hyper-V enlightenments, their dependencies, the Hyper-V
// clock and the HPET; vendor_id and <kvm><hidden> are noted, never changed.
// Linux guests get none of these (Context::windows).
#include <algorithm>

#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

bool hyperv_on(const Domain& d, const std::string& name) {
  if (d.hyperv_mode == "passthrough") return true;  // every enlightenment KVM has
  auto it = d.hyperv.find(name);
  return it != d.hyperv.end() && it->second;
}

bool hypervclock_on(const Domain& d) {
  auto it = d.timers.find("hypervclock");
  return it != d.timers.end() && it->second == true;
}

std::string hyperv_snippet(const std::vector<std::string>& names) {
  std::string out = "<features>\n  <hyperv mode='custom'>\n";
  for (const std::string& name : names)
    out += name == "spinlocks" ? "    <spinlocks state='on' retries='8191'/>\n"
                               : fmt::format("    <{} state='on'/>\n", name);
  return out + "  </hyperv>\n</features>";
}

// One row per enlightenment: the same test, its own why.
Check enlightenment(std::string_view id, std::string name, Severity severity, std::string_view title,
                    std::string_view why) {
  return {id, severity, title, why, Needs::Domain, [name](const Context& c) -> std::optional<Hit> {
            if (!c.windows || !c.kvm || hyperv_on(c.domain, name)) return std::nullopt;
            auto it = c.domain.hyperv.find(name);
            std::string now = !c.domain.hyperv_mode ? "no <hyperv> in <features>"
                              : it != c.domain.hyperv.end() ? fmt::format("<hyperv><{} state='off'>", name)
                                                           : fmt::format("<hyperv> without <{}>", name);
            DomainTuning t;
            t.hyperv_on = {name};
            return tuning_fix(now, hyperv_snippet({name}), t);
          }};
}

// QEMU's "Requires:" lines (docs/system/i386/hyperv.rst). hv-time is libvirt's
// <timer name='hypervclock' present='yes'/>.
struct Dependency {
  const char* feature;
  std::vector<const char*> needs;
};
const Dependency kDependencies[] = {
    {"synic", {"vpindex"}},
    {"stimer", {"vpindex", "synic", "hypervclock"}},
    {"tlbflush", {"vpindex"}},
    {"ipi", {"vpindex"}},
};

std::optional<Hit> hyperv_dependencies(const Context& c) {
  const Domain& d = c.domain;
  if (!c.kvm || !d.hyperv_mode || d.hyperv_mode == "passthrough") return std::nullopt;
  std::vector<std::string> broken, missing_features;
  bool missing_clock = false;
  for (const Dependency& dep : kDependencies) {
    if (!hyperv_on(d, dep.feature)) continue;
    std::vector<std::string> lacks;
    for (const char* need : dep.needs) {
      const bool ok = std::string_view(need) == "hypervclock" ? hypervclock_on(d) : hyperv_on(d, need);
      if (ok) continue;
      lacks.push_back(std::string_view(need) == "hypervclock" ? "the hypervclock timer (hv-time)" : need);
      if (std::string_view(need) == "hypervclock")
        missing_clock = true;
      else if (std::find(missing_features.begin(), missing_features.end(), need) == missing_features.end())
        missing_features.push_back(need);
    }
    if (!lacks.empty()) broken.push_back(fmt::format("{} is on without {}", dep.feature, fmt::join(lacks, ", ")));
  }
  if (broken.empty()) return std::nullopt;
  DomainTuning t;
  t.hyperv_on = missing_features;
  std::string snippet = missing_features.empty() ? "" : hyperv_snippet(missing_features);
  if (missing_clock) {
    t.timers["hypervclock"] = true;
    if (!snippet.empty()) snippet += '\n';
    snippet += "<clock ...>\n  <timer name='hypervclock' present='yes'/>\n</clock>";
  }
  return tuning_fix(fmt::format("{}", fmt::join(broken, "; ")), snippet, t);
}

std::optional<Hit> timer_hypervclock(const Context& c) {
  if (!c.windows || !c.kvm || hypervclock_on(c.domain)) return std::nullopt;
  auto it = c.domain.timers.find("hypervclock");
  DomainTuning t;
  t.timers["hypervclock"] = true;
  return tuning_fix(it == c.domain.timers.end() ? "no <timer name='hypervclock'> in <clock>"
                                                : "<timer name='hypervclock'> is not present='yes'",
                    "<clock ...>\n  <timer name='hypervclock' present='yes'/>\n</clock>", t);
}

std::optional<Hit> timer_hpet(const Context& c) {
  if (!c.windows || !c.kvm) return std::nullopt;
  auto it = c.domain.timers.find("hpet");
  if (it != c.domain.timers.end() && it->second == false) return std::nullopt;
  DomainTuning t;
  t.timers["hpet"] = false;
  return tuning_fix(it == c.domain.timers.end() ? "no <timer name='hpet' present='no'/>: QEMU gives the guest an HPET"
                                                : "<timer name='hpet'> is present",
                    "<clock ...>\n  <timer name='hpet' present='no'/>\n</clock>", t);
}

std::optional<Hit> hyperv_vendor_id(const Context& c) {
  if (!c.domain.hyperv_vendor_id) return std::nullopt;
  Hit hit;
  hit.evidence = fmt::format("<hyperv><vendor_id state='on' value='{}'/>: left as it is", *c.domain.hyperv_vendor_id);
  return hit;
}

std::optional<Hit> kvm_hidden(const Context& c) {
  auto it = c.domain.kvm_features.find("hidden");
  if (it == c.domain.kvm_features.end() || !it->second) return std::nullopt;
  Hit hit;
  hit.evidence = "<kvm><hidden state='on'/>: left as it is";
  return hit;
}

}  // namespace

std::vector<Check> windows_checks() {
  return {
      enlightenment("hyperv-relaxed", "relaxed", Severity::Warning, "Hyper-V enlightenment 'relaxed' is off",
                    "Tells Windows it runs on a hypervisor, so that it turns off watchdog timeouts a preempted vCPU "
                    "would trip. Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-relaxed)."),
      enlightenment("hyperv-vapic", "vapic", Severity::Warning, "Hyper-V enlightenment 'vapic' is off",
                    "Gives Windows the VP Assist page: paravirtualized, exit-less end-of-interrupt for the APIC. "
                    "Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-vapic)."),
      enlightenment("hyperv-spinlocks", "spinlocks", Severity::Warning, "Hyper-V enlightenment 'spinlocks' is off",
                    "A vCPU spinning on a lock tells the hypervisor after a number of retries instead of burning its "
                    "time slice while the holder is preempted. Source: QEMU documentation, \"Hyper-V "
                    "Enlightenments\" (hv-spinlocks)."),
      enlightenment("hyperv-vpindex", "vpindex", Severity::Warning, "Hyper-V enlightenment 'vpindex' is off",
                    "The virtual processor index; synic, stimer, tlbflush and ipi need it. Source: QEMU "
                    "documentation, \"Hyper-V Enlightenments\" (hv-vpindex)."),
      enlightenment("hyperv-runtime", "runtime", Severity::Info, "Hyper-V enlightenment 'runtime' is off",
                    "Tells Windows how much time was stolen from each vCPU while it was preempted. Source: QEMU "
                    "documentation, \"Hyper-V Enlightenments\" (hv-runtime)."),
      enlightenment("hyperv-synic", "synic", Severity::Warning, "Hyper-V enlightenment 'synic' is off",
                    "The synthetic interrupt controller, which the synthetic timers (stimer) need. Source: QEMU "
                    "documentation, \"Hyper-V Enlightenments\" (hv-synic)."),
      enlightenment("hyperv-stimer", "stimer", Severity::Warning, "Hyper-V synthetic timers (stimer) are off",
                    "Without synthetic timers some Windows versions fall back to the HPET or the RTC and use a lot "
                    "of CPU even when idle; stimer needs synic, vpindex and the hypervclock timer. Source: QEMU "
                    "documentation, \"Hyper-V Enlightenments\" (hv-stimer)."),
      enlightenment("hyperv-reset", "reset", Severity::Info, "Hyper-V enlightenment 'reset' is off",
                    "Lets Windows reset the VM through an MSR; virt-manager enables it for Windows, and QEMU notes "
                    "that modern Windows does not need it: harmless and optional. Source: QEMU documentation, "
                    "\"Hyper-V Enlightenments\" (hv-reset)."),
      enlightenment("hyperv-frequencies", "frequencies", Severity::Info, "Hyper-V enlightenment 'frequencies' is off",
                    "Tells Windows the TSC and APIC frequencies, so that it need not measure them. Source: QEMU "
                    "documentation, \"Hyper-V Enlightenments\" (hv-frequencies)."),
      enlightenment("hyperv-tlbflush", "tlbflush", Severity::Info, "Hyper-V enlightenment 'tlbflush' is off",
                    "Paravirtualized TLB shoot-down: no IPIs to vCPUs that are not running, whose flush can wait. "
                    "Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-tlbflush)."),
      enlightenment("hyperv-ipi", "ipi", Severity::Info, "Hyper-V enlightenment 'ipi' is off",
                    "Paravirtualized IPIs: one hypercall reaches many vCPUs instead of several APIC writes, each an "
                    "exit. Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-ipi)."),
      {"hyperv-dependencies", Severity::Error, "A Hyper-V enlightenment is on without one it requires",
       "QEMU checks the enlightenments' dependencies and does not start the guest when one is missing: synic needs "
       "vpindex; stimer needs vpindex, synic and hv-time (libvirt's hypervclock timer); tlbflush and ipi need "
       "vpindex. Source: QEMU documentation, \"Hyper-V Enlightenments\" (the \"Requires:\" lines).",
       Needs::Domain, hyperv_dependencies},
      {"timer-hypervclock", Severity::Warning, "No Hyper-V reference clock (hypervclock)",
       "The hypervclock timer (QEMU's hv-time) gives Windows a reference TSC page it reads without an exit, \"a "
       "significant speedup of all timestamp related operations\"; stimer needs it. Source: QEMU documentation, "
       "\"Hyper-V Enlightenments\" (hv-time); libvirt Domain XML format, \"Time keeping\".",
       Needs::Domain, timer_hypervclock},
      {"timer-hpet", Severity::Warning, "The guest has an emulated HPET",
       "Every HPET access is an exit to QEMU; with hypervclock and stimer Windows needs no HPET, and Proxmox turns "
       "it off for every Windows guest. Source: Proxmox qemu-server, Cfg2Cmd/Timer.pm (hpet off for Windows); QEMU "
       "documentation, \"Hyper-V Enlightenments\" (hv-stimer).",
       Needs::Domain, timer_hpet},
      {"hyperv-vendor-id", Severity::Info, "A Hyper-V vendor_id is set: vpt-tune leaves it alone",
       "vendor_id changes the hypervisor name the guest sees: it is there for NVIDIA's driver (older ones stop with "
       "error 43 in a VM) and for anti-cheat software, not for performance, so vpt-tune never changes it. Source: "
       "Proxmox qemu-server, CPUConfig.pm (\"NVIDIA workaround for GPU passthrough\"); Arch Wiki, PCI passthrough "
       "via OVMF, \"Error 43: Driver failed to load\".",
       Needs::Domain, hyperv_vendor_id},
      {"kvm-hidden", Severity::Info, "KVM is hidden from the guest: vpt-tune leaves it alone",
       "<kvm><hidden state='on'/> hides the KVM signature from the guest, for drivers and anti-cheat software that "
       "refuse to run in a VM; it is not a performance setting, so vpt-tune never changes it. Source: libvirt "
       "Domain XML format, \"Hypervisor features\" (kvm hidden).",
       Needs::Domain, kvm_hidden},
  };
}

}  // namespace vpt::check_detail
