// The forum writers: a post short enough to paste (Reddit, Discourse in
// Markdown; phpBB, XenForo, vBulletin in BBCode).
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "report/escape.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"

namespace vpt {

namespace {

using report_detail::format_number;

struct Row {
  std::vector<std::string> cells;
};

// What both formats say, as plain text cells (escaped by the format).
struct Post {
  std::string title;
  std::vector<Row> setup;             // two columns
  std::vector<Row> results;           // metric, before, after, change, verdict
  std::string results_note;
  std::vector<std::pair<std::string, std::string>> xml;  // guest name, XML
  std::vector<std::string> warnings;
  std::string review_title;              // "Review of domain 'win11' (vpt-tune check): 1 error, ..."
  std::vector<std::string> review;       // "[error] id: title (evidence)"
  std::string footer;
};

std::string cpu_line(const Report& r) {
  std::string cpu, size;
  for (const Fact& f : r.host) {
    if (f.name == "CPU") cpu = f.value;
    if (f.name == "Size") size = f.value;
  }
  if (cpu.starts_with("unknown")) cpu = "model unknown";
  return size.empty() ? cpu : fmt::format("{}; {}", cpu, size);
}

std::string verdict_word(const ComparisonRow& row) {
  std::string v(to_string(row.verdict));
  if ((row.verdict == Verdict::Better || row.verdict == Verdict::Worse) && row.p_value)
    v += " (" + report_detail::format_p(*row.p_value) + ")";
  return v;
}

Post make_post(const Report& r) {
  Post p;
  p.title = fmt::format("vpt-tune report: {}", r.title);
  p.setup.push_back({{"CPU", cpu_line(r)}});
  for (const GuestSummary& g : r.guests) {
    p.setup.push_back({{fmt::format("Guest '{}'", g.name),
                        fmt::format("{} vCPU{} on CPUs {} ({}), presented as {}", g.vcpus, g.vcpus == 1 ? "" : "s", g.cpus, g.cores, g.presented)}});
    p.setup.push_back({{"Emulator / I/O threads", fmt::format("{} / {}", g.emulator, g.iothreads)}});
    std::string caches;
    for (const CacheVerdict& v : g.caches)
      caches += fmt::format("{}{}: {}", caches.empty() ? "" : "; ", v.level, to_string(v.sharing));
    p.setup.push_back({{"Sharing", caches}});
  }
  if (r.no_plan.empty())
    p.setup.push_back({{"Host keeps", r.host_keeps}});
  else
    p.setup.push_back({{"Plan", r.no_plan}});
  if (r.comparison) {
    const Comparison& c = r.comparison->comparison;
    for (std::size_t i : r.comparison->headline) {
      const ComparisonRow& row = c.rows[i];
      auto v = [&](const std::optional<double>& x) { return x ? format_number(*x) + " " + row.unit : "n/a"; };
      p.results.push_back({{row.metric, v(row.median_before), v(row.median_after),
                            report_detail::format_change(row).value_or("n/a"), verdict_word(row)}});
    }
    p.results_note = fmt::format("{}. Medians, lower is better; a verdict needs p < {} in an exact Mann-Whitney test "
                                 "on the runs, or on each run's interleaved rounds, and a change of at least {:.0f}% "
                                 "({:g} percentage point{} for shares in %). Before: {}, after: {}.",
                                 verdict_summary(c), format_number(c.options.alpha), c.options.min_change * 100,
                                 c.options.min_points, c.options.min_points == 1 ? "" : "s", c.before_name,
                                 c.after_name);
  } else if (r.bench) {
    const Results& res = r.bench->results;
    if (res.core_to_core) {
      std::optional<double> lo, hi;
      for (const auto& row : res.core_to_core->median_ns)
        for (const auto& v : row)
          if (v) {
            lo = lo ? std::min(*lo, *v) : *v;
            hi = hi ? std::max(*hi, *v) : *v;
          }
      if (lo) p.results.push_back({{"core-to-core, median one-way", fmt::format("{} to {} ns", format_number(*lo), format_number(*hi))}});
    }
    for (const WakeupResult& w : res.wakeup ? res.wakeup->cpus : std::vector<WakeupResult>{})
      if (w.p50_us) {
        p.results.push_back({{fmt::format("wake-up lateness CPU {}", w.cpu),
                              fmt::format("p50 {} µs, p99 {}", format_number(*w.p50_us),
                                          w.p99_us ? format_number(*w.p99_us) + " µs" : "n/a")}});
        break;
      }
    for (const InterferencePoint& i : res.interference ? res.interference->points : std::vector<InterferencePoint>{})
      if (i.ratio) p.results.push_back({{fmt::format("interference {}", i.sized_to), fmt::format("× {} next to a cache thrasher", format_number(*i.ratio))}});
    p.results_note = fmt::format("One run ({}), no comparison.", r.bench->name);
  }
  for (const GuestSummary& g : r.guests)
    if (!g.xml.empty()) p.xml.push_back({g.name, g.xml});
  if (r.review) {
    p.review_title = fmt::format("Review of domain '{}' (vpt-tune check): {}", r.review->domain, r.review->counts);
    std::size_t notes = 0;
    for (const Finding& f : r.review->findings) {
      if (f.severity == Severity::Info) {
        ++notes;
        continue;
      }
      p.review.push_back(fmt::format("[{}] {}: {} ({})", to_string(f.severity), f.id, f.title, f.evidence));
    }
    // What is left out is counted, with the command that lists it: a forum reader has no HTML page.
    if (p.review.size() > 10) {
      std::size_t n = p.review.size();
      p.review.resize(10);
      p.review.push_back(fmt::format("… and {} more errors and warnings, not listed here (vpt-tune check lists them all)", n - 10));
    }
    if (notes)
      p.review.push_back(fmt::format("{} note{} not listed here (vpt-tune check lists them)", notes, notes == 1 ? "" : "s"));
  }
  p.warnings = r.warnings;
  if (p.warnings.size() > 3) {
    std::size_t n = p.warnings.size();
    p.warnings.resize(3);
    p.warnings.push_back(fmt::format("… and {} more warning{}, not listed here (vpt-tune suggest with the same options lists them all)",
                                     n - 3, n - 3 == 1 ? "" : "s"));
  }
  p.footer = fmt::format("Made with vpt-tune {}{}.", r.tool_version,
                         r.redacted ? "; host names, UUIDs, MACs, serials and paths redacted" : "");
  return p;
}

void markdown(std::ostream& out, const Post& p) {
  using report_detail::markdown_escape;
  fmt::print(out, "**{}**\n\n| Item | Value |\n|---|---|\n", markdown_escape(p.title));
  for (const Row& row : p.setup)
    fmt::print(out, "| {} | {} |\n", markdown_escape(row.cells[0]), markdown_escape(row.cells[1]));
  if (!p.results.empty()) {
    out << '\n';
    if (p.results.front().cells.size() == 5) {
      out << "| Metric | Before | After | Change | Verdict |\n|---|---|---|---|---|\n";
      for (const Row& row : p.results)
        fmt::print(out, "| {} | {} | {} | {} | **{}** |\n", markdown_escape(row.cells[0]), markdown_escape(row.cells[1]),
                   markdown_escape(row.cells[2]), markdown_escape(row.cells[3]), markdown_escape(row.cells[4]));
    } else {
      out << "| Measured | Result |\n|---|---|\n";
      for (const Row& row : p.results)
        fmt::print(out, "| {} | {} |\n", markdown_escape(row.cells[0]), markdown_escape(row.cells[1]));
    }
    fmt::print(out, "\n*{}*\n", markdown_escape(p.results_note));
  }
  if (!p.review_title.empty()) {
    fmt::print(out, "\n**{}**\n\n", markdown_escape(p.review_title));
    for (const std::string& line : p.review) fmt::print(out, "- {}\n", markdown_escape(line));
  }
  for (const auto& [name, xml] : p.xml) {
    fmt::print(out, "\nlibvirt XML for '{}':\n\n", markdown_escape(name));
    out << report_detail::markdown_code_block(xml, "xml");
  }
  if (!p.warnings.empty()) {
    out << "\nWarnings:\n\n";
    for (const std::string& w : p.warnings) fmt::print(out, "- {}\n", markdown_escape(w));
  }
  fmt::print(out, "\n*{}*\n", markdown_escape(p.footer));
}

// Columns on a character grid: what a [code] block shows on a board without
// [table]. Widths count UTF-8 characters ("×", "µ" are one column each).
std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string aligned_rows(const std::vector<std::string>& header, const std::vector<Row>& rows) {
  std::size_t cells = header.size();
  for (const Row& row : rows) cells = std::max(cells, row.cells.size());
  std::vector<std::size_t> width(cells, 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) width[i] = std::max(width[i], columns(cells[i]));
  };
  measure(header);
  for (const Row& row : rows) measure(row.cells);
  std::string text;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - columns(cells[i]) + 2, ' ');
    }
    text += l + "\n";
  };
  if (!header.empty()) {
    line(header);
    std::vector<std::string> rule;
    for (std::size_t w : width) rule.push_back(std::string(w, '-'));
    line(rule);
  }
  for (const Row& row : rows) line(row.cells);
  return text;
}

