// Report: what `vpt-tune report` shares — the host, the plan drawn on it, the
// libvirt XML, the bench results and a before/after comparison — built once
// from the inputs, redacted, then emitted by one writer: a self-contained
// HTML page or a forum post in Markdown or BBCode.
//
// build_report() does every computation (roles, layout, cache verdicts,
// headline rows, redaction); the writers only format the value and escape
// every text for their format.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench.hpp"
#include "bench/results.hpp"
#include "check/findings.hpp"
#include "optimizer/plan.hpp"
#include "probe/topology.hpp"
#include "report/layout.hpp"
#include "virt/domain.hpp"

namespace vpt {

// BbcodePlain: BBCode for boards without [table] (phpBB): each table as
// aligned rows in a [code] block.
enum class ReportFormat { Html, Markdown, Bbcode, BbcodePlain };
std::string_view to_string(ReportFormat format);  // "html", "markdown", "bbcode", "bbcode-plain"
// The format a file name asks for: .md/.markdown, .bbcode/.bb, .html/.htm;
// nullopt for any other extension.
std::optional<ReportFormat> format_from_extension(std::string_view path);

// The inputs, as the command read them.
struct ReportSources {
  Topology topology;
  Plan plan;
  std::string plan_file;            // "" = computed for this report from the request
  // "" = `plan` is drawn; else no plan was made (the default request does not fit the host and
  // none was asked for) and this one line, vpt-tune's own words, says so and which command makes one.
  std::string no_plan;
  std::optional<Domain> domain;     // --xml FILE or --domain NAME
  std::optional<Results> bench;     // --bench FILE: one run
  std::string bench_file;
  std::optional<Results> before, after;  // --before/--after: a comparison
  std::string before_file, after_file;
  std::optional<CheckReport> check;  // `vpt-tune check` findings: read from check_file, or made for the domain
  std::string check_file;            // "" = made for this report
  // Guests drawn on the host whose definitions the plan does not change (a
  // whole-host plan's kept guests): index into plan.guests -> what is said
  // instead of a presented topology (vpt-tune's own words); they get no XML.
  std::map<std::size_t, std::string> as_defined;
  // Guests that float over the host's CPUs (a whole-host plan's shared pool).
  std::vector<std::string> host_shared_with;
};

struct ReportSettings {
  bool redact = true;               // host name, UUIDs, MACs, paths, serials (see report/redact.hpp)
  CompareOptions compare;           // compare.allow_different_hosts: compare results from different hosts
};

struct Fact {
  std::string name, value;          // one row of a two-column table
};

enum class Sharing { Private, Shared, Unknown };
std::string_view to_string(Sharing sharing);  // "private", "shared", "unknown"

// What a guest's vCPUs share at one level, and with whom.
struct CacheVerdict {
  std::string level;                // "core", "L2", "L3"
  Sharing sharing = Sharing::Unknown;
  std::string text;                 // "private: 8 whole P-cores", "L3 #0 shared with the host (CPUs 16-27)"
};

struct GuestSummary {
  std::string name;
  unsigned vcpus = 0;
  std::string cpus;                 // "0-15"
  std::string cores;                // "8 P-cores", "4 cores on 2 L3s"
  std::string presented;            // "1 socket × 8 cores × 2 threads"
  std::string emulator, iothreads, memory;
  std::vector<CacheVerdict> caches;
  std::string xml;                  // plan_snippet_xml(): what to paste into `virsh edit`
};

struct BenchSection {               // one run, drawn as charts
  std::string name;                 // file name shown ("after.json")
  Results results;                  // redacted copy
  std::vector<CacheSize> cache_marks;  // for the memory curve: the run's host, else the topology's
  std::vector<Fact> facts;          // when, mode, measured CPUs, pins in force
};

// The findings of `vpt-tune check`, redacted, as the writers list them.
struct ReviewSection {
  std::string domain;               // the domain reviewed
  std::string summary;              // "16 vCPUs, 16 GiB, Windows guest, ..."
  std::string counts;               // "1 error, 2 warnings, 3 notes"
  std::vector<Finding> findings;    // errors, then warnings, then notes
  std::vector<std::string> skipped;
};

struct ComparisonSection {
  Comparison comparison;            // redacted copy of compare_results()
  std::vector<std::size_t> headline;  // rows for the forum post and the chart: aggregates, not per pair
};

struct Report {
  std::string title;                // "Intel Core i7-14700F: a 16-vCPU guest"
  std::string tool_version;
  bool redacted = true;
  std::vector<Fact> inputs;         // where each part came from
  std::vector<Fact> host;           // CPU, cores/threads, kinds, caches, NUMA, kernel, microcode
  std::vector<Fact> domain;         // the domain as defined now (empty without --xml/--domain)
  TopologyPicture layout;
  std::string no_plan;              // "" = a plan is drawn; else why not (ReportSources::no_plan)
  std::vector<GuestSummary> guests;
  std::string host_keeps;           // "CPUs 16-27 (12 E-cores)"; "" without a plan
  std::vector<std::string> explanation;
  std::vector<std::string> warnings;
  std::vector<std::string> advice;
  std::optional<BenchSection> bench;
  std::optional<ComparisonSection> comparison;
  std::optional<ReviewSection> review;
};

// Throws BenchInputError when --before and --after come from different hosts
// (unless settings.compare.allow_different_hosts), as compare_results() does.
Report build_report(const ReportSources& sources, const ReportSettings& settings);

// The whole page: inline CSS and SVG, a few lines of optional JavaScript (the
// copy button), no network URL. Never throws for a built Report.
void write_html_report(std::ostream& out, const Report& report);

// A forum post: one small table (CPU, what the guest got), the headline
// before/after numbers with verdicts, the review's errors and warnings, the
// XML in a code block. Complete in itself: what it leaves out it counts, and
// names the command that shows it, never the HTML page a reader cannot see.
// `format` is Markdown, Bbcode or BbcodePlain.
void write_forum_summary(std::ostream& out, const Report& report, ReportFormat format);

void write_report(std::ostream& out, const Report& report, ReportFormat format);

}  // namespace vpt
