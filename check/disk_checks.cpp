// Disks and I/O: I/O threads, cache and I/O modes, queues, emulated buses,
// NVMe passed through.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

// A virtio disk or virtio-scsi controller, by its label in virt's own list
// (Domain::iothread_devices: "disk vda", "virtio-scsi controller 0").
bool is_servable(const Domain& d, const std::string& label) {
  return std::any_of(d.iothread_devices.begin(), d.iothread_devices.end(),
                     [&](const IothreadDevice& dev) { return dev.label == label; });
}

// The label virt gives a controller an I/O thread can serve ("virtio-scsi controller 0"),
// "" for every other controller (USB, SATA, PCI ones have index 0 too).
std::string servable_label(const DomainController& ctl) {
  const bool virtio = ctl.model == "virtio-scsi" || ctl.model == "virtio-transitional" ||
                      ctl.model == "virtio-non-transitional";
  return ctl.type == "scsi" && virtio ? fmt::format("virtio-scsi controller {}", ctl.index) : std::string();
}

// Disks the guest writes to: not CD-ROMs or floppies.
bool data_disk(const DomainDisk& k) { return k.device == "disk" || k.device == "lun"; }

bool direct_cache(const DomainDisk& k) { return k.cache == "none" || k.cache == "directsync"; }

std::string cache_text(const DomainDisk& k) {
  return k.cache ? fmt::format("cache='{}'", *k.cache) : std::string("no cache= (QEMU's default, writeback)");
}

std::string driver_line(const DomainDisk& k, const std::string& extra) {
  return fmt::format("<driver name='qemu'{}{}/>", k.driver_type.empty() ? "" : fmt::format(" type='{}'", k.driver_type),
                     extra);
}

// Devices an I/O thread can serve but none does: virt's classification
// (Domain::iothread_devices: virtio disks, virtio-scsi controllers), the same
// one attach_iothreads() acts on.
std::optional<Hit> disk_no_iothread(const Context& c) {
  const Domain& d = c.domain;
  std::vector<std::string> devices;
  for (const IothreadDevice& dev : d.iothread_devices)
    if (!dev.iothread) devices.push_back(dev.label);
  if (devices.empty()) return std::nullopt;
  auto unserved = [&](const std::string& label) {
    return std::find(devices.begin(), devices.end(), label) != devices.end();
  };

  const unsigned id = d.iothread_ids.empty() ? 1 : d.iothread_ids.front();
  std::vector<std::string> found, snippet;
  if (d.iothreads == 0) snippet.push_back("<iothreads>1</iothreads>");
  for (const DomainDisk& k : d.disks) {
    if (!unserved("disk " + k.target)) continue;
    found.push_back(fmt::format("disk {} (virtio-blk)", k.target));
    snippet.push_back(fmt::format("<disk ...>  <!-- {} -->\n  {}\n</disk>", k.target,
                                  driver_line(k, fmt::format(" iothread='{}'", id))));
  }
  for (const DomainController& ctl : d.controllers) {
    const std::string label = servable_label(ctl);
    if (label.empty() || !unserved(label)) continue;
    std::vector<std::string> disks;
    for (const DomainDisk& k : d.disks)
      if (k.bus == "scsi" && k.controller.value_or(0) == ctl.index) disks.push_back(k.target);
    found.push_back(disks.empty() ? fmt::format("virtio-scsi controller {}", ctl.index)
                                  : fmt::format("virtio-scsi controller {} (disks {})", ctl.index, fmt::join(disks, ", ")));
    snippet.push_back(fmt::format("<controller type='scsi' index='{}' model='{}'>\n  <driver iothread='{}'/>\n</controller>",
                                  ctl.index, ctl.model, id));
  }
  Hit hit;
  hit.evidence = fmt::format("{} {} no I/O thread{}", fmt::join(found, " and "), found.size() == 1 ? "has" : "have",
                             d.iothreads == 0 ? "; the domain has no <iothreads>" : "");
  hit.fix = fmt::format("{}", fmt::join(snippet, "\n"));
  hit.fix_kind = FixKind::DomainXml;
  hit.auto_fix = AutoFix::IothreadAttach;
  hit.iothread_devices = devices;
  return hit;
}

