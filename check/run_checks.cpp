// run_checks(): builds what every check reads, runs the table, orders the findings.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "check/check_table.hpp"
#include "check/findings.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "info";
  }
  return "info";
}

std::string_view to_string(FixKind kind) {
  switch (kind) {
    case FixKind::None: return "none";
    case FixKind::DomainXml: return "domain-xml";
    case FixKind::HostCommands: return "host-commands";
  }
  return "none";
}

namespace check_detail {

namespace {

// `word` in `text` at the start of a word ("win" in "gaming-win10", not in "darwin").
bool has_word_start(const std::string& text, std::string_view word) {
  for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1))
    if (at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1]))) return true;
  return false;
}

// Names Linux guests are given, by distribution or by role.
bool linux_name(const std::string& lower) {
  for (std::string_view word : {"linux", "debian", "ubuntu", "fedora", "arch", "centos", "rhel", "rocky", "alma",
                                "opensuse", "suse", "nixos", "gentoo", "truenas", "unraid", "openmediavault", "omv"})
    if (has_word_start(lower, word)) return true;
  return false;
}

// libosinfo's OS id decides when present; else a name such as "win11",
// "Windows-10" or "gaming-win10"; else <hyperv> (meant for Windows) on a guest
// whose name does not say Linux.
bool looks_like_windows(const Domain& d) {
  if (!d.os_id.empty()) return d.os_id.find("microsoft.com/win") != std::string::npos;
  const std::string name = lowercase(d.name);
  if (has_word_start(name, "win")) return true;
  return d.hyperv_mode.has_value() && !linux_name(name);
}

bool looks_like_linux(const Domain& d) {
  if (!d.os_id.empty())
    return d.os_id.find("microsoft.com") == std::string::npos && d.os_id.find("freebsd") == std::string::npos &&
           d.os_id.find("apple.com") == std::string::npos && d.os_id.find("openbsd") == std::string::npos &&
           d.os_id.find("netbsd") == std::string::npos;
  return linux_name(lowercase(d.name));
}

// Helpers' CPUs without a plan: what the vCPUs' pins leave free, else the
// whole core of CPU 0 (the core the host keeps its housekeeping on).
CpuSet helper_fallback_cpus(const Context& c) {
  if (!c.host || c.plan) return {};
  const CpuSet all = all_cpus(*c.host);
  if (all_vcpus_pinned(c)) return all - c.vcpu_cpus;
  if (all.empty()) return {};
  return smt_siblings(*c.host, *all.begin()) & all;
}

std::vector<Check> all_checks() {
  std::vector<Check> all;
  for (auto rows : {pinning_checks, cpu_checks, windows_checks, disk_checks, memory_checks, host_checks}) {
    std::vector<Check> part = rows();
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return all;
}

std::string ids_of(const std::vector<std::string_view>& ids) {
  return fmt::format("{}", fmt::join(ids, ", "));
}

}  // namespace

Hit plan_fix(const Context& c, std::string evidence) {
  Hit hit;
  hit.evidence = std::move(evidence);
  if (c.plan) {
    hit.fix = plan_snippet_xml(*c.plan);
    hit.fix_kind = FixKind::DomainXml;
    hit.auto_fix = AutoFix::Plan;
  } else {
    hit.manual_reason = c.no_plan_reason.empty()
                            ? "the fix is vpt-tune's plan, which needs the host: give --topology FILE or --lscpu FILE"
                            : c.no_plan_reason;
  }
  return hit;
}

Hit hyperv_fix(const Context& c, std::string evidence, const std::vector<std::string>& names,
               const std::map<std::string, bool>& timers) {
  DomainTuning t;
  t.hyperv_on = names;
  t.timers = timers;
  std::vector<std::string> lines;
  if (!names.empty() || c.hidden_without_vendor_id) {
    lines.push_back("<features>\n  <hyperv mode='custom'>");
    for (const std::string& name : names)
      lines.push_back(name == "spinlocks" ? "    <spinlocks state='on' retries='8191'/>"
                                          : fmt::format("    <{} state='on'/>", name));
    if (c.hidden_without_vendor_id) {
      t.hyperv_vendor_id = std::string(kHypervVendorId);
      lines.push_back(fmt::format("    <vendor_id state='on' value='{}'/>", kHypervVendorId));
    }
    lines.push_back("  </hyperv>\n</features>");
  }
  for (const auto& [name, present] : timers)
    lines.push_back(fmt::format("<clock ...>\n  <timer name='{}' present='{}'/>\n</clock>", name, present ? "yes" : "no"));
  if (c.hidden_without_vendor_id)  // why: said once, by the kvm-hidden finding
    evidence += fmt::format("; the fix adds vendor_id '{}' (see kvm-hidden)", kHypervVendorId);
  return tuning_fix(std::move(evidence), fmt::format("{}", fmt::join(lines, "\n")), std::move(t));
}

