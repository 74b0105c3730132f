// The guest CPU: mode, migratable, topology, topoext, cache information, the
// dedicated-vCPU hint.
#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

bool host_cpu_mode(const Domain& d) {
  // 'maximum' under KVM is host-passthrough (libvirt formatdomain, "CPU model and topology").
  return d.cpu_mode == "host-passthrough" || d.cpu_mode == "maximum";
}

// Guests whose users tune for latency: a passed-through device or Windows.
bool gaming_guest(const Context& c) { return c.passthrough || c.windows; }

std::string cpu_mode_text(const Domain& d) {
  if (!d.cpu_mode) return "no <cpu>: QEMU's default CPU model, a small common subset of x86 features";
  return fmt::format("<cpu mode='{}'>{}", *d.cpu_mode, d.cpu_model ? fmt::format(" with model '{}'", *d.cpu_model) : "");
}

std::optional<Hit> cpu_mode(const Context& c) {
  if (!c.kvm || c.domain.qemu_cpu || !gaming_guest(c) || host_cpu_mode(c.domain)) return std::nullopt;
  DomainTuning t;
  t.cpu_host_passthrough = true;
  return tuning_fix(fmt::format("{}, on a guest with {}", cpu_mode_text(c.domain),
                                c.passthrough ? "a passed-through device" : "Windows"),
                    "<cpu mode='host-passthrough' check='none' migratable='off'>\n  ...\n</cpu>", t);
}

std::optional<Hit> cpu_migratable(const Context& c) {
  const Domain& d = c.domain;
  if (!c.kvm || d.qemu_cpu || !gaming_guest(c) || !host_cpu_mode(d) || d.cpu_migratable == "off") return std::nullopt;
  DomainTuning t;
  t.cpu_migratable_off = true;
  return tuning_fix(d.cpu_migratable ? fmt::format("<cpu mode='{}' migratable='{}'>", *d.cpu_mode, *d.cpu_migratable)
                                     : fmt::format("<cpu mode='{}'> without migratable= (libvirt's default is 'on')",
                                                   *d.cpu_mode),
                    fmt::format("<cpu mode='{}' migratable='off'>", *d.cpu_mode), t);
}

// The guest topology fix: the plan's, else one socket of single-thread cores
// (true on any host; SMT pairs need the host model).
Hit topology_fix(const Context& c, std::string evidence) {
  if (c.plan) return plan_fix(c, std::move(evidence));
  const unsigned n = c.domain.max_vcpus;
  DomainTuning t;
  t.topology = GuestTopology{1, 1, n, 1};
  return tuning_fix(std::move(evidence) + "; without a host model the fix is one socket of single-thread cores",
                    fmt::format("<cpu>\n  <topology sockets='1' dies='1' cores='{}' threads='1'/>\n</cpu>", n), t);
}

std::optional<Hit> cpu_topology_missing(const Context& c) {
  const unsigned n = c.domain.max_vcpus;
  if (n < 2 || c.domain.cpu_topology) return std::nullopt;
  return topology_fix(c, fmt::format("no <topology>: libvirt presents the {} vCPUs as {} sockets of 1 core of 1 "
                                     "thread",
                                     n, n));
}

std::optional<Hit> windows_sockets(const Context& c) {
  if (!c.windows || c.presented.sockets <= 2) return std::nullopt;
  return topology_fix(c, fmt::format("the guest sees {} sockets{} and is Windows ({})", c.presented.sockets,
                                     c.domain.cpu_topology ? "" : " (no <topology>: libvirt's default)",
                                     c.domain.os_id.empty() ? "by its name or Hyper-V settings" : c.domain.os_id));
}

std::optional<Hit> topoext_missing(const Context& c) {
  if (!c.kvm || c.domain.qemu_cpu || !is_amd(*c.host) || c.presented.threads < 2 || c.domain.require_topoext) return std::nullopt;
  Hit hit = plan_fix(c, fmt::format("AMD host ({}), <topology threads='{}'>, no <feature policy='require' "
                                    "name='topoext'/>",
                                    c.host->cpu_model.empty() ? c.host->cpu_vendor : c.host->cpu_model,
                                    c.presented.threads));
  return hit;
}

std::optional<Hit> cache_passthrough(const Context& c) {
  const Domain& d = c.domain;
  if (!c.kvm || d.qemu_cpu || !host_cpu_mode(d) || d.cache_passthrough) return std::nullopt;
  DomainTuning t;
  t.cache_passthrough = true;
  return tuning_fix(fmt::format("<cpu mode='{}'> without <cache mode='passthrough'/>", *d.cpu_mode),
                    fmt::format("<cpu mode='{}' ...>\n  <cache mode='passthrough'/>\n</cpu>", *d.cpu_mode), t);
}

