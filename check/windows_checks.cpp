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

// One row per enlightenment: the same test, its own why.
Check enlightenment(std::string_view id, std::string name, Severity severity, std::string_view title,
                    std::string_view why, std::optional<MinVersions> min_versions = std::nullopt) {
  return {id, severity, title, why, Needs::Domain, [name](const Context& c) -> std::optional<Hit> {
            if (!c.windows || !c.kvm || c.domain.qemu_cpu || hyperv_on(c.domain, name)) return std::nullopt;
            auto it = c.domain.hyperv.find(name);
            std::string now = !c.domain.hyperv_mode ? "no <hyperv> in <features>"
                              : it != c.domain.hyperv.end() ? fmt::format("<hyperv><{} state='off'>", name)
                                                           : fmt::format("<hyperv> without <{}>", name);
            return hyperv_fix(c, now, {name});
          }, min_versions};
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
  if (!c.kvm || d.qemu_cpu || !d.hyperv_mode || d.hyperv_mode == "passthrough") return std::nullopt;
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
  std::map<std::string, bool> timers;
  if (missing_clock) timers["hypervclock"] = true;
  return hyperv_fix(c, fmt::format("{}", fmt::join(broken, "; ")), missing_features, timers);
}

std::optional<Hit> timer_hypervclock(const Context& c) {
  if (!c.windows || !c.kvm || c.domain.qemu_cpu || hypervclock_on(c.domain)) return std::nullopt;
  auto it = c.domain.timers.find("hypervclock");
  return hyperv_fix(c,
                    it == c.domain.timers.end() ? "no <timer name='hypervclock'> in <clock>"
                                                : "<timer name='hypervclock'> is not present='yes'",
                    {}, {{"hypervclock", true}});
}

// Windows ignores every enlightenment when the CPUID "hypervisor" bit is off.
std::optional<Hit> hypervisor_bit_disabled(const Context& c) {
  const Domain& d = c.domain;
  const auto& off = d.cpu_disabled_features;
  if (std::find(off.begin(), off.end(), "hypervisor") == off.end()) return std::nullopt;
  const bool enlightened = d.qemu_cpu ? d.qemu_cpu->find("hv") != std::string::npos : d.hyperv_mode.has_value();
  if (!enlightened) return std::nullopt;
  Hit hit;
  hit.evidence = d.qemu_cpu ? fmt::format("<qemu:commandline> -cpu '{}' turns off 'hypervisor' and sets Hyper-V flags",
                                          *d.qemu_cpu)
                            : "<cpu><feature policy='disable' name='hypervisor'/> next to <features><hyperv>";
  hit.evidence += ": the guest cannot see the enlightenments, left as it is (anti-cheat setups do this on purpose)";
  return hit;
}

// QEMU's -cpu of <qemu:commandline> replaces libvirt's: <cpu> and <hyperv> do nothing.
std::optional<Hit> qemu_cpu_override(const Context& c) {
  const Domain& d = c.domain;
  if (!d.qemu_cpu) return std::nullopt;
  const std::vector<std::string>& ignored = d.qemu_cpu_replaces;
  std::string evidence = fmt::format(
      "<qemu:commandline> passes -cpu '{}'; QEMU takes it instead of the -cpu libvirt builds{}; vpt-tune's CPU "
      "and Hyper-V checks are skipped, and a fix to <cpu> or <hyperv> would have no effect",
      d.qemu_cpu->substr(0, 200), ignored.empty() ? "" : fmt::format(" ({} ignored)", fmt::join(ignored, ", ")));
  std::vector<std::string> lines{"<cpu mode='host-passthrough' check='none' migratable='off'>",
                                 "  <topology .../>  <!-- -smp still comes from <vcpu> and <topology> -->", "</cpu>"};
  if (d.kvm_features.count("hidden") || d.hyperv_vendor_id) {
    lines.push_back("<features>");
    if (d.hyperv_vendor_id)
      lines.push_back(fmt::format("  <hyperv mode='custom'> ... <vendor_id state='on' value='{}'/> </hyperv>",
                                  d.hyperv_vendor_id->substr(0, 12)));
    if (d.kvm_features.count("hidden")) lines.push_back("  <kvm><hidden state='on'/></kvm>");
    lines.push_back("</features>");
  }
  lines.push_back("<!-- then remove the -cpu argument pair from <qemu:commandline> -->");
  return manual_fix(std::move(evidence), fmt::format("{}", fmt::join(lines, "\n")),
                    "vpt-tune does not edit <qemu:commandline>: move that -cpu's flags into <cpu> and <features>, "
                    "then remove it");
}

