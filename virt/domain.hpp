// Domain: what vpt-tune reads from a libvirt domain definition (the output of
// `virsh dumpxml`), plus the original text so it can be patched without loss.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "common/cpuset.hpp"
#include "probe/topology.hpp"

namespace vpt {

// Malformed, non-<domain> or unreadable domain XML, or a domain that does not
// exist. what() is one line: "cannot read domain 'NAME': <problem>".
class DomainInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A <disk> of <devices>, as `check` reviews it.
struct DomainDisk {
  std::string type;                          // <disk type>: "file", "block", "nvme", "network", "volume"
  std::string device;                        // <disk device>: "disk", "cdrom", "lun", "floppy"
  std::string bus;                           // <target bus>: "virtio", "scsi", "sata", "ide", "usb"
  std::string target;                        // <target dev>: "vda", "sda"
  std::string driver_type;                   // <driver type>: "qcow2", "raw"; "" when not written
  std::optional<std::string> cache, io;      // <driver cache=... io=...>
  std::optional<unsigned> iothread, queues;  // <driver iothread=... queues=...>
  std::optional<unsigned> controller;        // <address type='drive' controller=N>
};

// A <controller> of <devices>.
struct DomainController {
  std::string type;                          // "scsi", "usb", "sata", "pci", "virtio-serial"
  std::string model;                         // "virtio-scsi", "qemu-xhci"; "" when not written
  unsigned index = 0;
  std::optional<unsigned> iothread, queues;  // <driver iothread=... queues=...>
};

// A device an I/O thread can serve: a virtio disk or a virtio-scsi controller
// (whose SCSI disks it then serves).
struct IothreadDevice {
  std::string label;                         // "disk vda", "virtio-scsi controller 0"
  std::optional<unsigned> iothread;          // <driver iothread='N'>, nullopt = QEMU's main loop
};

// A guest NUMA cell as defined (<cpu><numa><cell>) and its memory binding
// (<numatune><memnode>), when it has one.
struct DomainCell {
  unsigned id = 0;
  CpuSet vcpus;                              // cpus='...'
  std::optional<std::uint64_t> memory_bytes;
  std::optional<CpuSet> memnode_nodeset;     // <memnode cellid=id nodeset=...>
  std::optional<std::string> memnode_mode;
};

struct Domain {
  std::string name;
  std::string uuid;                          // "" when the XML has none
  std::string type;                          // <domain type=...>: "kvm", "qemu", "test"
  unsigned max_vcpus = 1;                    // <vcpu>N</vcpu>
  unsigned current_vcpus = 1;                // <vcpu current=...>, else max_vcpus
  unsigned iothreads = 0;                    // <iothreads>, or the number of <iothreadids>
  std::vector<unsigned> iothread_ids;        // ids libvirt gives them, in definition order
  std::map<unsigned, CpuSet> vcpupins;       // vCPU -> <vcpupin cpuset>
  std::optional<CpuSet> emulatorpin;
  std::map<unsigned, CpuSet> iothreadpins;   // iothread id -> <iothreadpin cpuset>
  std::optional<std::string> cpu_mode;       // nullopt = no <cpu>; "custom" when <cpu> has no mode
  std::optional<std::string> cpu_model;      // <cpu><model> text (custom and host-model)
  std::optional<GuestTopology> cpu_topology; // <cpu><topology>
  bool cache_passthrough = false;            // <cpu><cache mode='passthrough'/>
  bool require_topoext = false;              // <cpu><feature policy='require' name='topoext'/>
  std::optional<std::string> numatune_mode;  // <numatune><memory mode=...> ("strict" when omitted)
  std::optional<CpuSet> numatune_nodeset;    // <numatune><memory nodeset=...>
  std::optional<std::uint64_t> memory_bytes; // <memory>, in bytes
  std::vector<DomainCell> numa_cells;        // <cpu><numa> cells, in order
  std::vector<IothreadDevice> iothread_devices;  // virtio disks, virtio-scsi controllers, in order
  std::vector<std::string> unservable_disks; // disks no I/O thread can serve: "disk sdb (sata)"
  std::vector<std::string> hostdevs;         // PCI <hostdev>s, then -device vfio-pci of <qemu:commandline>, as "0000:01:00.0"

  // <qemu:commandline>: arguments libvirt hands to QEMU unchanged, after its own.
  std::vector<std::string> qemu_args;
  std::optional<std::string> qemu_cpu;       // the value of a -cpu there: it replaces libvirt's -cpu (<cpu>, <hyperv>, timers' hv-time)
  std::vector<std::string> qemu_cpu_replaces; // what of the definition that -cpu makes ineffective: "<cpu mode='host-passthrough'>", ...
  bool qemu_cpu_pm = false;                  // -overcommit cpu-pm=on: vCPUs keep their CPU while idle
  // CPU features the guest must not see: <cpu><feature policy='disable|forbid'>, or with
  // qemu_cpu its "-name" / "name=off" flags ("hypervisor", "topoext").
  std::vector<std::string> cpu_disabled_features;