std::optional<Hit> disk_io_native_cache(const Context& c) {
  std::vector<std::string> found, targets, snippet;
  for (const DomainDisk& k : c.domain.disks) {
    if (k.io != "native" || direct_cache(k)) continue;
    found.push_back(fmt::format("disk {}: io='native' with {}", k.target, cache_text(k)));
    targets.push_back(k.target);
    snippet.push_back(fmt::format("<disk ...>  <!-- {} -->\n  {}\n</disk>", k.target,
                                  driver_line(k, " cache='none' io='native'")));
  }
  if (found.empty()) return std::nullopt;
  DomainTuning t;
  t.disk_cache_none = targets;
  return tuning_fix(fmt::format("{}", fmt::join(found, "; ")), fmt::format("{}", fmt::join(snippet, "\n")), t);
}

std::optional<Hit> disk_cache(const Context& c) {
  std::vector<std::string> found, snippet;
  for (const DomainDisk& k : c.domain.disks) {
    if (!data_disk(k) || direct_cache(k) || k.io == "native" || k.type == "nvme" || k.type == "network") continue;
    if (k.cache == "unsafe") continue;  // chosen on purpose (scratch disks, installs)
    found.push_back(fmt::format("disk {}: {}", k.target, cache_text(k)));
    snippet.push_back(fmt::format("<disk ...>  <!-- {} -->\n  {}\n</disk>", k.target,
                                  driver_line(k, k.type == "block" ? " cache='none' io='native'" : " cache='none'")));
  }
  if (found.empty()) return std::nullopt;
  return manual_fix(fmt::format("{}", fmt::join(found, "; ")), fmt::format("{}", fmt::join(snippet, "\n")),
                    "cache='none' opens the image with O_DIRECT, which not every filesystem accepts (tmpfs long "
                    "refused it): check the image's filesystem, then change it by hand");
}

std::optional<Hit> disk_io_mode(const Context& c) {
  std::vector<std::string> found, targets, snippet;
  for (const DomainDisk& k : c.domain.disks) {
    // Block devices and raw images with the host cache off; io_uring is as good a choice.
    const bool raw_or_block = k.type == "block" || k.driver_type == "raw";
    if (!data_disk(k) || !direct_cache(k) || !raw_or_block || k.io == "native" || k.io == "io_uring") continue;
    found.push_back(fmt::format("disk {}: {} with {}", k.target, cache_text(k),
                                k.io ? fmt::format("io='{}'", *k.io) : std::string("no io= (threads)")));
    targets.push_back(k.target);
    snippet.push_back(fmt::format("<disk ...>  <!-- {} -->\n  {}\n</disk>", k.target,
                                  driver_line(k, fmt::format(" cache='{}' io='native'", *k.cache))));
  }
  if (found.empty()) return std::nullopt;
  DomainTuning t;
  t.disk_io_native = targets;
  return tuning_fix(fmt::format("{}", fmt::join(found, "; ")), fmt::format("{}", fmt::join(snippet, "\n")), t);
}

// "pc-q35-4.2" -> {4, 2}; nullopt for aliases ("q35") and other machines.
std::optional<std::pair<unsigned, unsigned>> machine_version(const std::string& machine) {
  for (std::string_view prefix : {"pc-q35-", "pc-i440fx-"}) {
    if (!machine.starts_with(prefix)) continue;
    std::string_view v = std::string_view(machine).substr(prefix.size());
    unsigned major = 0, minor = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), major);
    if (ec != std::errc() || p == v.data() + v.size() || *p != '.') return std::nullopt;
    auto [q, ec2] = std::from_chars(p + 1, v.data() + v.size(), minor);
    if (ec2 != std::errc()) return std::nullopt;
    return std::pair{major, minor};
  }
  return std::nullopt;
}

