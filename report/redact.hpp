// Redaction: what a shared report must not reveal about the person sharing it.
//
// Pure functions over text, no state. The report builder runs every text that
// came from a host, a domain XML or a results file through redact_text()
// before any writer sees it, and shows file-path fields through redact_path().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vpt {

// What the inputs themselves say is private, found beside the patterns.
struct RedactionSecrets {
  std::vector<std::string> hostnames;  // replaced as whole words (case-insensitive), FQDN suffixes too
  std::vector<std::string> paths;      // file names given on the command line: shown as their base name
};

// Replaces, in order:
//  - the secrets' paths by their base name, hostnames by "[host]";
//  - the authority of URIs ("qemu+ssh://alice@box/system" -> "qemu+ssh://[host]/system");
//  - UUIDs (8-4-4-4-12 hex) by "[uuid]", MAC addresses (six hex pairs, ':' or '-') by "[mac]";
//  - serial numbers after "serial", "serial number", "S/N" (":", "=", "='", "<serial>") by "[serial]";
//  - disk images (a word ending in .qcow2, .img, .raw, .iso, .vmdk, .vdi, .vhd, .vhdx, .qed) by "[disk image]";
//  - absolute and home paths ("/home/alice/vm", "~/x", "/dev/disk/by-id/...") by "[path]", except the
//    system paths whose names are the same on every host (/proc, /sys, /etc, /usr, /bin, /sbin, /lib,
//    /dev/ other than /dev/disk/): advice such as "/proc/irq/*/smp_affinity_list" stays readable.
std::string redact_text(std::string_view text, const RedactionSecrets& secrets = {});

// A file path field (topology or results file): its base name, since the
// directories may name the user ("/home/alice/bench.json" -> "bench.json").
// "-" stays "-" (standard input); a disk image becomes "[disk image]".
std::string redact_path(std::string_view path);

}  // namespace vpt