  // What `check` reviews besides the pins.
  std::optional<CpuSet> vcpu_cpuset;         // <vcpu cpuset=...>: where unpinned vCPUs may run
  std::string os_id;                         // libosinfo <os id=...> in <metadata>, "" when absent
  std::string machine;                       // <os><type machine=...>: "pc-q35-8.2"
  std::optional<std::string> cpu_migratable; // <cpu migratable=...> as written
  std::optional<std::string> hyperv_mode;    // nullopt = no <hyperv>; "custom" when mode is omitted
  std::map<std::string, bool> hyperv;        // <hyperv> children: name -> state='on'
  std::optional<std::string> hyperv_vendor_id;  // <vendor_id value=...> when state='on'
  std::map<std::string, bool> kvm_features;  // <kvm> children: "hidden", "hint-dedicated" -> state='on'
  std::map<std::string, std::optional<bool>> timers;  // <clock><timer name> -> present= (nullopt: not written)
  bool hugepages = false;                    // <memoryBacking><hugepages>
  std::optional<std::uint64_t> hugepage_bytes;  // its first <page size>; nullopt = the host's default size
  std::optional<std::string> memballoon_model;  // nullopt = no <memballoon> (libvirt adds a virtio one)
  std::vector<DomainDisk> disks;
  std::vector<DomainController> controllers;
  std::string xml;                           // the text it was read from
};

// One of libvirt's memory units ("KiB", "MiB", "G", ...), as <memory unit=...> takes.
bool is_memory_unit(std::string_view unit);

// Reads a domain definition. `source_name` names it in errors (a file path or
// the domain's name on a connection). cpuset attributes use libvirt's syntax,
// "^N" exclusions included. Throws DomainInputError.
Domain parse_domain_xml(std::string_view xml, const std::string& source_name);

// `domain` itself when QEMU runs it (<domain type='kvm'|'qemu'>, or libvirt's
// test driver's 'test'); otherwise throws DomainInputError naming `source` and
// the type: pins and a host-passthrough CPU mean nothing to an LXC container
// or a Xen guest.
Domain require_qemu_guest(Domain domain, const std::string& source);

// Reads a file ("-" = standard input) and parses it. Throws DomainInputError.
Domain load_domain_xml_file(const std::string& path);

// What the domain implies for the optimizer: its name, vCPU count (the maximum:
// the guest topology has to cover it), its iothread count (at least 1 where it
// has a virtio disk or virtio-scsi controller, 0 where it has none; see
// iothreads_for), its memory (for guest NUMA cells), and its GPU (choose_gpu
// of its PCI hostdevs). Flags given by the user override these.
GuestRequest request_defaults_from(const Domain& domain, const Topology* host = nullptr);

// The passed-through GPU among a guest's PCI devices ("0000:01:00.0", in
// definition order): the first the host model lists as a GPU, else the first
// device; nullopt without devices. Used for libvirt domains and Proxmox configs.
std::optional<std::string> choose_gpu(const std::vector<std::string>& pci_addresses, const Topology* host);
// How many I/O threads a plan for this domain should have: `wanted`, but none
// added beyond the devices an I/O thread can serve (virtio disks, virtio-scsi
// controllers: an I/O thread no <driver iothread='N'/> names does nothing).
// The iothreads the domain already defines are kept (and pinned) even where
// they serve nothing, and the note says so. Says why in `notes`.
unsigned iothreads_for(const Domain& domain, unsigned wanted, std::vector<std::string>& notes);

// A host PCI address as Proxmox's hostpci and QEMU's vfio-pci host= write it
// ("01:00", "01:00.1", "0000:01:00.0", hex; no function = function 0), as
// "0000:01:00.0"; nullopt when it is not one.
std::optional<std::string> parse_pci_address(std::string_view text);

// A PCI address part (domain, bus, slot, function) as libvirt reads it: an
// unsigned number in C's base 0 ("0x10" = 16, "010" = 8, "10" = 10).
// nullopt for anything else.
std::optional<unsigned> parse_libvirt_pci_part(std::string_view text);

// Parses libvirt's cpuset syntax: "0-3,8", and "0-7,^2" exclusions.
// Throws std::invalid_argument.
CpuSet parse_libvirt_cpuset(std::string_view text);

}  // namespace vpt