std::optional<Hit> disk_queues(const Context& c) {
  const Domain& d = c.domain;
  auto version = machine_version(d.machine);
  if (!version || *version >= std::pair{5u, 2u} || d.max_vcpus < 2) return std::nullopt;
  std::vector<std::string> found, snippet;
  for (const DomainDisk& k : d.disks)
    if (is_servable(d, "disk " + k.target) && data_disk(k) && !k.queues) {
      found.push_back(fmt::format("disk {}", k.target));
      snippet.push_back(fmt::format("<disk ...>  <!-- {} -->\n  {}\n</disk>", k.target,
                                    driver_line(k, fmt::format(" queues='{}'", d.max_vcpus))));
    }
  for (const DomainController& ctl : d.controllers)
    if (!servable_label(ctl).empty() && is_servable(d, servable_label(ctl)) && !ctl.queues) {
      found.push_back(fmt::format("virtio-scsi controller {}", ctl.index));
      snippet.push_back(fmt::format("<controller type='scsi' index='{}' model='{}'>\n  <driver queues='{}'/>\n</controller>",
                                    ctl.index, ctl.model, d.max_vcpus));
    }
  if (found.empty()) return std::nullopt;
  return manual_fix(fmt::format("machine type {} (older than QEMU 5.2's): {} {} one queue for {} vCPUs", d.machine,
                                fmt::join(found, ", "), found.size() == 1 ? "has" : "have", d.max_vcpus),
                    fmt::format("{}", fmt::join(snippet, "\n")),
                    "queues are a device setting vpt-tune leaves to you (a newer machine type gives one queue per "
                    "vCPU too, but changes the hardware the guest sees)");
}

std::optional<Hit> disk_emulated_bus(const Context& c) {
  if (!c.kvm) return std::nullopt;
  std::vector<std::string> found;
  for (const DomainDisk& k : c.domain.disks)
    if (data_disk(k) && (k.bus == "sata" || k.bus == "ide")) found.push_back(fmt::format("disk {} on the {} bus", k.target, k.bus));
  if (found.empty()) return std::nullopt;
  const bool only_emulated = std::none_of(c.domain.disks.begin(), c.domain.disks.end(), [](const DomainDisk& k) {
    return data_disk(k) && k.bus != "sata" && k.bus != "ide";
  });
  std::string evidence = fmt::format("{}", fmt::join(found, "; "));
  Hit hit = manual_fix(evidence,
                       "<controller type='scsi' model='virtio-scsi'/>\n<disk ...>\n  <target dev='sdX' bus='scsi'/>\n</disk>",
                       "the guest needs its virtio driver before the disk moves (Windows: install virtio-win first): "
                       "change the bus by hand");
  if (c.windows && only_emulated) {
    hit.severity = Severity::Warning;
    hit.evidence += "; these are the Windows guest's only disks, so every disk access goes through an emulated "
                    "AHCI controller. Switch safely: add a small second disk on bus='virtio' (or a virtio-scsi "
                    "controller), boot, install the viostor (or vioscsi) driver from the virtio-win ISO, shut down, "
                    "then move the system disk to that bus";
  }
  return hit;
}

// <iothreads> that no disk or controller names: threads that do nothing.
std::optional<Hit> iothreads_unused(const Context& c) {
  const Domain& d = c.domain;
  if (d.iothreads == 0) return std::nullopt;
  for (const IothreadDevice& dev : d.iothread_devices)
    if (dev.iothread) return std::nullopt;
  Hit hit;
  hit.evidence = fmt::format("{} I/O thread{} defined, named by no <driver iothread='N'/>", d.iothreads,
                             d.iothreads == 1 ? "" : "s");
  if (!d.iothread_devices.empty()) {
    hit.evidence += "; the fix of disk-no-iothread attaches the virtio devices to them";
  } else {
    hit.evidence += fmt::format("; the domain has no virtio disk or virtio-scsi controller for one to serve{}",
                                d.unservable_disks.empty() ? "" : fmt::format(" ({})", fmt::join(d.unservable_disks, ", ")));
  }
  return hit;
}

std::optional<Hit> nvme_passthrough(const Context& c) {
  std::vector<std::string> found;
  if (c.host)
    for (const std::string& address : c.domain.hostdevs)
      for (const PciDevice& dev : c.host->pci)
        if (dev.address == address && dev.device_class == PciDevice::Class::Nvme)
          found.push_back(fmt::format("PCI {} ({}) is passed through", address, dev.name.empty() ? "NVMe" : dev.name));
  for (const DomainDisk& k : c.domain.disks)
    if (k.type == "nvme") found.push_back(fmt::format("disk {} is an NVMe namespace (<disk type='nvme'>)", k.target));
  if (found.empty()) return std::nullopt;
  Hit hit;
  hit.evidence = fmt::format("{}", fmt::join(found, "; "));
  return hit;
}

}  // namespace