// Hyper-V enlightenments are for Windows.
std::optional<Hit> hyperv_on_linux(const Context& c) {
  if (!c.linux_guest || !c.domain.hyperv_mode) return std::nullopt;  // linux_guest excludes Windows
  return manual_fix(fmt::format("a Linux guest ({}) with <features><hyperv mode='{}'>",
                                c.domain.os_id.empty() ? "by its name" : c.domain.os_id, *c.domain.hyperv_mode),
                    "<features>\n  <!-- remove <hyperv>...</hyperv> -->\n</features>",
                    "removing enlightenments is left to you: check first that nothing in the guest relies on them");
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
  if (c.hidden_without_vendor_id)
    hit.evidence += fmt::format(
        "; there is no Hyper-V vendor_id, so every Hyper-V fix here adds vendor_id '{}': without it NVIDIA drivers "
        "before R465 see \"Microsoft Hv\" and stop with Code 43",
        kHypervVendorId);
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
                    "documentation, \"Hyper-V Enlightenments\" (hv-frequencies).",
                    MinVersions{4007000, 2012000}),
      enlightenment("hyperv-tlbflush", "tlbflush", Severity::Info, "Hyper-V enlightenment 'tlbflush' is off",
                    "Paravirtualized TLB shoot-down: no IPIs to vCPUs that are not running, whose flush can wait. "
                    "Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-tlbflush).",
                    MinVersions{4007000, 3000000}),
      enlightenment("hyperv-ipi", "ipi", Severity::Info, "Hyper-V enlightenment 'ipi' is off",
                    "Paravirtualized IPIs: one hypercall reaches many vCPUs instead of several APIC writes, each an "
                    "exit. Source: QEMU documentation, \"Hyper-V Enlightenments\" (hv-ipi).",
                    MinVersions{4010000, 3001000}),
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
      {"hypervisor-bit-disabled", Severity::Warning, "Hyper-V enlightenments behind a hidden hypervisor bit",
       "With the CPUID 'hypervisor' bit off Windows believes it runs on bare metal and ignores every Hyper-V "
       "enlightenment: no synthetic timers, no paravirtual EOI or spinlock hints. Anti-cheat setups turn it off "
       "on purpose, so vpt-tune reports it and never changes it. Source: QEMU documentation, \"Hyper-V "
       "Enlightenments\" (the guest finds them through the hypervisor CPUID leaves); Microsoft, Hypervisor Top "
       "Level Functional Specification (CPUID 1 ECX bit 31).",
       Needs::Domain, hypervisor_bit_disabled},
      {"qemu-cpu-override", Severity::Warning, "<qemu:commandline> replaces the guest CPU libvirt defines",
       "An -cpu argument in <qemu:commandline> comes after libvirt's own -cpu, and QEMU uses the last one: the "
       "<cpu> mode, features, cache and topoext settings and every <hyperv> and <kvm> feature of the definition "
       "are ignored. Keep them in the XML instead, where libvirt checks them. Source: libvirt Domain XML format, "
       "\"QEMU command-line passthrough\"; QEMU invocation (-cpu: the last one given wins).",
       Needs::Domain, qemu_cpu_override},
      {"hyperv-on-linux", Severity::Info, "Hyper-V enlightenments on a Linux guest",
       "Hyper-V enlightenments exist for Windows; Linux uses KVM's own paravirtual interfaces (kvm-clock, PV EOI, "
       "PV spinlocks, PV TLB flush), and with <hyperv> it also finds a Hyper-V signature and may take Hyper-V's "
       "paths instead. Source: QEMU documentation, \"Hyper-V Enlightenments\" (\"KVM implements its own "
       "paravirtualized interfaces ... well for Linux\").",
       Needs::Domain, hyperv_on_linux},
  };
}

}  // namespace vpt::check_detail