void bbcode(std::ostream& out, const Post& p, bool tables) {
  using report_detail::bbcode_escape;
  fmt::print(out, "[b]{}[/b]\n\n", bbcode_escape(p.title));
  const std::vector<std::string> results_header =
      !p.results.empty() && p.results.front().cells.size() == 5
          ? std::vector<std::string>{"Metric", "Before", "After", "Change", "Verdict"}
          : std::vector<std::string>{};
  if (tables) {
    out << "[table]\n";
    for (const Row& row : p.setup)
      fmt::print(out, "[tr][td][b]{}[/b][/td][td]{}[/td][/tr]\n", bbcode_escape(row.cells[0]), bbcode_escape(row.cells[1]));
    out << "[/table]\n";
  } else {
    out << report_detail::bbcode_code_block(aligned_rows({}, p.setup));
  }
  if (!p.results.empty()) {
    out << '\n';
    if (tables) {
      out << "[table]\n";
      if (!results_header.empty()) {
        out << "[tr]";
        for (const std::string& h : results_header) fmt::print(out, "[td][b]{}[/b][/td]", h);
        out << "[/tr]\n";
      }
      for (const Row& row : p.results) {
        out << "[tr]";
        for (const std::string& cell : row.cells) fmt::print(out, "[td]{}[/td]", bbcode_escape(cell));
        out << "[/tr]\n";
      }
      out << "[/table]\n";
    } else {
      out << report_detail::bbcode_code_block(aligned_rows(results_header, p.results));
    }
    fmt::print(out, "[i]{}[/i]\n", bbcode_escape(p.results_note));
  }
  if (!p.review_title.empty()) {
    fmt::print(out, "\n[b]{}[/b]\n[list]\n", bbcode_escape(p.review_title));
    for (const std::string& line : p.review) fmt::print(out, "[*]{}\n", bbcode_escape(line));
    out << "[/list]\n";
  }
  for (const auto& [name, xml] : p.xml) {
    fmt::print(out, "\nlibvirt XML for '{}':\n", bbcode_escape(name));
    out << report_detail::bbcode_code_block(xml);
  }
  if (!p.warnings.empty()) {
    out << "\nWarnings:\n[list]\n";
    for (const std::string& w : p.warnings) fmt::print(out, "[*]{}\n", bbcode_escape(w));
    out << "[/list]\n";
  }
  fmt::print(out, "\n[i]{}[/i]\n", bbcode_escape(p.footer));
}

}  // namespace

void write_forum_summary(std::ostream& out, const Report& report, ReportFormat format) {
  Post post = make_post(report);
  if (format == ReportFormat::Bbcode || format == ReportFormat::BbcodePlain)
    bbcode(out, post, format == ReportFormat::Bbcode);
  else
    markdown(out, post);
}

}  // namespace vpt