std::vector<Check> disk_checks() {
  return {
      {"disk-no-iothread", Severity::Warning, "Virtio disks or controllers without an I/O thread",
       "Without an I/O thread, a virtio disk's requests are served by QEMU's main loop, next to device emulation "
       "and monitor work; an I/O thread of its own, pinned to the host's CPUs, takes them off it. I/O threads work "
       "for virtio-blk and virtio-scsi only. Source: libvirt Domain XML format, \"IOThreads Allocation\" and "
       "\"Hard drives\" (driver iothread); Arch Wiki, PCI passthrough via OVMF, \"CPU pinning\".",
       Needs::Domain, disk_no_iothread},
      {"iothreads-unused", Severity::Info, "I/O threads are defined but serve nothing",
       "An I/O thread serves only the virtio disks and virtio-scsi controllers whose <driver iothread='N'/> names "
       "it; one that none names idles, and the disks it was meant for stay in QEMU's main loop. Source: libvirt "
       "Domain XML format, \"IOThreads Allocation\".",
       Needs::Domain, iothreads_unused},
      {"disk-io-native-cache", Severity::Error, "io='native' without the host cache off: QEMU refuses the disk",
       "Linux native AIO works on files opened with O_DIRECT only, so QEMU refuses to open such a disk (\"aio=native "
       "was specified, but it requires cache.direct=on\"); cache='none' or 'directsync' gives O_DIRECT. Source: QEMU "
       "block/file-posix.c; libvirt Domain XML format, \"Hard drives\" (driver cache, io).",
       Needs::Domain, disk_io_native_cache},
      {"disk-cache", Severity::Info, "Disks go through the host's page cache",
       "The guest caches its own disk; a second copy in the host's page cache costs memory and a copy per request. "
       "Red Hat calls cache='none' generally the best choice for guests with large I/O. Source: Red Hat Enterprise "
       "Linux 7 Virtualization Tuning and Optimization Guide, 7.2 \"Caching\".",
       Needs::Domain, disk_cache},
      {"disk-io-mode", Severity::Info, "Direct-I/O disks on QEMU's thread pool instead of native AIO",
       "With the host cache off (cache='none'), io='native' submits a raw image's or block device's requests "
       "with the kernel's asynchronous I/O instead of a pool of worker threads. Source: Red Hat Enterprise Linux 7 "
       "Virtualization Tuning and Optimization Guide, 7.3 \"I/O mode\".",
       Needs::Domain, disk_io_mode},
      {"disk-queues", Severity::Info, "Virtio disks with a single queue on an old machine type",
       "Since QEMU 5.2 virtio-blk and virtio-scsi get one queue per vCPU; machine types older than 5.2 keep one "
       "queue that all vCPUs share. Source: QEMU 5.2 (\"virtio-scsi-pci: default num_queues to -smp N\"); libvirt "
       "Domain XML format, \"Hard drives\" (driver queues).",
       Needs::Domain, disk_queues},
      {"disk-emulated-bus", Severity::Info, "Disks on an emulated SATA or IDE controller",
       "SATA and IDE controllers are emulated register by register; virtio-blk and virtio-scsi are paravirtual "
       "and can use I/O threads. Source: Arch Wiki, PCI passthrough via OVMF (\"Virtio disk\"); libvirt Domain XML "
       "format, \"Hard drives\".",
       Needs::Domain, disk_emulated_bus},
      {"nvme-passthrough", Severity::Info, "An NVMe drive is passed through",
       "A passed-through NVMe controller skips QEMU's block layer and I/O threads: the fastest disk path. Its "
       "interrupts are the host's to place (see host-irq-affinity and host-managed-irqs). Source: libvirt Domain "
       "XML format, \"Host device assignment\".",
       Needs::Domain, nvme_passthrough},
  };
}

}  // namespace vpt::check_detail
