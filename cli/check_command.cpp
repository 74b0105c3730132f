#include "cli/check_command.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "cli/output_file.hpp"
#include "common/unified_diff.hpp"
#include "check/findings.hpp"
#include "check/findings_writers.hpp"
#include "check/fixes.hpp"
#include "cli/domain_options.hpp"
#include "cli/host_options.hpp"
#include "cli/request_options.hpp"
#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "virt/apply.hpp"
#include "virt/domain.hpp"
#include "virt/domain_xml.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt::cli {

namespace {

struct CheckOptions {
  HostOptions host;
  RequestOptions request;
  DomainOptions domain;
  bool this_host = false;  // --this-host: an --xml domain runs on this machine
  bool fix = false;
  bool json = false;
  bool list = false;
  std::string libvirt_version, qemu_version;  // --libvirt-version, --qemu-version
};

// The libvirt and QEMU that run the domain: --libvirt-version/--qemu-version
// where given, else `v` (the connection's with --domain, unknown with --xml).
VirtVersions versions_for(const CheckOptions& o, VirtVersions v) {
  auto read = [](const std::string& text, const char* option) -> std::optional<unsigned long> {
    if (text.empty()) return std::nullopt;
    auto version = parse_virt_version(text);
    if (!version) throw RequestError(fmt::format("{} '{}' is not a version such as 8.0.0", option, text.substr(0, 40)));
    return version;
  };
  if (auto l = read(o.libvirt_version, "--libvirt-version")) v.libvirt = l;
  if (auto q = read(o.qemu_version, "--qemu-version")) v.qemu = q;
  return v;
}

void list_checks(std::ostream& out) {
  for (const CheckInfo& c : check_table())
    fmt::print(out, "{:<24} {:<8} {:<8} {}\n", c.id, to_string(c.severity), c.area, c.title);
}

// The host the domain runs on: the file given, else this machine when the
// domain is here (a local --domain, or --xml with --this-host), else none.
std::optional<Topology> host_for(const CheckOptions& o) {
  if (!o.host.topology_xml.empty() || !o.host.lscpu_text.empty()) return load_host(o.host);
  const bool here = o.domain.xml_file.empty() ? !is_remote_uri(connect_uri(o.domain)) : o.this_host;
  if (!here) return std::nullopt;
  return probe_live_host();
}

struct PlanChoice {
  std::optional<GuestPlan> plan;
  std::string no_plan_reason;
  std::vector<std::string> notes;  // the request's: kept or re-planned pins, I/O threads
};

// suggest's plan for the domain: the fix of the pinning findings.
PlanChoice plan_for(const CheckOptions& o, const CLI::App& command, const Domain& domain, const Topology* host) {
  PlanChoice choice;
  if (!host) return choice;
  try {
    const Request request = make_request(o.request, command, domain, *host);
    choice.notes = request.guests.front().notes;
    Plan plan = make_plan(*host, request);
    choice.plan = plan.guests.front();
  } catch (const RequestError& e) {
    choice.no_plan_reason =
        fmt::format("vpt-tune has no plan for this host ({}); suggest's options such as --reserve or --vcpus "
                    "work here too",
                    e.what());
  }
  return choice;
}

// The fixes as one change, applied to the definition libvirt has now.
void apply_live(std::ostream& out, const CheckOptions& o, const CheckReport& report, const DomainFixes& fixes) {
  auto hypervisor = connect_libvirt(connect_uri(o.domain), /*read_write=*/true);
  ApplyOptions options;
  options.live = o.domain.live;
  options.backup_dir = o.domain.backup_dir;
  options.what = "the fixes";
  options.made_by = BackupMaker::Fix;
  ApplyResult result;
  try {
    result = apply_patch(*hypervisor, o.domain.domain,
                         [&](const std::string& current) { return apply_fixes(current, fixes); }, options);
  } catch (const ApplyError& e) {
    std::vector<std::string> named = fixes_named_in(e.what(), report, fixes);
    throw ApplyError(named.empty() ? fmt::format("{} (the fixes were applied together: {})", e.what(),
                                                 fmt::join(fixes.applied, ", "))
                                   : fmt::format("{} (libvirt refused the fix for {})", e.what(), fmt::join(named, ", ")));
  }
  write_apply_result(out, result);
}

void run_fix(std::ostream& out, const CheckOptions& o, const Domain& domain, const CheckReport& report,
             const DomainFixes& fixes, const Topology* host, const PlanChoice& choice, const VirtVersions& versions) {
  const GuestPlan* plan = choice.plan ? &*choice.plan : nullptr;
  out << "\n== --fix ==\n";
  for (const std::string& left : fixes.left) fmt::print(out, "left to you: {}\n", left);
  if (fixes.plan)
    for (const std::string& note : choice.notes) fmt::print(out, "plan: {}\n", note);
  if (fixes.empty()) {
    fmt::print(out, "nothing for --fix to change in domain '{}'\n", domain.name);
    return;
  }
  PatchResult patched = apply_fixes(domain.xml, fixes);
  if (!o.domain.out.empty()) {
    write_output_file(o.domain.out, patched.xml, "fixed definition", 0600, o.domain.force);
    fmt::print(out, "wrote the fixed definition of domain '{}' to {}\n", domain.name, o.domain.out);
  }
  if (o.domain.apply) {
    apply_live(out, o, report, fixes);
  } else {
    out << unified_diff(domain.xml, patched.xml, domain.name + " (current definition)", domain.name + " (fixed)");
    for (const std::string& note : patched.notes) out << "note: " << note << '\n';
    if (o.domain.out.empty())
      fmt::print(out, "nothing written: add --out FILE to write the fixed XML, or --apply to define it\n");
  }
  // What a review of the fixed definition still says.
  const Domain fixed = parse_domain_xml(patched.xml, domain.name);
  CheckInput again{&fixed, host, plan, "", std::nullopt, versions};
  CheckReport after = run_checks(again);
  std::vector<std::string> errors;
  for (const Finding& f : after.findings)
    if (f.severity == Severity::Error) errors.push_back(f.id);
  fmt::print(out, "after the fixes: {}{}\n", findings_count_text(after),
             errors.empty() ? "" : fmt::format(" (errors left: {})", fmt::join(errors, ", ")));
  if (domain.qemu_cpu)
    fmt::print(out, "QEMU still takes its CPU from the -cpu of <qemu:commandline>: the <cpu> and <hyperv> parts "
                    "of these fixes have no effect until that argument goes (see qemu-cpu-override)\n");
}

void run_check(const CheckOptions& o, const CLI::App& command) {
  if (o.list) {
    list_checks(std::cout);
    return;
  }
  if (!has_domain(o.domain))
    throw RequestError("check needs a domain: --domain NAME (with --connect URI) or --xml FILE (see --help)");
  std::optional<bool> running;
  VirtVersions connection;
  const bool live = o.domain.xml_file.empty();
  const Domain domain = load_domain(o.domain, live ? &running : nullptr, live ? &connection : nullptr);
  const std::optional<Topology> host = host_for(o);
  const PlanChoice choice = plan_for(o, command, domain, host ? &*host : nullptr);
  CheckInput input{&domain, host ? &*host : nullptr, choice.plan ? &*choice.plan : nullptr, choice.no_plan_reason,
                   running, versions_for(o, connection)};
  const CheckReport report = run_checks(input);
  if (o.json)
    std::cout << findings_to_json(report).dump(2) << '\n';
  else
    write_findings_text(std::cout, report);
  if (!o.fix) return;
  DomainFixes fixes = collect_fixes(report, input.plan);
  run_fix(o.json ? std::cerr : std::cout, o, domain, report, fixes, input.host, choice, input.versions);
}

}  // namespace

