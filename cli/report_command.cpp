#include "cli/report_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/results.hpp"
#include "check/findings.hpp"
#include "check/findings_writers.hpp"
#include "cli/domain_options.hpp"
#include "cli/host_options.hpp"
#include "cli/output_file.hpp"
#include "cli/request_options.hpp"
#include "common/input_file.hpp"
#include "common/json_document.hpp"
#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "report/report.hpp"
#include "virt/domain.hpp"

namespace vpt::cli {

namespace {

struct ReportOptions {
  HostOptions host;
  RequestOptions request;
  std::string plan_file;     // --plan FILE.json (`suggest --json`)
  DomainOptions domain;      // --connect/--domain, or --xml
  std::string bench, before, after;
  std::string findings;      // --findings FILE (`check --json`)
  std::string format;        // "" = from --out's extension, else html
  std::string out;           // "" = standard output
  bool no_redact = false;
  bool force = false;
  bool allow_different_hosts = false;
  std::vector<const CLI::Option*> request_options;  // add_request_options()'s: one given asks for a plan
};

ReportFormat format_for(const ReportOptions& o) {
  if (o.format == "markdown") return ReportFormat::Markdown;
  if (o.format == "bbcode") return ReportFormat::Bbcode;
  if (o.format == "bbcode-plain") return ReportFormat::BbcodePlain;
  if (o.format == "html") return ReportFormat::Html;
  if (std::optional<ReportFormat> format = format_from_extension(o.out)) return *format;
  if (!o.out.empty())
    fmt::print(stderr, "vpt-tune: cannot infer the format from '{}': writing HTML (use --format)\n", o.out);
  return ReportFormat::Html;
}

Plan load_plan(const std::string& path, const Topology& topo) {
  Plan plan = load_plan_file(path);  // PlanInputError: bad input (exit 2)
  CpuSet named = plan.host;
  for (const GuestPlan& g : plan.guests) {
    named |= g.vcpu_cpus() | g.emulator;
    for (const CpuSet& io : g.iothreads) named |= io;
  }
  CpuSet missing = named - all_cpus(topo);
  if (!missing.empty())
    throw RequestError(fmt::format("cannot use plan '{}' for {}: it names {}, which that host model does not have",
                                   path, machine_words(topo), cpus_text(missing)));
  return plan;
}

// Refuses to replace a file without --force (like lstopo); a failed write
// leaves no half report (cli/output_file.hpp).
void write_output(const ReportOptions& o, const std::string& text, ReportFormat format) {
  if (o.out.empty() || o.out == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  const bool replaced = write_output_file(o.out, text, "report", 0644, o.force);
  fmt::print(stderr, "vpt-tune: {} {} report to {}\n", replaced ? "replaced the file with the" : "wrote the",
             format == ReportFormat::Html ? "HTML" : format == ReportFormat::Markdown ? "Markdown" : "BBCode", o.out);
}

// Whether the command line asks for a plan: --plan, a domain, or any request
// option. Without one, a host the default request does not fit still gets a
// report of what was measured (docs/report-notes.md).
bool plan_asked_for(const ReportOptions& o) {
  if (!o.plan_file.empty() || has_domain(o.domain)) return true;
  return std::any_of(o.request_options.begin(), o.request_options.end(),
                     [](const CLI::Option* option) { return option->count() > 0; });
}

void run_report(const ReportOptions& o, const CLI::App& command) {
  Topology topo = load_host(o.host);
  ReportSources sources;
  // Every file first: a missing one is the error, whatever planning would say.
  if (!o.bench.empty()) {
    sources.bench = load_results_file(o.bench);
    sources.bench_file = o.bench;
  }
  if (!o.before.empty()) {
    sources.before = load_results_file(o.before);
    sources.before_file = o.before;
    sources.after = load_results_file(o.after);
    sources.after_file = o.after;
  }
  if (!o.findings.empty()) {
    sources.check = load_findings_file(o.findings);
    sources.check_file = o.findings;
  }
  std::optional<bool> running;
  if (has_domain(o.domain)) sources.domain = load_domain(o.domain, o.domain.xml_file.empty() ? &running : nullptr);
  if (!o.plan_file.empty()) {
    sources.plan = load_plan(o.plan_file, topo);
    sources.plan_file = o.plan_file;
  } else if (sources.domain) {
    sources.plan = make_plan(topo, make_request(o.request, command, *sources.domain, topo));
  } else {
    try {
      sources.plan = make_plan(topo, make_request(o.request));
    } catch (const RequestError& e) {
      if (plan_asked_for(o)) throw;
      // Plain words: the line goes into forum posts, where backticks would be escaped.
      std::string options = "--vcpus N (and --reserve)";
      if (!e.retry().set.empty()) {
        options.clear();
        for (const auto& [option, value] : e.retry().set) options += fmt::format("{}{} {}", options.empty() ? "" : " ", option, value);
      }
      sources.no_plan = fmt::format("No plan was made ({}): vpt-tune suggest with {} makes one, and report with the "
                                    "same options draws it.",
                                    e.what(), options);
    }
  }
  if (!sources.check && sources.domain) {
    // The review of the domain, as `vpt-tune check` makes it (the plan's guest is the pinning fix).
    const GuestPlan* guest = nullptr;
    for (const GuestPlan& g : sources.plan.guests)
      if (g.name == sources.domain->name || sources.plan.guests.size() == 1) guest = &g;
    sources.check = run_checks(CheckInput{&*sources.domain, &topo, guest, "", running, {}});
  }
  sources.topology = std::move(topo);
  ReportSettings settings;
  settings.redact = !o.no_redact;
  settings.compare.allow_different_hosts = o.allow_different_hosts;
  ReportFormat format = format_for(o);
  Report report = build_report(sources, settings);
  std::ostringstream text;
  write_report(text, report, format);
  write_output(o, text.str(), format);
}

}  // namespace

void setup_report(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* report = app.add_subcommand(
      "report", "Write a shareable report: the host, the plan drawn on it, the libvirt XML and bench results, as one "
                "self-contained HTML page or a forum post (Markdown, BBCode)");
  report->footer(
      "Examples:\n"
      "  vpt-tune report --out report.html                     this host, the plan `suggest` would make\n"
      "  vpt-tune report --lscpu lscpu.txt --vcpus 16 --before before.json --after after.json --out report.html\n"
      "  vpt-tune report --topology host.xml --plan plan.json --format markdown   a post for Reddit or Discourse\n"
      "  vpt-tune report --xml win11.xml --bench after.json --format bbcode --out post.txt\n"
      "  vpt-tune check --domain win11 --json > f.json; vpt-tune report --findings f.json --out report.html\n"
      "Host names, domain UUIDs, MAC addresses, serial numbers and file paths are redacted unless --no-redact.\n"
      "The format follows --out's extension (.html, .md, .bbcode) unless --format says otherwise.");
  add_host_options(*report, options->host);
  auto before_request = report->get_options();
  add_request_options(*report, options->request);
  // The request options: one given asks for a plan (plan_asked_for).
  for (const CLI::Option* option : report->get_options())
    if (std::find(before_request.begin(), before_request.end(), option) == before_request.end())
      options->request_options.push_back(option);
  auto* plan = report->add_option("--plan", options->plan_file, "Use a plan saved with `vpt-tune suggest --json` "
                                                                "instead of planning again")
                   ->option_text("FILE.json");
  // --plan replaces every request option.
  for (CLI::Option* option : report->get_options())
    if (option != plan && std::find(before_request.begin(), before_request.end(), option) == before_request.end() &&
        option->get_name() != "--help")
      plan->excludes(option);
  add_connect_options(*report, options->domain);
  report->add_option("--xml", options->domain.xml_file,
                     "Read the domain from a file (`virsh dumpxml NAME > FILE`; '-' reads standard input)")
      ->option_text("FILE")
      ->excludes(report->get_option("--domain"));
  // No CLI11 ExistingFile checks: a missing file is read like any other input, so its error is one
  // line and exit code 2 ("cannot read results 'x': No such file or directory").
  auto* bench = report->add_option("--bench", options->bench, "Results of one `vpt-tune bench --out` run")
                    ->option_text("FILE");
  auto* before = report->add_option("--before", options->before, "Results before the change (with --after)")
                     ->option_text("FILE");
  auto* after = report->add_option("--after", options->after, "Results after the change (with --before)")
                    ->option_text("FILE");
  report->add_option("--findings", options->findings,
                     "Findings of `vpt-tune check --json` to list (default with --domain/--xml: review that domain)")
      ->option_text("FILE.json");
  before->needs(after);
  after->needs(before);
  bench->excludes(before)->excludes(after);
  report->add_option("--format", options->format,
                     "html (default), markdown, bbcode, or bbcode-plain for boards without [table] (phpBB): the "
                     "tables as aligned rows in a [code] block")
      ->check(CLI::IsMember({"html", "markdown", "bbcode", "bbcode-plain"}));
  report->add_option("-o,--out", options->out, "Write to FILE instead of standard output")->option_text("FILE");
  report->add_flag("--no-redact", options->no_redact,
                   "Keep host names, UUIDs, MAC addresses, serial numbers and paths in the report");
  report->add_flag("--force", options->force,
                   "Replace an existing --out file");
  report->add_flag("--allow-different-hosts", options->allow_different_hosts,
                   "Compare --before and --after results from different hosts");
  report->callback([options, report] { run_report(*options, *report); });
}

}  // namespace vpt::cli
