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

// libosinfo's OS id decides when present; else <hyperv> (only Windows uses
// it); else a name such as "win11", "Windows-10" or "gaming-win10".
bool looks_like_windows(const Domain& d) {
  if (!d.os_id.empty()) return d.os_id.find("microsoft.com/win") != std::string::npos;
  if (d.hyperv_mode) return true;
  std::string name = d.name;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (std::size_t at = name.find("win"); at != std::string::npos; at = name.find("win", at + 1))
    if (at == 0 || !std::isalpha(static_cast<unsigned char>(name[at - 1]))) return true;
  return false;
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

std::string vcpus_text(const CpuSet& vcpus) {
  return fmt::format("{} {}", vcpus.size() == 1 ? "vCPU" : "vCPUs", vcpus.to_string());
}

std::string cpus_text(const CpuSet& cpus) {
  return fmt::format("{} {}", cpus.size() == 1 ? "CPU" : "CPUs", cpus.to_string());
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
  Context c{d, input.host, live, input.plan, input.no_plan_reason, input.running, {}, {}, {}, {}, {}, {}};
  c.windows = looks_like_windows(d);
  c.kvm = d.type == "kvm";
  c.passthrough = !d.hostdevs.empty();
  for (const auto& [vcpu, cpus] : d.vcpupins) {
    c.vcpu_cpus |= cpus;
    if (cpus.size() == 1) c.single_pins[vcpu] = *cpus.begin();
  }
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
  for (const Check& check : all_checks()) {
    if (check.needs == Needs::HostModel && !c.host) {
      no_model.push_back(check.id);
      continue;
    }
    if (check.needs == Needs::LiveHost && !c.live) {
      no_live.push_back(check.id);
      continue;
    }
    std::optional<Hit> hit = check.run(c);
    if (!hit) continue;
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
  if (!c.kvm)
    report.skipped.push_back(fmt::format("KVM-only checks (Hyper-V enlightenments, CPU mode, hint-dedicated, halt "
                                         "polling): domain type '{}' does not run under KVM",
                                         d.type.empty() ? "unset" : d.type));
  return report;
}

}  // namespace vpt
