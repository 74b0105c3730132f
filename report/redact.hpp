// Redaction: what a shared report must not reveal about the person sharing it.
//
// Pure functions over text, no state. The report builder redacts its input
// documents whole before it computes anything from them (report/report.cpp):
// every string of the topology, plan and results JSON documents and of the
// domain XML goes through redact_field(), whatever field it is in, so a field
// added later is redacted too. File names given on the command line go
// through redact_path().
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vpt {

// What the inputs themselves say is private, found beside the patterns.
struct RedactionSecrets {
  std::vector<std::string> hostnames;  // replaced as whole words (case-insensitive), FQDN suffixes too
  std::vector<std::string> paths;      // file names given on the command line: shown as their base name
};

// Replaces, in order:
//  - the secrets' paths by their base name, hostnames by "[host]" (a second, different host by
//    "[host 2]", and so on: a comparison of two hosts still says they differ);
//    the host's own domain of an FQDN of three labels or more ("example.com") by "[domain]";
//  - the authority of URIs ("qemu+ssh://alice@box/system" -> "qemu+ssh://[host]/system");
//  - e-mail addresses by "[email]", "user@host" by "[account]";
//  - UUIDs (8-4-4-4-12 hex, or 32 hex digits) by "[uuid]", MAC addresses (six hex pairs with ':'
//    or '-', "bc24.115a.2b01", or 12 hex digits with a letter and a digit) by "[mac]";
//  - IPv4 addresses (with a /prefix) and IPv6 addresses by "[ip]" (PCI addresses and times stay);
//  - serial numbers after "serial", "serial number", "S/N" (":", "=", "='", "<serial>"; after
//    "serial number"/"serialnumber" a space is enough) by "[serial]";
//  - disk images (a word ending in .qcow2, .img, .raw, .iso, .vmdk, .vdi, .vhd, .vhdx, .qed) by "[disk image]";
//  - absolute, home and Windows paths ("/home/alice/vm", "~/x", "C:\\Users\\alice\\x",
//    "/dev/disk/by-id/...", "/dev/mapper/vg_alice-root", "/run/user/1000") by "[path]", except the
//    system paths whose names are the same on every host (/proc, /sys, /etc, /usr, /bin, /sbin, /lib,
//    /run other than /run/user, device nodes and the kernel's own /dev directories such as
//    /dev/vfio): advice such as "/proc/irq/*/smp_affinity_list" stays readable.
std::string redact_text(std::string_view text, const RedactionSecrets& secrets = {});

// A file path field (topology or results file): its base name, since the
// directories may name the user ("/home/alice/bench.json" -> "bench.json").
// "-" stays "-" (standard input); a disk image becomes "[disk image]".
std::string redact_path(std::string_view path);

// ---- Documents: every string, whatever its field -----------------------------

// The words a document's reader checks, by field name ("schema", "kind":
// "vcpu", mode='host-passthrough'). Such a value is kept as it is, so that a
// host named "storage" or "host" does not make the document unreadable or
// change its meaning; any other value of the field, and every other field,
// is redacted.
using Vocabulary = std::map<std::string, std::function<bool(std::string_view)>, std::less<>>;

// Each input document's vocabulary. tests/report/redact_documents_test.cpp
// checks that a host named like any word of the documents leaves them readable.
const Vocabulary& topology_vocabulary();
const Vocabulary& plan_vocabulary();
const Vocabulary& results_vocabulary();
const Vocabulary& domain_xml_vocabulary();
const Vocabulary& check_vocabulary();  // the findings of `vpt-tune check --json`

// One value of a document, knowing the name of its field. CPU lists and
// numbers ("0-3,8", "16", "0x1f") stay; a field named for a secret (hostname, serial,
// uuid, passwd/password) is hidden whole ("[host]", "[serial]", "[uuid]",
// "[password]"); anything else goes through redact_text().
std::string redact_field(std::string_view field, std::string_view value, const RedactionSecrets& secrets);

// Every string value of a JSON document, at any depth (object keys stay),
// except the words of `vocabulary`.
void redact_json(nlohmann::json& doc, const RedactionSecrets& secrets, const Vocabulary& vocabulary);

// Every attribute value, text, CDATA section and comment of an XML document
// (the field of a text is its element's name), except the words of
// `vocabulary`. Layout and everything else stay. Throws std::runtime_error
// when `xml` is not well-formed.
std::string redact_xml(std::string_view xml, const RedactionSecrets& secrets, const Vocabulary& vocabulary);

}  // namespace vpt