// Every vCPU on a CPU of its own that no helper thread uses (and, with the
// host model, whole cores): what the hint promises the guest.
std::optional<std::string> dedicated_cpus(const Context& c) {
  const Domain& d = c.domain;
  if (c.single_pins.size() != d.max_vcpus || c.vcpu_cpus.size() != d.max_vcpus) return std::nullopt;
  if (!d.emulatorpin || d.emulatorpin->intersects(c.vcpu_cpus)) return std::nullopt;
  for (unsigned id : d.iothread_ids) {
    auto it = d.iothreadpins.find(id);
    if (it == d.iothreadpins.end() || it->second.intersects(c.vcpu_cpus)) return std::nullopt;
  }
  if (c.host)
    for (unsigned cpu : c.vcpu_cpus)
      if (!c.vcpu_cpus.contains(smt_siblings(*c.host, cpu))) return std::nullopt;
  return fmt::format("each vCPU has a CPU of its own ({}){}, the emulator and I/O threads run elsewhere",
                     cpus_text(c.vcpu_cpus), c.host ? ", whole cores" : "");
}

std::optional<Hit> kvm_hint_dedicated(const Context& c) {
  const Domain& d = c.domain;
  // Windows reads Hyper-V's enlightenments, not KVM's hints; libvirt accepts
  // the hint only with host-passthrough.
  if (!c.kvm || d.qemu_cpu || c.windows || d.cpu_mode != "host-passthrough") return std::nullopt;
  auto it = d.kvm_features.find("hint-dedicated");
  if (it != d.kvm_features.end() && it->second) return std::nullopt;
  auto dedicated = dedicated_cpus(c);
  if (!dedicated) return std::nullopt;
  DomainTuning t;
  t.kvm_on = {"hint-dedicated"};
  return tuning_fix(*dedicated + "; no <kvm><hint-dedicated state='on'/>",
                    "<features>\n  <kvm>\n    <hint-dedicated state='on'/>\n  </kvm>\n</features>", t);
}

}  // namespace

std::vector<Check> cpu_checks() {
  return {
      {"cpu-mode", Severity::Warning, "The guest CPU is not host-passthrough",
       "host-passthrough shows the guest the host CPU exactly: every instruction set extension and the real cache "
       "and topology information; host-model and named models do not match the host exactly, and a guest with a "
       "passed-through device does not migrate anyway. Source: libvirt Domain XML format, \"CPU model and "
       "topology\"; Arch Wiki, PCI passthrough via OVMF (\"Copy host CPU configuration\").",
       Needs::Domain, cpu_mode},
      {"cpu-migratable", Severity::Info, "host-passthrough still removes the features that block migration",
       "migratable='on' (libvirt's default) removes from the virtual CPU the features that block migration, such "
       "as the invariant TSC; a guest that never migrates keeps them with migratable='off'. Source: libvirt Domain "
       "XML format, \"CPU model and topology\" (migratable).",
       Needs::Domain, cpu_migratable, MinVersions{6005000, 2012000}},
      {"cpu-topology-missing", Severity::Warning, "No guest CPU topology",
       "Without <topology> libvirt presents every vCPU as a socket of its own: the guest sees no SMT siblings and "
       "no shared caches, and client editions of Windows use only their first sockets. Source: libvirt Domain XML "
       "format, \"CPU model and topology\"; Arch Wiki, PCI passthrough via OVMF, \"VM only uses one core\".",
       Needs::Domain, cpu_topology_missing},
      {"windows-sockets", Severity::Error, "Windows sees more sockets than it uses",
       "Client editions of Windows license processors by socket (Home one, Pro two): vCPUs presented as further "
       "sockets stay idle. Present one socket with several cores. Source: libosinfo issue 22 and Red Hat bug "
       "969352 (Windows socket limits); Arch Wiki, PCI passthrough via OVMF, \"VM only uses one core\".",
       Needs::Domain, windows_sockets},
      {"topoext-missing", Severity::Warning, "AMD host: SMT threads presented without topoext",
       "QEMU turns the TOPOEXT CPUID flag off by default (since QEMU 3.1): without it a guest on an AMD CPU does "
       "not see its vCPUs as SMT threads or its L3 layout. Source: Arch Wiki, PCI passthrough via OVMF, "
       "\"Improving performance on AMD CPUs\".",
       Needs::HostModel, topoext_missing},
      {"cache-passthrough", Severity::Info, "The guest does not see the host's real caches",
       "With <cache mode='passthrough'/> the guest reads the host's real cache sizes and which CPUs share them, "
       "which its scheduler uses to place threads; otherwise the hypervisor chooses what to show. Source: libvirt "
       "Domain XML format, \"CPU model and topology\" (cache).",
       Needs::Domain, cache_passthrough},
      {"kvm-hint-dedicated", Severity::Info, "Dedicated vCPUs without the hint that tells the guest",
       "<kvm><hint-dedicated state='on'/> tells a Linux guest its vCPUs are never preempted for long: it then polls "
       "in idle (cpuidle-haltpoll) and skips paravirtual paths meant for overcommitted hosts. Set it only when each "
       "vCPU has a CPU of its own. Source: libvirt Domain XML format, \"Hypervisor features\" (kvm); Linux "
       "Documentation/virt/kvm/x86/cpuid.rst (KVM_HINTS_REALTIME).",
       Needs::Domain, kvm_hint_dedicated, MinVersions{5007000, 2012000}},
  };
}

}  // namespace vpt::check_detail