Hit tuning_fix(std::string evidence, std::string snippet, DomainTuning tuning) {
  Hit hit;
  hit.evidence = std::move(evidence);
  hit.fix = std::move(snippet);
  hit.fix_kind = FixKind::DomainXml;
  hit.auto_fix = AutoFix::Tuning;
  hit.tuning = std::move(tuning);
  return hit;
}

Hit manual_fix(std::string evidence, std::string snippet, std::string reason) {
  Hit hit;
  hit.evidence = std::move(evidence);
  hit.fix = std::move(snippet);
  hit.fix_kind = FixKind::DomainXml;
  hit.manual_reason = std::move(reason);
  return hit;
}

Hit host_fix(std::string evidence, std::string commands) {
  Hit hit;
  hit.evidence = std::move(evidence);
  hit.fix = std::move(commands);
  hit.fix_kind = FixKind::HostCommands;
  return hit;
}

bool all_vcpus_pinned(const Context& c) {
  return !c.vcpu_cpus.empty() && c.domain.vcpupins.size() == c.domain.max_vcpus;
}


std::string bytes_text(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;
  if (bytes >= kGiB && bytes % (kGiB / 2) == 0)
    return bytes % kGiB == 0 ? fmt::format("{} GiB", bytes / kGiB) : fmt::format("{}.5 GiB", bytes / kGiB);
  if (bytes >= kMiB) return fmt::format("{} MiB", (bytes + kMiB - 1) / kMiB);
  return fmt::format("{} KiB", (bytes + 1023) / 1024);
}

std::string cpu_words(const CpuSet& cpus) {
  std::string out;
  for (unsigned cpu : cpus) {
    if (!out.empty()) out += ' ';
    out += std::to_string(cpu);
  }
  return out;
}

CpuSet host_side_cpus(const Context& c, const CpuSet& guest) {
  if (!c.host) return {};
  return all_cpus(*c.host) - guest;
}

}  // namespace check_detail

std::vector<CheckInfo> check_table() {
  std::vector<CheckInfo> out;
  const std::pair<const char*, std::vector<check_detail::Check> (*)()> areas[] = {
      {"pinning", check_detail::pinning_checks}, {"cpu", check_detail::cpu_checks},
      {"windows", check_detail::windows_checks}, {"disk", check_detail::disk_checks},
      {"memory", check_detail::memory_checks},   {"host", check_detail::host_checks}};
  for (const auto& [area, rows] : areas)
    for (const check_detail::Check& c : rows())
      out.push_back({std::string(c.id), c.severity, std::string(c.title), std::string(c.why), area});
  return out;
}

