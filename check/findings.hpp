// Findings: what `vpt-tune check` says about a libvirt domain and the host it
// runs on, the way a passthrough expert reviews a domain on a forum.
//
// run_checks() takes plain values (the parsed domain, the host model with its
// live state, suggest's plan) and returns findings; it reads no file and
// prints nothing. Writers (check/findings_writers.hpp) format a CheckReport;
// check/fixes.hpp turns findings into the domain change `--fix` applies.
// The checks and their sources: docs/check-notes.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"
#include "probe/topology.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {

enum class Severity { Error, Warning, Info };
std::string_view to_string(Severity severity);  // "error", "warning", "info"

// What a finding's `fix` holds.
enum class FixKind {
  None,          // nothing to change (a note)
  DomainXml,     // an XML snippet for the domain definition
  HostCommands,  // shell commands for the host; vpt-tune never runs them
};
std::string_view to_string(FixKind kind);  // "none", "domain-xml", "host-commands"

// How `check --fix` applies a domain change.
enum class AutoFix {
  No,              // not at all: a host fix, a note, or a change left to the user (manual_reason)
  Plan,            // suggest's plan for the domain: pins, guest topology, <cpu>, numatune
  Tuning,          // the finding's DomainTuning
  IothreadAttach,  // I/O threads attached to virtio disks and controllers (check/fixes.hpp)
};

struct Finding {
  std::string id;              // stable, kebab-case: "hyperv-stimer"
  Severity severity = Severity::Warning;
  std::string title;           // one line
  std::string why;             // one or two sentences, then "Source: ..."
  std::string evidence;        // what was read, in words
  std::optional<std::string> fix;  // XML snippet or commands; nullopt = nothing to change
  FixKind fix_kind = FixKind::None;
  AutoFix auto_fix = AutoFix::No;
  std::string manual_reason;   // why --fix leaves this domain change to the user; "" when it does not
  DomainTuning tuning;         // AutoFix::Tuning: what --fix sets
  std::vector<std::string> iothread_devices;  // AutoFix::IothreadAttach: "vda", "scsi controller 0"
};

// What a review reads. Only `domain` is required.
struct CheckInput {
  const Domain* domain = nullptr;
  const Topology* host = nullptr;    // the host model; host->host.known means live state was read
  const GuestPlan* plan = nullptr;   // suggest's plan for this domain: the pinning fix
  std::string no_plan_reason;        // why `plan` is null, for the user ("" = no host model)
  std::optional<bool> running;       // the domain runs now (known with --domain only)
  // The libvirt and QEMU that run the domain: from the connection with --domain, else
  // --libvirt-version/--qemu-version. Fixes that need newer ones are gated (docs/check-notes.md).
  VirtVersions versions;
};

struct CheckReport {
  std::string domain;                // the domain's name
  std::string summary;               // "16 vCPUs, 16 GiB, Windows guest, KVM, 2 PCI devices passed through"
  std::string host;                  // the host model's source ("" = none), e.g. "lscpu -e text: FILE"
  bool host_state_read = false;      // the live host checks ran
  std::vector<Finding> findings;     // errors, then warnings, then info; table order within each
  std::vector<std::string> skipped;  // checks that could not run, and why
};

// Runs every check of the table. Throws nothing for a parsed domain.
CheckReport run_checks(const CheckInput& input);

// One row of the table, for the README, --list and tests.
struct CheckInfo {
  std::string id;
  Severity severity;
  std::string title;
  std::string why;
  std::string area;                  // "pinning", "cpu", "windows", "disk", "memory", "host"
};
std::vector<CheckInfo> check_table();

}  // namespace vpt
