// Internal to vpt_virt: loading domain XML with pugixml and reporting its errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace vpt::detail {

// Loads `xml` into `doc` and checks it holds one <domain> element.
// raw = keep entities, line ends and whitespace exactly as written, for
// patching (save with format_raw | format_no_escapes); otherwise values are
// unescaped for reading. Throws DomainInputError naming `source`.
void load_domain_document(pugi::xml_document& doc, std::string_view xml, const std::string& source,
                          bool raw = false);

// The element's text with surrounding whitespace removed.
std::string trimmed_text(pugi::xml_node node);

// A memory size as libvirt writes it: <memory unit='KiB'>N</memory>, or the
// attribute `value_attr` of `node` (<cell memory=... unit=...>), in bytes.
// Units b, KB (1000), k/KiB (1024), MB, M/MiB, ...; KiB when none is given.
// nullopt when the number or the unit is not one.
std::optional<std::uint64_t> memory_bytes(pugi::xml_node node, const char* value_attr = nullptr);
// One of those units in bytes ("MiB" -> 1048576); nullopt for anything else.
std::optional<std::uint64_t> memory_unit_bytes(std::string_view unit);

// The storage devices of a <devices> element, in document order, sorted by
// whether an I/O thread can serve them: virtio disks (bus='virtio', not
// vhost-user) and virtio-scsi controllers can; other disks cannot (SATA, IDE,
// USB, and SCSI disks behind a non-virtio controller).
struct StorageDevices {
  std::vector<pugi::xml_node> servable;   // <disk> or <controller> elements
  std::vector<std::string> unservable;    // "disk sdb (sata)"
};
StorageDevices storage_devices(pugi::xml_node devices);
// "disk vda", "virtio-scsi controller 0": how notes name a servable device.
std::string device_label(pugi::xml_node device);

}  // namespace vpt::detail