void setup_check(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand(
      "check", "Review a domain and its host like a passthrough expert: every finding with why and the exact fix; "
               "--fix applies the domain fixes safely");
  check->footer(
      "Examples:\n"
      "  vpt-tune check --domain win11                        the domain, this host and its live state\n"
      "  vpt-tune check --xml win11.xml --lscpu lscpu.txt     offline review of a `virsh dumpxml` file\n"
      "  vpt-tune check --domain win11 --json                 findings as JSON (schema vpt-tune/check/1)\n"
      "  vpt-tune check --xml win11.xml --lscpu lscpu.txt --fix --out win11-fixed.xml\n"
      "  vpt-tune check --domain win11 --fix --apply          back up, define, read back, verify, roll back\n"
      "  vpt-tune restore --domain win11 latest               undo an --apply\n"
      "  vpt-tune check --list                                every check: id, severity, area\n"
      "The review exits 0 whatever it finds; bad input exits 2. Host fixes are printed, never run.\n"
      "The pinning fix is the plan `vpt-tune suggest` makes; its options (--reserve, --vcpus...) apply.");
  add_host_options(*check, options->host);
  auto before = check->get_options();
  add_request_options(*check, options->request);
  for (CLI::Option* option : check->get_options())
    if (std::find(before.begin(), before.end(), option) == before.end() && option->get_group() == "Options")
      option->group("Plan options (the pinning fix, as for suggest)");
  add_domain_options(*check, options->domain);
  auto* fix = check->add_flag("--fix", options->fix,
                              "Apply the domain fixes: show the diff; with --out write the fixed XML, with --apply "
                              "define it (backup, verify, roll back)");
  check->get_option("--out")->needs(fix)->description("With --fix: write the fixed definition to FILE");
  check->get_option("--apply")->needs(fix)->description(
      "With --fix: define the fixed domain: backup first, verify after, roll back on failure");
  check->add_flag("--this-host", options->this_host,
                  "With --xml: the domain runs on this machine: probe it and run the live host checks")
      ->excludes(check->get_option("--domain"));
  check->add_option("--libvirt-version", options->libvirt_version,
                    "With --xml: the libvirt version that will define the domain (e.g. 9.0.0); fixes that need a "
                    "newer one are left out")
      ->type_name("X.Y.Z");
  check->add_option("--qemu-version", options->qemu_version,
                    "With --xml: the QEMU version that will run the domain (e.g. 7.2.0); fixes that need a newer "
                    "one are left out")
      ->type_name("X.Y.Z");
  check->add_flag("--json", options->json, "Print the findings as JSON (schema vpt-tune/check/1)");
  check->add_flag("--list", options->list, "List every check (id, severity, area, title) and exit");
  check->callback([options, check] { run_check(*options, *check); });
}

}  // namespace vpt::cli
