#include "check/findings_writers.hpp"

#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "common/input_file.hpp"
#include "common/json_document.hpp"
#include "common/json_reader.hpp"
#include "common/text.hpp"

namespace vpt {

namespace {

std::string indented(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += pad + line + "\n";
  return out;
}

std::string fix_label(const Finding& f) {
  switch (f.fix_kind) {
    case FixKind::HostCommands: return "fix (on the host; vpt-tune never runs these)";
    case FixKind::DomainXml:
      switch (f.auto_fix) {
        case AutoFix::Plan: return "fix (vpt-tune's plan; --fix applies it)";
        case AutoFix::Tuning: return "fix (--fix applies it)";
        case AutoFix::IothreadAttach: return "fix (--fix attaches the I/O threads)";
        case AutoFix::No: return fmt::format("fix (by hand: {})", f.manual_reason);
      }
      break;
    case FixKind::None: break;
  }
  return "fix";
}

const char* heading(Severity s) {
  switch (s) {
    case Severity::Error: return "Errors";
    case Severity::Warning: return "Warnings";
    case Severity::Info: return "Notes";
  }
  return "";
}

std::map<Severity, std::size_t> counts(const CheckReport& r) {
  std::map<Severity, std::size_t> n;
  for (const Finding& f : r.findings) ++n[f.severity];
  return n;
}

}  // namespace

std::string findings_count_text(const CheckReport& report) {
  if (report.findings.empty()) return "no findings";
  auto n = counts(report);
  auto part = [](std::size_t k, const char* one, const char* many) { return fmt::format("{} {}", k, k == 1 ? one : many); };
  return fmt::format("{}, {}, {}", part(n[Severity::Error], "error", "errors"),
                     part(n[Severity::Warning], "warning", "warnings"), part(n[Severity::Info], "note", "notes"));
}

void write_findings_text(std::ostream& out, const CheckReport& r) {
  fmt::print(out, "Review of domain '{}' ({})\n", r.domain, r.summary);
  fmt::print(out, "Host model: {}; live host checks: {}\n\n", r.host.empty() ? "none" : r.host,
             r.host_state_read ? "run" : "not run");
  fmt::print(out, "{}.\n", findings_count_text(r));
  std::map<std::string, std::string> shown;  // fix text -> the id that showed it first
  std::optional<Severity> group;
  for (const Finding& f : r.findings) {
    if (group != f.severity) {
      group = f.severity;
      fmt::print(out, "\n== {} ==\n", heading(f.severity));
    }
    fmt::print(out, "\n[{}] {}: {}\n", to_string(f.severity), f.id, f.title);
    fmt::print(out, "  found: {}\n", f.evidence);
    fmt::print(out, "  why:   {}\n", f.why);
    if (f.fix) {
      auto seen = shown.find(*f.fix);
      if (seen != shown.end()) {
        fmt::print(out, "  {}: the same as for {} above\n", fix_label(f), seen->second);
      } else {
        shown.emplace(*f.fix, f.id);
        fmt::print(out, "  {}:\n{}", fix_label(f), indented(*f.fix, "    "));
      }
    } else if (!f.manual_reason.empty()) {
      fmt::print(out, "  fix: {}\n", f.manual_reason);
    }
  }
  if (!r.skipped.empty()) {
    out << "\nNot checked:\n";
    for (const std::string& s : r.skipped) fmt::print(out, "  - {}\n", s);
  }
  std::size_t domain = 0, host = 0;
  for (const Finding& f : r.findings) {
    if (f.auto_fix != AutoFix::No) ++domain;
    if (f.fix_kind == FixKind::HostCommands) ++host;
  }
  std::vector<std::string> parts;
  if (domain)
    parts.push_back(fmt::format("{} {} that --fix applies (--out FILE writes the fixed XML, --apply defines it with "
                                "a backup)",
                                domain, domain == 1 ? "is a domain change" : "are domain changes"));
  if (host)
    parts.push_back(fmt::format("{} {} for the host, which vpt-tune only prints", host,
                                host == 1 ? "is a command" : "are commands"));
  if (!parts.empty()) fmt::print(out, "\nOf these findings, {}.\n", fmt::join(parts, "; "));
}

nlohmann::json findings_to_json(const CheckReport& r) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : r.findings)
    findings.push_back({{"id", f.id},
                        {"severity", to_string(f.severity)},
                        {"title", f.title},
                        {"why", f.why},
                        {"evidence", f.evidence},
                        {"fix", f.fix ? nlohmann::json(*f.fix) : nlohmann::json(nullptr)},
                        {"fix_kind", to_string(f.fix_kind)},
                        {"applied_by_fix", f.auto_fix != AutoFix::No},
                        {"manual_reason", f.manual_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.manual_reason)}});
  auto n = counts(r);
  return {{"schema", kCheckSchema},
          {"tool_version", VPT_VERSION},
          {"domain", {{"name", r.domain}, {"summary", r.summary}}},
          {"host", {{"source", r.host.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.host)},
                    {"live_state", r.host_state_read}}},
          {"counts", {{"error", n[Severity::Error]}, {"warning", n[Severity::Warning]}, {"info", n[Severity::Info]}}},
          {"findings", findings},
          {"skipped", r.skipped}};
}

