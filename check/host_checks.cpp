// The live host: frequency policy, isolation, interrupts, transparent
// hugepages, KVM halt polling, irqbalance. Every fix is a command for the
// user; vpt-tune runs none of them.
#include <regex>

#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

// The CPUs the guest's vCPUs run on: its pins, else the plan's (what --fix gives it).
CpuSet guest_cpus(const Context& c) {
  if (!c.vcpu_cpus.empty()) return c.vcpu_cpus;
  return c.plan ? c.plan->vcpu_cpus() : CpuSet{};
}

std::optional<Hit> host_governor(const Context& c) {
  const CpuSet guest = guest_cpus(c);
  std::map<std::string, CpuSet> slow;  // "governor powersave (intel_pstate), EPP balance_performance" -> CPUs
  CpuSet with_epp, all_slow;
  for (unsigned cpu : guest) {
    auto it = c.live->cpufreq.find(cpu);
    if (it == c.live->cpufreq.end() || it->second.governor == "performance") continue;
    const CpuFrequencyPolicy& p = it->second;
    std::string key = fmt::format("governor {}{}", p.governor, p.driver.empty() ? "" : fmt::format(" ({})", p.driver));
    if (!p.epp.empty()) {
      key += fmt::format(", EPP {}", p.epp);
      with_epp.insert(cpu);
    }
    slow[key].insert(cpu);
    all_slow.insert(cpu);
  }
  if (slow.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (const auto& [what, cpus] : slow) parts.push_back(fmt::format("{}: {}", cpus_text(cpus), what));
  std::string commands = fmt::format(
      "for c in {}; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done",
      cpu_words(all_slow));
  if (!with_epp.empty())
    commands += fmt::format("\n# (with the performance governor intel_pstate and amd-pstate also set the EPP to "
                            "performance; under another governor:)\nfor c in {}; do echo performance > "
                            "/sys/devices/system/cpu/cpu$c/cpufreq/energy_performance_preference; done",
                            cpu_words(with_epp));
  commands += fmt::format("\n# or, with Debian's linux-cpupower: cpupower -c {} frequency-set -g performance",
                          all_slow.to_string());
  return host_fix(fmt::format("the guest's {}", fmt::join(parts, "; ")), commands);
}

bool has_hook_for(const Context& c) {
  for (const std::string& hook : c.live->libvirt_qemu_hooks)
    if (hook == "qemu" || hook == "qemu.d/vpt-tune-" + c.domain.name) return true;
  return false;
}

std::optional<Hit> host_isolation(const Context& c) {
  const CpuSet guest = guest_cpus(c);
  if (guest.empty() || c.live->isolcpus.contains(guest) || has_hook_for(c)) return std::nullopt;
  const CpuSet host = host_side_cpus(c, guest);
  if (host.empty()) return std::nullopt;  // nothing left for the host to keep
  const CpuSet not_isolated = guest - c.live->isolcpus;
  CpuSet tickless = guest;
  tickless.erase(0);
  std::string evidence = fmt::format("the guest's {} {} not in isolcpus= ({}) and no libvirt qemu hook confines the "
                                     "host: host processes and kernel threads may run there",
                                     cpus_text(not_isolated), not_isolated.size() == 1 ? "is" : "are",
                                     c.live->isolcpus.empty() ? "none" : c.live->isolcpus.to_string());
  if (guest.contains(0))
    evidence += "; CPU 0 is among them: the boot CPU keeps housekeeping work, and kernels before the 2025 change to "
                "Documentation/timers/no_hz.rst drop it from nohz_full=";
  std::string commands = fmt::format(
      "# while the guest runs (reversible; restart libvirtd once after the first hook):\n"
      "vpt-tune hook --domain {} --host-cpus {}\n"
      "# or for good, on the kernel command line (then reboot):\n"
      "isolcpus=managed_irq,domain,{}{}",
      c.domain.name, host.to_string(), guest.to_string(),
      tickless.empty() ? "" : fmt::format(" nohz_full={0} rcu_nocbs={0}", tickless.to_string()));
  return host_fix(evidence, commands);
}

std::optional<Hit> host_nohz_cpu0(const Context& c) {
  if (!c.live->nohz_full.contains(0)) return std::nullopt;
  CpuSet rest = c.live->nohz_full;
  rest.erase(0);
  return host_fix(fmt::format("nohz_full={} names CPU 0, the boot CPU", c.live->nohz_full.to_string()),
                  rest.empty() ? "# drop nohz_full=0 from the kernel command line"
                               : fmt::format("# on the kernel command line: nohz_full={}", rest.to_string()));
}

// NVMe I/O queue interrupts ("nvme0q1", not the admin queue "nvme0q0") are
// allocated with managed affinity by the NVMe driver.
bool nvme_io_queue(const std::string& actions) {
  static const std::regex pattern(R"(nvme\d+q[1-9]\d*)");
  return std::regex_search(actions, pattern);
}

bool managed(const IrqLine& irq) { return irq.managed ? *irq.managed : nvme_io_queue(irq.actions); }

std::string irq_list(const std::vector<const IrqLine*>& irqs, std::size_t keep = 6) {
  std::vector<std::string> parts;
  for (const IrqLine* irq : irqs) {
    if (parts.size() == keep) {
      parts.push_back(fmt::format("and {} more", irqs.size() - keep));
      break;
    }
    parts.push_back(fmt::format("{} ({}) on {}", irq->irq, irq->actions, cpus_text(irq->affinity)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::optional<Hit> host_irq_affinity(const Context& c) {
  const CpuSet guest = guest_cpus(c);
  const CpuSet host = host_side_cpus(c, guest);
  if (guest.empty() || host.empty()) return std::nullopt;
  std::vector<const IrqLine*> movable, passed;
  for (const IrqLine& irq : c.live->irqs) {
    if (irq.actions.empty() || managed(irq) || !irq.affinity.intersects(guest)) continue;
    const bool of_guest = std::find(c.domain.hostdevs.begin(), c.domain.hostdevs.end(), irq.device) != c.domain.hostdevs.end();
    (of_guest ? passed : movable).push_back(&irq);
  }
  if (movable.empty() && passed.empty()) return std::nullopt;
  std::vector<std::string> parts;
  if (!movable.empty()) parts.push_back(fmt::format("{} IRQ{} may be handled on the guest's CPUs: {}", movable.size(),
                                                    movable.size() == 1 ? "" : "s", irq_list(movable)));
  if (!passed.empty())
    parts.push_back(fmt::format("of the passed-through devices: {}", irq_list(passed)));
  std::string numbers;
  for (const auto* list : {&movable, &passed})
    for (const IrqLine* irq : *list) {
      if (!numbers.empty()) numbers += ' ';
      numbers += std::to_string(irq->irq);
    }
  return host_fix(fmt::format("{}", fmt::join(parts, "; ")),
                  fmt::format("for irq in {}; do echo {} > /proc/irq/$irq/smp_affinity_list; done\n"
                              "# new IRQs too, on the kernel command line: irqaffinity={}\n"
                              "# (irqbalance moves them back unless it bans the guest's CPUs: see host-irqbalance)",
                              numbers, host.to_string(), host.to_string()));
}

std::optional<Hit> host_managed_irqs(const Context& c) {
  const CpuSet guest = guest_cpus(c);
  if (guest.empty()) return std::nullopt;
  if (c.live->isolcpus_managed_irq && c.live->isolcpus.contains(guest)) return std::nullopt;
  std::vector<const IrqLine*> found;
  bool guessed = false;
  for (const IrqLine& irq : c.live->irqs)
    if (!irq.actions.empty() && managed(irq) && irq.affinity.intersects(guest)) {
      found.push_back(&irq);
      guessed |= !irq.managed.has_value();
    }
  if (found.empty()) return std::nullopt;
  return host_fix(fmt::format("{} managed IRQ{} may fire on the guest's CPUs: {}{}", found.size(),
                              found.size() == 1 ? "" : "s", irq_list(found),
                              guessed ? " (managed: NVMe I/O queues; debugfs was not readable)" : ""),
                  fmt::format("# smp_affinity_list cannot move these; on the kernel command line:\n"
                              "isolcpus=managed_irq,domain,{}",
                              guest.to_string()));
}

std::optional<Hit> host_thp(const Context& c) {
  if (c.domain.hugepages || c.live->thp_enabled != "never") return std::nullopt;
  return host_fix("transparent hugepages are 'never' and the guest has no static hugepages: all its memory is on "
                  "4 KiB pages",
                  "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled\n"
                  "# for good, on the kernel command line: transparent_hugepage=madvise");
}

std::optional<Hit> host_halt_poll(const Context& c) {
  if (!c.kvm || c.live->kvm_halt_poll_ns != 0u) return std::nullopt;
  return host_fix("kvm.halt_poll_ns is 0: halt polling is off",
                  "echo 200000 > /sys/module/kvm/parameters/halt_poll_ns   # x86's default\n"
                  "# for good: options kvm halt_poll_ns=200000 in /etc/modprobe.d/kvm.conf");
}

std::optional<Hit> host_irqbalance(const Context& c) {
  if (!c.live->irqbalance) return std::nullopt;
  const CpuSet guest = guest_cpus(c);
  if (guest.empty()) return std::nullopt;
  const IrqbalanceDaemon& d = *c.live->irqbalance;
  const CpuSet banned = d.banned ? *d.banned : c.live->isolcpus | c.live->nohz_full;
  if (banned.contains(guest)) return std::nullopt;
  std::string bans = d.banned ? fmt::format("IRQBALANCE_BANNED_CPULIST bans {}", banned.empty() ? "none" : banned.to_string())
                              : fmt::format("no IRQBALANCE_BANNED_CPULIST, so it avoids only the isolcpus=/nohz_full= "
                                            "CPUs ({})",
                                            banned.empty() ? "none" : banned.to_string());
  return host_fix(fmt::format("irqbalance (pid {}) runs; {}: it spreads IRQs onto the guest's {}", d.pid, bans,
                              cpus_text(guest - banned)),
                  fmt::format("echo 'IRQBALANCE_BANNED_CPULIST={}' >> /etc/default/irqbalance\n"
                              "service irqbalance restart   # systemctl restart irqbalance with systemd",
                              (banned | guest).to_string()));
}

}  // namespace

std::vector<Check> host_checks() {
  return {
      {"host-governor", Severity::Warning, "The guest's CPUs are not on the performance governor",
       "KVM cannot raise the CPU frequency itself: with an on-demand governor a vCPU's bursts run at a low clock "
       "until the governor notices. Source: Arch Wiki, PCI passthrough via OVMF, \"CPU frequency governor\"; Linux "
       "Documentation/admin-guide/pm/cpufreq.rst and intel_pstate.rst (energy_performance_preference).",
       Needs::LiveHost, host_governor},
      {"host-isolation", Severity::Info, "The guest's CPUs are open to the host's own work",
       "Pinning keeps the vCPUs on their CPUs but not other work off them: host processes, kernel threads and "
       "timer ticks still run there. isolcpus= and nohz_full= take CPUs from the host at boot; a libvirt hook "
       "confines the host's cgroups only while the guest runs. Source: Arch Wiki, PCI passthrough via OVMF, \"CPU "
       "pinning with isolcpus\"; Linux Documentation/timers/no_hz.rst.",
       Needs::LiveHost, host_isolation},
      {"host-nohz-cpu0", Severity::Info, "nohz_full= names CPU 0",
       "At least one CPU must keep the timekeeping tick; kernels before a 2025 change drop the boot CPU from "
       "nohz_full= with a boot-time error, so listing CPU 0 does not do what it says. Source: Linux "
       "Documentation/timers/no_hz.rst (\"the boot CPU is prohibited from entering adaptive-ticks mode\", in "
       "releases up to early 2025).",
       Needs::LiveHost, host_nohz_cpu0},
      {"host-irq-affinity", Severity::Warning, "Interrupts may be handled on the guest's CPUs",
       "An interrupt handled on a vCPU's CPU stops that vCPU for the handler's time; steer the host's interrupts "
       "to the CPUs it keeps. A passed-through device's interrupts reach the host first and are forwarded to the "
       "guest (unless the hardware posts them to the vCPU directly). Source: Linux "
       "Documentation/core-api/irq/irq-affinity.rst; Arch Wiki, PCI passthrough via OVMF, \"CPU pinning with "
       "isolcpus\".",
       Needs::LiveHost, host_irq_affinity},
      {"host-managed-irqs", Severity::Info, "Kernel-managed interrupts may fire on the guest's CPUs",
       "The kernel spreads managed interrupts (NVMe queues, for one) over all CPUs and their affinity cannot be "
       "changed through /proc/irq; isolcpus=managed_irq keeps them off isolated CPUs as far as it can. Source: "
       "Linux Documentation/admin-guide/kernel-parameters.txt, isolcpus (managed_irq).",
       Needs::LiveHost, host_managed_irqs},
      {"host-thp", Severity::Warning, "Transparent hugepages are off and the guest has no static hugepages",
       "QEMU asks for transparent hugepages for guest memory; with them off ('never') the guest runs on 4 KiB "
       "pages only. 'madvise' is enough. Source: Arch Wiki, PCI passthrough via OVMF, \"Transparent huge pages\"; "
       "Linux Documentation/admin-guide/mm/transhuge.rst.",
       Needs::LiveHost, host_thp},
      {"host-halt-poll", Severity::Info, "KVM halt polling is off",
       "After a vCPU halts, KVM polls briefly for a wake-up before giving its CPU away, which saves the trip "
       "through the scheduler when the wake-up comes soon; halt_poll_ns=0 turns that off. Source: Linux "
       "Documentation/virt/kvm/halt-polling.rst.",
       Needs::LiveHost, host_halt_poll},
      {"host-irqbalance", Severity::Warning, "irqbalance spreads interrupts onto the guest's CPUs",
       "irqbalance rewrites IRQ affinities every few seconds: unless it is told to ban the guest's CPUs "
       "(IRQBALANCE_BANNED_CPULIST; without it, only isolcpus= and nohz_full= CPUs), it undoes any steering of "
       "interrupts away from them. Source: irqbalance(1), IRQBALANCE_BANNED_CPULIST.",
       Needs::LiveHost, host_irqbalance},
  };
}

}  // namespace vpt::check_detail
