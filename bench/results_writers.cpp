// Console writers: one for a run's Results, one for a Comparison. They only
// format; every number comes from the value.
#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "bench/bench.hpp"
#include "bench/kernel_table.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

std::string num(std::optional<double> v, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

// The short comparison table's width and its metric column's.
constexpr std::size_t kCompareWidth = 100;
constexpr std::size_t kMetricWidth = 44;

std::string na_with_n(std::optional<double> v, std::size_t n, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : fmt::format("n/a (n={})", n);
}

}  // namespace

void write_results_text(std::ostream& out, const Results& r) {
  const HostFingerprint& h = r.host;
  fmt::print(out, "vpt-tune bench ({}, {} round{}), {:.1f} s, {}\n", r.mode, r.rounds, r.rounds == 1 ? "" : "s",
             r.duration_s, r.created);
  fmt::print(out, "Host: {} ({}), kernel {}, microcode {}, BIOS {}\n", h.cpu_model, h.hostname, h.kernel,
             h.microcode.value_or("unknown"), h.bios_version.value_or("unknown"));
  fmt::print(out, "Measured CPUs: {} (allowed: {})\n", r.measured_cpus, h.allowed_cpus);

  if (r.domain) {
    const DomainInForce& d = *r.domain;
    fmt::print(out, "\nDomain '{}' ({}), QEMU PID {}\n", d.name, d.uri,
               d.qemu_pid ? std::to_string(*d.qemu_pid) : "not found");
    for (std::size_t i = 0; i < d.pins.vcpus.size(); ++i)
      fmt::print(out, "  vCPU {} pinned to {}\n", i, d.pins.vcpus[i]);
    fmt::print(out, "  emulator pinned to {}\n", d.pins.emulator);
    for (const auto& [id, cpus] : d.pins.iothreads) fmt::print(out, "  iothread {} pinned to {}\n", id, cpus);
    if (!d.threads.empty()) {
      fmt::print(out, "  {:>8}  {:<18} {:<10} {:<10} {:<6} {:>10} {:>12}\n", "tid", "thread", "pinned", "actual",
                 "match", "migrations", "involuntary");
      for (const ThreadCheck& t : d.threads)
        fmt::print(out, "  {:>8}  {:<18} {:<10} {:<10} {:<6} {:>10} {:>12}\n", t.tid, t.comm,
                   t.pinned ? t.pinned->to_string() : "?", t.actual ? t.actual->to_string() : "?",
                   t.matches ? (*t.matches ? "yes" : "NO") : "?",
                   t.migrations ? std::to_string(*t.migrations) : "?",
                   t.nonvoluntary_switches ? std::to_string(*t.nonvoluntary_switches) : "?");
      fmt::print(out, "  (migrations and involuntary context switches counted over the run)\n");
    }
  }

  for (const Kernel* kernel : kernel_table()) kernel->write_text(out, r);

  if (!r.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const auto& w : r.warnings) fmt::print(out, "  ! {}\n", w);
  }
}

namespace {

// `text` as lines of at most `width` columns (a longer word gets a line of its
// own); lines after the first begin with `indent`.
void write_wrapped(std::ostream& out, std::string_view text, std::string_view indent = "",
                   std::size_t width = kCompareWidth) {
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out << line << '\n';
      line = indent;
    }
    if (!line.empty() && line != indent) line += ' ';
    line += word;
  }
  if (!line.empty()) out << line << '\n';
}

}  // namespace

void write_comparison_text(std::ostream& out, const Comparison& c, bool detail) {
  auto runs = [](std::size_t n) { return n == 1 ? std::string("1 run") : fmt::format("{} runs", n); };
  fmt::print(out, "Before: {} ({})\nAfter:  {} ({})\n", c.before_name, runs(c.runs_before), c.after_name,
             runs(c.runs_after));
  write_wrapped(out, fmt::format("Summary: {}", verdict_summary(c)));
  if (c.runs_before >= 2 && c.runs_after >= 2)
    write_wrapped(out, fmt::format(
                           "Verdict: better/worse needs an exact Mann-Whitney test on the runs' values with p < {:.2g} "
                           "and a change of at least {:.0f}% ({:g} percentage point{} for shares in %); otherwise "
                           "within noise. before/after are medians of the runs' values. Lower is better.",
                           c.options.alpha, c.options.min_change * 100, c.options.min_points,
                           c.options.min_points == 1 ? "" : "s"));
  else
    write_wrapped(out, fmt::format(
                           "Verdict: better/worse needs an exact Mann-Whitney test on the values of the runs' "
                           "interleaved rounds (each round's median, p99 or ratio) with p < {:.2g} and a change of at "
                           "least {:.0f}% ({:g} percentage point{} for shares in %); otherwise within noise. "
                           "before/after are medians of the rounds' values.{} Lower is better.",
                           c.options.alpha, c.options.min_change * 100, c.options.min_points,
                           c.options.min_points == 1 ? "" : "s", detail ? " 'samples p' is the test on every sample, shown for reference only (samples of "
                                    "one run are not independent)."
                                  : ""));
  out << '\n';
  // The short table fits kCompareWidth columns for metric names up to kMetricWidth.
  std::size_t width = 6;
  for (const auto& row : c.rows) width = std::max(width, row.metric.size());
  if (!detail) width = std::min(width, kMetricWidth);
  if (detail)
    fmt::print(out, "{:<{}}  {:>5} {:>10} {:>10} {:>8} {:>10} {:>10}  {}\n", "metric", width, "unit", "before",
               "after", "change", "p99 before", "p99 after", "verdict");
  else
    fmt::print(out, "{:<{}}  {:>5} {:>9} {:>9} {:>8}  {}\n", "metric", width, "unit", "before", "after", "change",
               "verdict");
  for (const auto& row : c.rows) {
    const std::string change = change_text(row);
    int decimals = row.unit == "x" ? 3 : 1;
    if (!detail) {
      fmt::print(out, "{:<{}}  {:>5} {:>9} {:>9} {:>8}  {}\n", row.metric, width, row.unit,
                 na_with_n(row.median_before, row.n_before, decimals),
                 na_with_n(row.median_after, row.n_after, decimals), change, to_string(row.verdict));
      continue;
    }
    std::string reason = row.reason;
    if (row.sample_p_value) reason += fmt::format("; samples p={:.2g}", *row.sample_p_value);
    fmt::print(out, "{:<{}}  {:>5} {:>10} {:>10} {:>8} {:>10} {:>10}  {} ({})\n", row.metric, width, row.unit,
               na_with_n(row.median_before, row.n_before, decimals), na_with_n(row.median_after, row.n_after, decimals),
               change, num(row.p99_before), num(row.p99_after), to_string(row.verdict), reason);
  }
  if (!detail) out << "(--detail adds the p99s, the p-values and the reason for each verdict)\n";
  if (!c.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const auto& w : c.warnings) write_wrapped(out, fmt::format("  ! {}", w), "    ");
  }
}

}  // namespace vpt