CheckReport run_checks(const CheckInput& input) {
  using namespace check_detail;
  const Domain& d = *input.domain;
  const HostState* live = input.host && input.host->host.known ? &input.host->host : nullptr;
  Context c{d, input.host, live, input.plan, input.no_plan_reason, input.running, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  c.windows = looks_like_windows(d);
  c.linux_guest = !c.windows && looks_like_linux(d);
  c.kvm = d.type == "kvm";
  c.passthrough = !d.hostdevs.empty();
  const auto hidden = d.kvm_features.find("hidden");
  c.hidden_without_vendor_id = hidden != d.kvm_features.end() && hidden->second && !d.hyperv_vendor_id;
  for (const auto& [vcpu, cpus] : d.vcpupins) {
    c.vcpu_cpus |= cpus;
    if (cpus.size() == 1) c.single_pins[vcpu] = *cpus.begin();
  }
  c.helper_fallback = helper_fallback_cpus(c);
  c.presented = d.cpu_topology.value_or(GuestTopology{d.max_vcpus, 1, 1, 1});

  CheckReport report;
  report.domain = d.name;
  std::vector<std::string> facts{fmt::format("{} vCPU{}", d.max_vcpus, d.max_vcpus == 1 ? "" : "s")};
  if (d.memory_bytes) facts.push_back(bytes_text(*d.memory_bytes));
  facts.push_back(c.windows ? "Windows guest" : "not Windows");
  facts.push_back(c.kvm ? "KVM" : d.type == "qemu" ? "TCG (no KVM)" : fmt::format("type '{}'", d.type));
  if (c.passthrough)
    facts.push_back(fmt::format("{} PCI device{} passed through", d.hostdevs.size(), d.hostdevs.size() == 1 ? "" : "s"));
  report.summary = fmt::format("{}", fmt::join(facts, ", "));
  if (input.host)
    report.host = input.host->source == TopologySource::LiveHost
                      ? "this host (live)"
                      : fmt::format("{}: {}", to_string(input.host->source), input.host->source_name);
  report.host_state_read = live != nullptr;

  std::vector<std::string_view> no_model, no_live;
  std::vector<std::string> too_old;
  const VirtVersions& have = input.versions;
  auto versions_text = [](const MinVersions& min) {
    return fmt::format("libvirt {} and QEMU {}", virt_version_text(min.libvirt), virt_version_text(min.qemu));
  };
  for (const Check& check : all_checks()) {
    if (check.needs == Needs::HostModel && !c.host) {
      no_model.push_back(check.id);
      continue;
    }
    if (check.needs == Needs::LiveHost && !c.live) {
      no_live.push_back(check.id);
      continue;
    }
    if (check.min_versions && ((have.libvirt && *have.libvirt < check.min_versions->libvirt) ||
                               (have.qemu && *have.qemu < check.min_versions->qemu))) {
      too_old.push_back(fmt::format("{} (needs {})", check.id, versions_text(*check.min_versions)));
      continue;
    }
    std::optional<Hit> hit = check.run(c);
    if (!hit) continue;
    if (check.min_versions && (!have.libvirt || !have.qemu) && hit->auto_fix != AutoFix::No) {
      // Offline: which libvirt and QEMU will define and run it is unknown.
      hit->auto_fix = AutoFix::No;
      hit->manual_reason = fmt::format("needs {} or newer; the versions that run this domain are unknown (give "
                                       "--libvirt-version and --qemu-version, or run `check --domain` on its host)",
                                       versions_text(*check.min_versions));
    }
    Finding f;
    f.id = check.id;
    f.severity = hit->severity.value_or(check.severity);
    f.title = check.title;
    f.why = check.why;
    f.evidence = std::move(hit->evidence);
    f.fix = std::move(hit->fix);
    f.fix_kind = hit->fix_kind;
    f.auto_fix = hit->auto_fix;
    f.manual_reason = std::move(hit->manual_reason);
    f.tuning = std::move(hit->tuning);
    f.iothread_devices = std::move(hit->iothread_devices);
    report.findings.push_back(std::move(f));
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });

  if (!no_model.empty())
    report.skipped.push_back(fmt::format("{}: no host model (give --topology FILE or --lscpu FILE, or run "
                                         "`check --domain NAME` on the host)",
                                         ids_of(no_model)));
  if (!no_live.empty())
    report.skipped.push_back(fmt::format(
        "{}: {}", ids_of(no_live),
        input.host ? "the host model comes from a file: the live host checks run with `check --domain NAME` on "
                     "the host itself, without --topology/--lscpu"
                   : "no live host (offline review)"));
  if (!too_old.empty())
    report.skipped.push_back(fmt::format("{}: this host runs libvirt {}, QEMU {}", fmt::join(too_old, ", "),
                                         have.libvirt ? virt_version_text(*have.libvirt) : "?",
                                         have.qemu ? virt_version_text(*have.qemu) : "?"));
  if (d.qemu_cpu)
    report.skipped.push_back("CPU and Hyper-V checks (cpu-mode, cpu-migratable, topoext-missing, cache-passthrough, "
                             "kvm-hint-dedicated, hyperv-*, timer-hypervclock): the -cpu of <qemu:commandline> "
                             "replaces the <cpu> and <hyperv> they would fix (see qemu-cpu-override)");
  if (!c.kvm)
    report.skipped.push_back(fmt::format("KVM-only checks (Hyper-V enlightenments, CPU mode, hint-dedicated, halt "
                                         "polling): domain type '{}' does not run under KVM",
                                         d.type.empty() ? "unset" : d.type));
  return report;
}

}  // namespace vpt
