// pve_advice(): what a Proxmox user does beyond the patched config.
#include <fmt/format.h>

#include "pve/pve_config.hpp"

namespace vpt {

std::vector<std::string> pve_advice(const PveConfig& config, const Plan& plan, const Topology& host,
                                    const PveAdviceContext& context) {
  std::vector<std::string> advice;
  if (config.cpu_type != "host") {
    advice.push_back(fmt::format(
        "Set cpu: host. With {} the guest gets a named CPU model instead of this host's features{}; keep a named "
        "model only if the VM must live-migrate to nodes with other CPUs.",
        config.cpu_type.empty() ? std::string("no cpu: (Proxmox's default model)") : "cpu: " + config.cpu_type,
        is_amd(host) ? ", and without topoext an AMD guest may not read the -smp threads as SMT pairs" : ""));
  }
  if (!plan.isolate.empty()) {  // the host keeps CPUs of its own
    advice.push_back(
        context.confine_host
            ? fmt::format("While the VM runs, its hookscript keeps the host's own processes (system.slice, user.slice, "
                          "init.scope) on CPUs {}; kernel threads need isolcpus={} nohz_full={} rcu_nocbs={} at boot.",
                          plan.host, plan.isolate, plan.isolate, plan.isolate)
            : fmt::format("Keep the host off the VM's CPUs: add --confine-host (the hookscript then sets AllowedCPUs={} "
                          "on the host's slices while the VM runs), or boot with isolcpus={} nohz_full={} rcu_nocbs={}.",
                          plan.host, plan.isolate, plan.isolate, plan.isolate));
    advice.push_back(fmt::format("Steer interrupts to the host's CPUs: set /proc/irq/*/smp_affinity_list to {} "
                                 "(or IRQBALANCE_BANNED_CPULIST={}).",
                                 plan.host, plan.isolate));
  }
  if (!config.hugepages && !context.hugepages_set)
    advice.push_back("Back the memory with hugepages: --hugepages 1024 (or 2) writes hugepages: and the numa lines "
                     "it needs. Proxmox reserves the pages when the VM starts; 1 GiB pages are surest reserved at boot "
                     "(hugepagesz=1G hugepages=N).");
  if (!config.disks_without_iothread.empty())
    advice.push_back(fmt::format(
        "Give {} iothread=1 (SCSI disks also need scsihw: virtio-scsi-single), so their I/O runs on an I/O thread "
        "the plan places instead of QEMU's main loop; then run vpt-tune again.",
        fmt::join(config.disks_without_iothread, ", ")));
  if (!config.hostpci_mappings.empty() && config.hostpci.empty())
    advice.push_back(fmt::format("The passed-through devices are cluster mappings ({}): give the GPU's address with "
                                 "--gpu so the plan keeps the VM on its NUMA node.",
                                 fmt::join(config.hostpci_mappings, ", ")));
  return advice;
}

}  // namespace vpt
