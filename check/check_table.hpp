// Internal to vpt_check: the shape of one check and what every check can read.
//
// A check is one row: id, severity, title, why (with its source) and a small
// function that looks at the Context and returns a Hit (evidence and fix) when
// the problem is there. Each area keeps its rows in one function
// (pinning_checks() in pinning_checks.cpp, ...): adding a check is adding a row.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/findings.hpp"
#include "common/text.hpp"

namespace vpt::check_detail {

// What a check needs beyond the domain.
enum class Needs {
  Domain,     // the definition alone
  HostModel,  // the host's topology (--topology, --lscpu or the live host)
  LiveHost,   // the live host's state (/proc, /sys): `check --domain` on the host itself
};

struct Context {
  const Domain& domain;
  const Topology* host;              // nullptr = no host model
  const HostState* live;             // nullptr = no live host state
  const GuestPlan* plan;             // nullptr = no plan
  std::string no_plan_reason;
  std::optional<bool> running;

  bool windows = false;              // libosinfo says so, or <hyperv>, or a Windows-looking name
  bool linux_guest = false;          // libosinfo names a Linux distribution, or the name does
  // <kvm><hidden state='on'/> without a Hyper-V vendor_id: a fix that turns Hyper-V on must
  // add one, or NVIDIA drivers before R465 see "Microsoft Hv" and stop with Code 43.
  bool hidden_without_vendor_id = false;
  // Where the emulator and I/O threads go when no plan places the vCPUs: the CPUs their pins
  // leave free, else the core of CPU 0 (the host's housekeeping core). Empty without a host model.
  CpuSet helper_fallback;
  bool kvm = false;                  // <domain type='kvm'>: hardware virtualization
  bool passthrough = false;          // a PCI device is passed through
  std::map<unsigned, unsigned> single_pins;  // vCPU -> its one host CPU (pins to one CPU only)
  CpuSet vcpu_cpus;                  // every CPU a <vcpupin> names
  GuestTopology presented;           // <topology>, else libvirt's default: N sockets x 1 core x 1 thread
};

// What a check found.
struct Hit {
  std::string evidence;
  std::optional<std::string> fix;
  FixKind fix_kind = FixKind::None;
  AutoFix auto_fix = AutoFix::No;
  std::string manual_reason;
  DomainTuning tuning;
  std::vector<std::string> iothread_devices;
  std::optional<Severity> severity;  // milder than the row's, when the case calls for it (says why in evidence)
};

// The oldest libvirt and QEMU that understand a row's fix (libvirt's "Since"
// notes in formatdomain, QEMU's release notes; docs/check-notes.md).
struct MinVersions {
  unsigned long libvirt = 0, qemu = 0;  // libvirt's encoding: 4007000 = 4.7.0
};

struct Check {
  std::string_view id;
  Severity severity;
  std::string_view title;
  std::string_view why;
  Needs needs;
  std::function<std::optional<Hit>(const Context&)> run;
  // Its fix needs these versions: with older ones known the row is skipped; with
  // unknown ones --fix leaves the fix to the user and the finding names them.
  std::optional<MinVersions> min_versions = std::nullopt;
};

std::vector<Check> pinning_checks();
std::vector<Check> cpu_checks();
std::vector<Check> windows_checks();
std::vector<Check> disk_checks();
std::vector<Check> memory_checks();
std::vector<Check> host_checks();

// ---- Helpers the rows share ----------------------------------------------------

// The pinning fix: suggest's plan as an XML snippet, applied by --fix; without
// a plan, no fix and the reason.
Hit plan_fix(const Context& c, std::string evidence);

// The vendor_id a Hyper-V fix adds on a hidden-KVM guest (Arch Wiki's example value).
inline constexpr std::string_view kHypervVendorId = "randomid";

// The Hyper-V settings `names` (and the vendor_id where the guest hides KVM) as
// a tuning and its snippet; `timers` adds <clock> timers to both.
Hit hyperv_fix(const Context& c, std::string evidence, const std::vector<std::string>& names,
               const std::map<std::string, bool>& timers = {});

// A fix --fix applies through DomainTuning, with its snippet.
Hit tuning_fix(std::string evidence, std::string snippet, DomainTuning tuning);

// A domain change --fix leaves to the user, with its snippet and why.
Hit manual_fix(std::string evidence, std::string snippet, std::string reason);

// Host commands (never run by vpt-tune).
Hit host_fix(std::string evidence, std::string commands);

// Every vCPU of the domain has a <vcpupin>.
bool all_vcpus_pinned(const Context& c);

// vcpus_text and cpus_text ("vCPU 3", "CPUs 0-7") are in common/cpuset.hpp.
// "16 GiB", "1.5 GiB", "512 MiB"
std::string bytes_text(std::uint64_t bytes);
// The CPUs of `cpus` one per word: "0 1 2 3", for shell loops.
std::string cpu_words(const CpuSet& cpus);
// The host's online CPUs minus `guest`; empty without a host model.
CpuSet host_side_cpus(const Context& c, const CpuSet& guest);

}  // namespace vpt::check_detail