namespace {

std::string_view severity_name(Severity s) { return to_string(s); }
std::string_view fix_kind_name(FixKind k) { return to_string(k); }
constexpr Severity kSeverities[] = {Severity::Error, Severity::Warning, Severity::Info};
constexpr FixKind kFixKinds[] = {FixKind::None, FixKind::DomainXml, FixKind::HostCommands};

CheckReport read_findings(const nlohmann::json& j) {
  using R = JsonReader;
  const std::string schema = R::field<std::string>(j, "schema", "");
  if (schema != kCheckSchema)
    R::fail("schema", fmt::format("'{}' is not {} (the output of `vpt-tune check --json`)", printable(schema, 60),
                                  kCheckSchema));
  CheckReport r;
  const nlohmann::json& domain = R::at(j, "domain", "");
  r.domain = R::field<std::string>(domain, "name", "domain");
  r.summary = R::field<std::string>(domain, "summary", "domain");
  const nlohmann::json& host = R::at(j, "host", "");
  R::at(host, "source", "host");  // null when the host was not named, never absent
  r.host = R::text_or_empty(host, "source", "host");
  r.host_state_read = R::field<bool>(host, "live_state", "host");
  const nlohmann::json& findings = R::array(j, "findings", "");
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const std::string path = R::index("findings", i);
    const nlohmann::json& f = findings[i];
    Finding out;
    out.id = R::field<std::string>(f, "id", path);
    out.severity = R::choice(f, "severity", path, kSeverities, severity_name);
    out.title = R::field<std::string>(f, "title", path);
    out.why = R::field<std::string>(f, "why", path);
    out.evidence = R::field<std::string>(f, "evidence", path);
    R::at(f, "fix", path);
    out.fix = R::optional<std::string>(f, "fix", path);
    out.fix_kind = R::choice(f, "fix_kind", path, kFixKinds, fix_kind_name);
    R::at(f, "manual_reason", path);
    out.manual_reason = R::text_or_empty(f, "manual_reason", path);
    // The file says whether `check --fix` applies the finding, not how: a
    // finding read back is for showing (report --findings), never for fixing.
    if (R::field_or(f, "applied_by_fix", path, false)) out.auto_fix = AutoFix::Tuning;
    r.findings.push_back(std::move(out));
  }
  if (auto it = j.find("skipped"); it != j.end() && it->is_array())
    for (const nlohmann::json& s : *it)
      if (s.is_string()) r.skipped.push_back(s.get<std::string>());
  return r;
}

}  // namespace

CheckReport findings_from_json(const nlohmann::json& j, const std::string& source) {
  try {
    return read_findings(j);
  } catch (const JsonFieldError& e) {
    throw FindingsInputError(fmt::format("cannot read findings '{}': {}", source, e.what()));
  }
}

CheckReport load_findings_file(const std::string& path) {
  try {
    return findings_from_json(parse_json_document(read_input_file_text(path)), path);
  } catch (const InputFileError& e) {
    throw FindingsInputError(fmt::format("cannot read findings '{}': {}", path, e.what()));
  } catch (const JsonDocumentError& e) {
    throw FindingsInputError(fmt::format("cannot read findings '{}': {}", path, e.what()));
  }
}

}  // namespace vpt
