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
  std::vector<std::string> hostnames;  // replaced as whole tokens (case-insensitive), with their domain too
  std::vector<std::string> paths;      // file names given on the command line: shown as their base name
};

// Replaces, in order:
//  - the secrets' paths by their base name, hostnames by "[host]" (a second, different host by
//    "[host 2]", and so on: a comparison of two hosts still says they differ);
//    the host's own domain of an FQDN of three labels or more ("example.com") by "[domain]".
//    A host name is replaced as a whole token, never as a word inside one: a token ends at
//    whitespace and at every character a host name cannot hold ("'", '"', '/', ':', '@', ',',
//    '(', '[', ...), and '.' joins it to the labels of an FQDN. With a host named "vm": "vm",
//    "VM" and "vm.example.org" are the host, "vm.nr_hugepages", "/proc/sys/vm.nr_hugepages"
//    and "vm-win11" are not. In the base name of a file named on the command line the host
//    name is a word: "alice-desktop-lscpu.txt" -> "[host]-lscpu.txt";
//  - the authority of URIs naming a machine ("qemu+ssh://alice@box/system" ->
//    "qemu+ssh://[host]/system"), a web address's too (a public host may be the person's own);
//    a web address keeps its path; in redact_tool_text() it keeps its host as well unless
//    that is a private one (no dot, ".lan", ".local", ".home", ".arpa", ...), so that
//    "https://libvirt.org/formatdomain.html" in vpt-tune's advice stays;
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

// vpt-tune's own words (advice, explanations, warnings, the check table's texts and fixes):
// everything redact_text() does, except that a host name is replaced only inside a quoted
// value ('vm', "vm"), the form in which vpt-tune writes a name into its sentences; an XML
// attribute's value (mode='host-passthrough') is syntax, not such a value. "Reset the VM
// through an MSR" and "the host keeps CPUs 0-1" stay as written on a host named "vm" or "host".
std::string redact_tool_text(std::string_view text, const RedactionSecrets& secrets = {});

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

// The fields of a document whose strings are vpt-tune's own words, redacted with
// redact_tool_text(): a plan's "explanation", "warnings" and "advice", the check
// findings' "title", "why", "fix", "manual_reason" and "skipped", the "warnings" of a
// topology or results document. Every other string is a value and goes through redact_field().
using ToolTextFields = std::vector<std::string_view>;
const ToolTextFields& plan_tool_text();
const ToolTextFields& check_tool_text();
const ToolTextFields& warnings_tool_text();  // topology and results documents

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
// except the words of `vocabulary`; the strings of `tool_text` fields (an array's
// elements belong to its field) as vpt-tune's own words.
void redact_json(nlohmann::json& doc, const RedactionSecrets& secrets, const Vocabulary& vocabulary,
                 const ToolTextFields& tool_text = {});

// Every attribute value, text, CDATA section and comment of an XML document
// (the field of a text is its element's name), except the words of
// `vocabulary`. Layout and everything else stay. Throws std::runtime_error
// when `xml` is not well-formed.
std::string redact_xml(std::string_view xml, const RedactionSecrets& secrets, const Vocabulary& vocabulary);

}  // namespace vpt
