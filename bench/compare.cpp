// compare_results: per-metric rows with a verdict from an exact Mann-Whitney
// test and a minimum practical change. The unit of the test is the run (its
// statistic) with several runs a side, else the round (each round's statistic)
// of the one run, else, for files without rounds, the sample (normal
// approximation and a bootstrap interval).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/kernel_table.hpp"
#include "bench/statistics.hpp"

namespace vpt {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Better: return "better";
    case Verdict::Worse: return "worse";
    case Verdict::WithinNoise: return "within noise";
    case Verdict::NotAvailable: return "n/a";
  }
  return "n/a";
}

namespace {

using Samples = std::vector<double>;

// One metric across all files of both sides, one entry per file.
struct Metric {
  std::string name, unit;
  Series::Statistic statistic = Series::Statistic::Median;
  std::vector<const Series*> before, after;
};

class Metrics {
 public:
  Metric& get(const Series& s) {
    auto [it, added] = index_.try_emplace(s.metric, list_.size());
    if (added) {
      list_.push_back({});
      list_.back().name = s.metric;
      list_.back().unit = s.unit;
      list_.back().statistic = s.statistic;
    }
    return list_[it->second];
  }
  const std::vector<Metric>& list() const { return list_; }

 private:
  std::vector<Metric> list_;
  std::map<std::string, std::size_t> index_;
};

// The domain's thread counters: one value a run, not a kernel's samples.
void domain_series(const Results& r, std::vector<Series>& out) {
  if (!r.domain || r.domain->threads.empty()) return;
  // Summed over the vCPU threads; a thread that ended during the run has no count.
  double migrations = 0, switches = 0;
  for (const ThreadCheck& t : r.domain->threads) {
    if (t.kind != ThreadKind::Vcpu) continue;
    migrations += static_cast<double>(t.migrations.value_or(0));
    switches += static_cast<double>(t.nonvoluntary_switches.value_or(0));
  }
  out.push_back({"vCPU threads: migrations per run", "count", Series::Statistic::PerRun, {}, {}, migrations});
  out.push_back({"vCPU threads: involuntary switches per run", "count", Series::Statistic::PerRun, {}, {}, switches});
}

std::optional<double> ratio_of_medians(std::span<const double> quiet, std::span<const double> noisy) {
  auto q = median(quiet), n = median(noisy);
  if (!q || !n || *q <= 0) return std::nullopt;
  return *n / *q;
}

// The statistic a metric compares, of one set of samples (a round, or a whole run).
std::optional<double> statistic_of(const Metric& m, std::span<const double> samples, std::span<const double> noisy) {
  switch (m.statistic) {
    case Series::Statistic::Median: return median(samples);
    case Series::Statistic::P99: return quantile(samples, 0.99);
    case Series::Statistic::Ratio: return ratio_of_medians(samples, noisy);
    case Series::Statistic::PerRun: return std::nullopt;
  }
  return std::nullopt;
}

// The statistic of every round of every file on one side.
Samples round_values(const Metric& m, const std::vector<const Series*>& side) {
  Samples values;
  for (const Series* s : side)
    for (std::size_t r = 0; r < s->samples.rounds.size(); ++r) {
      static const Samples none;
      const Samples& noisy = r < s->noisy.rounds.size() ? s->noisy.rounds[r] : none;
      if (auto x = statistic_of(m, s->samples.rounds[r], noisy)) values.push_back(*x);
    }
  return values;
}

// The statistic of each whole file (its rounds pooled).
Samples run_values(const Metric& m, const std::vector<const Series*>& side) {
  Samples values;
  for (const Series* s : side) {
    if (m.statistic == Series::Statistic::PerRun) {
      values.push_back(s->value);
    } else if (auto x = statistic_of(m, s->samples.pooled(), s->noisy.pooled())) {
      values.push_back(*x);
    }
  }
  return values;
}

Samples pooled(const std::vector<const Series*>& side, bool noisy = false) {
  Samples all;
  for (const Series* s : side) {
    Samples part = noisy ? s->noisy.pooled() : s->samples.pooled();
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

std::size_t sample_count(const Metric& m, const std::vector<const Series*>& side) {
  std::size_t n = 0;
  for (const Series* s : side)
    n += m.statistic == Series::Statistic::Ratio ? std::min(s->samples.count(), s->noisy.count()) : s->samples.count();
  return n;
}

// Smallest two-sided p an exact test of n1 vs n2 values can give: 2 / C(n1+n2, n1).
double smallest_exact_p(std::size_t n1, std::size_t n2) {
  double c = 1;
  for (std::size_t i = 1; i <= n1; ++i) c = c * static_cast<double>(n2 + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

std::string unit_name(TestUnit unit, std::size_t n) {
  switch (unit) {
    case TestUnit::Runs: return n == 1 ? "run" : "runs";
    case TestUnit::Rounds: return n == 1 ? "round" : "rounds";
    case TestUnit::Samples: return n == 1 ? "sample" : "samples";
  }
  return "";
}

void decide(ComparisonRow& row, std::optional<double> p_value, std::optional<Interval> ci, std::size_t n_before,
            std::size_t n_after, const CompareOptions& o) {
  const bool exact = row.unit_of_test != TestUnit::Samples;
  if (!row.median_before || !row.median_after) {
    row.verdict = Verdict::NotAvailable;
    row.reason = exact ? fmt::format("fewer than 2 {} with a value on a side ({}/{})",
                                     unit_name(row.unit_of_test, 2), n_before, n_after)
                       : fmt::format("too few samples for a median (n={}/{})", row.n_before, row.n_after);
    return;
  }
  if (*row.median_before > 0) row.change = *row.median_after / *row.median_before - 1;
  row.p_value = p_value;
  if (ci) {
    row.ci_low = ci->low;
    row.ci_high = ci->high;
  }
  if (!p_value && !ci) {
    row.verdict = Verdict::NotAvailable;
    row.reason = exact ? fmt::format("the {} tie across the two sides: no exact test", unit_name(row.unit_of_test, 2))
                       : fmt::format("too few samples on a side for a test (n={}/{})", row.n_before, row.n_after);
    return;
  }
  bool significant = (!p_value || *p_value < o.alpha) && (!ci || !ci->contains(0));
  const double difference = *row.median_after - *row.median_before;
  bool large = change_in_points(row) ? std::fabs(difference) >= o.min_points
                                     : row.change && std::fabs(*row.change) >= o.min_change;
  const std::string counted = fmt::format(", {} vs {} {}", n_before, n_after, unit_name(row.unit_of_test, n_after));
  if (significant && large) {
    row.verdict = difference < 0 ? Verdict::Better : Verdict::Worse;
    row.reason = p_value ? fmt::format("p={:.2g}", *p_value) : std::string("bootstrap");
    if (ci) row.reason += ", CI excludes 0";
    row.reason += exact ? counted : std::string(", one run a side: within-run noise only");
    return;
  }
  row.verdict = Verdict::WithinNoise;
  if (significant) {
    row.reason = change_in_points(row)
                     ? fmt::format("significant but under the {:g} percentage-point practical threshold", o.min_points)
                     : fmt::format("significant but under the {:.0f}% practical threshold", o.min_change * 100);
  } else if (p_value && *p_value >= o.alpha) {
    row.reason = fmt::format("p={:.2g} >= {:.2g}", *p_value, o.alpha);
    if (exact && smallest_exact_p(n_before, n_after) >= o.alpha)
      row.reason += fmt::format("; {} vs {} {} cannot go below p={:.2g}", n_before, n_after,
                                unit_name(row.unit_of_test, n_after), smallest_exact_p(n_before, n_after));
  } else {
    row.reason = "CI contains 0";
  }
}

// An exact test on one value per run (or round) a side.
void decide_exact(ComparisonRow& row, const Samples& b, const Samples& a, const CompareOptions& o) {
  row.median_before = median(b);
  row.median_after = median(a);
  // One value a side is a value, not a spread: the median needs 2; show it anyway.
  if (!row.median_before && b.size() == 1) row.median_before = b.front();
  if (!row.median_after && a.size() == 1) row.median_after = a.front();
  std::optional<double> p;
  if (b.size() >= 2 && a.size() >= 2)
    if (auto mw = mann_whitney_exact(b, a)) p = mw->p_two_sided;
  if (b.size() < 2 || a.size() < 2) {
    row.median_before = b.size() >= 2 ? row.median_before : std::nullopt;
    row.median_after = a.size() >= 2 ? row.median_after : std::nullopt;
  }
  decide(row, p, std::nullopt, b.size(), a.size(), o);
}

// The sample-level tests: files without rounds (bench/1), and as secondary information.
void decide_samples(ComparisonRow& row, const Metric& m, const CompareOptions& o) {
  const Samples b = pooled(m.before), a = pooled(m.after);
  if (m.statistic == Series::Statistic::Ratio) {
    const Samples bn = pooled(m.before, true), an = pooled(m.after, true);
    row.median_before = ratio_of_medians(b, bn);
    row.median_after = ratio_of_medians(a, an);
    decide(row, std::nullopt, bootstrap_ratio_difference(b, bn, a, an, o.confidence), row.n_before, row.n_after, o);
  } else if (m.statistic == Series::Statistic::P99) {
    // A rank test compares locations, not tails: the bootstrap interval decides alone.
    row.median_before = quantile(b, 0.99);
    row.median_after = quantile(a, 0.99);
    decide(row, std::nullopt, bootstrap_quantile_difference(b, a, 0.99, o.confidence), row.n_before, row.n_after, o);
  } else {
    row.median_before = median(b);
    row.median_after = median(a);
    std::optional<double> p;
    if (auto mw = mann_whitney_u(b, a)) p = mw->p_two_sided;
    decide(row, p, bootstrap_median_difference(b, a, o.confidence), row.n_before, row.n_after, o);
  }
}

ComparisonRow make_row(const Metric& m, const CompareOptions& o) {
  ComparisonRow row;
  row.metric = m.name;
  row.unit = m.unit;
  row.runs_before = m.before.size();
  row.runs_after = m.after.size();
  row.n_before = sample_count(m, m.before);
  row.n_after = sample_count(m, m.after);
  if (m.statistic != Series::Statistic::Ratio && m.statistic != Series::Statistic::PerRun) {
    row.p99_before = quantile(pooled(m.before), 0.99);
    row.p99_after = quantile(pooled(m.after), 0.99);
  }

  if (row.runs_before >= 2 && row.runs_after >= 2) {
    row.unit_of_test = TestUnit::Runs;
    decide_exact(row, run_values(m, m.before), run_values(m, m.after), o);
    return row;
  }
  if (m.statistic == Series::Statistic::PerRun) {
    row.unit_of_test = TestUnit::Runs;
    Samples b = run_values(m, m.before), a = run_values(m, m.after);
    row.median_before = b.front();
    row.median_after = a.front();
    if (*row.median_before > 0) row.change = *row.median_after / *row.median_before - 1;
    row.verdict = Verdict::NotAvailable;
    row.reason = "one value a side: no test";
    return row;
  }
  const Samples b = round_values(m, m.before), a = round_values(m, m.after);
  row.rounds_before = b.size();
  row.rounds_after = a.size();
  // The samples' own test, kept as secondary information.
  if (m.statistic == Series::Statistic::Median)
    if (auto mw = mann_whitney_u(pooled(m.before), pooled(m.after))) row.sample_p_value = mw->p_two_sided;
  if (b.size() >= 2 && a.size() >= 2) {
    row.unit_of_test = TestUnit::Rounds;
    decide_exact(row, b, a, o);
    return row;
  }
  // Files without rounds (bench/1), or too few samples for a statistic per round.
  row.unit_of_test = TestUnit::Samples;
  decide_samples(row, m, o);
  return row;
}

std::string show(const std::optional<std::string>& s) { return s ? *s : "unknown"; }

std::string join_with(const std::vector<std::string>& items, std::string_view separator) {
  return fmt::format("{}", fmt::join(items, separator));
}

std::string join(const std::vector<std::string>& names) { return join_with(names, ", "); }

// Drops repeats, keeps first-seen order.
std::vector<std::string> unique(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& item : items)
    if (seen.insert(item).second) out.push_back(item);
  return out;
}

// Differences that make two files incomparable (identity) or suspect (warnings).
void host_differences(const Results& a, const Results& b, std::vector<std::string>& identity,
                      std::vector<std::string>& warnings) {
  const HostFingerprint &x = a.host, &y = b.host;
  if (x.hostname != y.hostname) identity.push_back(fmt::format("host name '{}' vs '{}'", x.hostname, y.hostname));
  if (x.cpu_model != y.cpu_model) identity.push_back(fmt::format("CPU '{}' vs '{}'", x.cpu_model, y.cpu_model));
  if (x.online_cpus != y.online_cpus)
    identity.push_back(fmt::format("{} vs {} online CPUs", x.online_cpus, y.online_cpus));
  auto warn = [&](std::string_view what, const std::string& l, const std::string& r) {
    if (l != r) warnings.push_back(fmt::format("{} differs: '{}' before, '{}' after; it may explain changes", what, l, r));
  };
  warn("kernel", x.kernel, y.kernel);
  warn("microcode", show(x.microcode), show(y.microcode));
  warn("BIOS version", show(x.bios_version), show(y.bios_version));
  warn("frequency governor", show(x.governor), show(y.governor));
  warn("transparent hugepages", show(x.transparent_hugepage), show(y.transparent_hugepage));
  if (a.mode != b.mode)
    warnings.push_back(fmt::format("modes differ ('{}' before, '{}' after): sample counts and sizes differ", a.mode,
                                   b.mode));
  if (a.tool_version != b.tool_version)
    warnings.push_back(fmt::format("written by vpt-tune {} and {}", a.tool_version, b.tool_version));
}

template <typename F>
std::string set_of(const std::vector<Results>& runs, F value) {
  std::set<std::string> values;
  for (const Results& r : runs) values.insert(value(r));
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " / ") + v;
  return out;
}

}  // namespace

Comparison compare_results(const std::vector<Results>& before, const std::vector<Results>& after,
                           const std::vector<std::string>& before_names, const std::vector<std::string>& after_names,
                           const CompareOptions& options) {
  if (before.empty() || after.empty()) throw BenchInputError("cannot compare results: a side has no files");
  Comparison cmp;
  cmp.before_name = join(before_names);
  cmp.after_name = join(after_names);
  cmp.runs_before = before.size();
  cmp.runs_after = after.size();
  cmp.options = options;

  // Every file against the first: one host, and say once what else changed.
  std::vector<std::string> identity, warnings;
  for (std::size_t i = 1; i < before.size(); ++i) host_differences(before[0], before[i], identity, warnings);
  for (const Results& r : after) host_differences(before[0], r, identity, warnings);
  cmp.warnings = unique(warnings);
  identity = unique(identity);
  if (!identity.empty()) {
    if (!options.allow_different_hosts)
      throw BenchInputError(fmt::format("cannot compare '{}' with '{}': they come from different hosts ({}); "
                                        "use --allow-different-hosts to compare anyway",
                                        cmp.before_name, cmp.after_name, join_with(identity, "; ")));
    cmp.warnings.insert(cmp.warnings.begin(),
                        fmt::format("different hosts, compared because of --allow-different-hosts: {}", join_with(identity, "; ")));
  }

  // Each file's series, kept alive while the rows are made.
  std::vector<std::vector<Series>> series(before.size() + after.size());
  Metrics metrics;
  for (std::size_t i = 0; i < before.size() + after.size(); ++i) {
    const bool is_after = i >= before.size();
    const Results& r = is_after ? after[i - before.size()] : before[i];
    for (const Kernel* kernel : kernel_table()) kernel->series(r, series[i]);
    domain_series(r, series[i]);
    for (const Series& s : series[i]) {
      Metric& m = metrics.get(s);
      (is_after ? m.after : m.before).push_back(&s);
    }
  }
  for (const Metric& m : metrics.list())
    if (!m.before.empty() && !m.after.empty()) cmp.rows.push_back(make_row(m, options));

  auto has_c2c = [](const Results& r) { return r.core_to_core.has_value(); };
  bool c2c_before = std::any_of(before.begin(), before.end(), has_c2c),
       c2c_after = std::any_of(after.begin(), after.end(), has_c2c);
  if (c2c_before != c2c_after) cmp.warnings.push_back("only one side has core-to-core results");

  auto rounds_of = [](const std::vector<Results>& side) {
    unsigned fewest = ~0u;
    for (const Results& r : side) fewest = std::min(fewest, r.rounds);
    return fewest;
  };
  if (before.size() == 1 || after.size() == 1) {
    if (rounds_of(before) < 2 || rounds_of(after) < 2)
      cmp.warnings.push_back(
          "a file without rounds (schema bench/1): its rows test the samples, which see only the noise within one "
          "run, and separate runs of one configuration differ by more (docs/bench-notes.md); measure again with "
          "this version, or save 5 runs a side and pass them with --before/--after");
    else
      cmp.warnings.push_back(
          "one run a side: verdicts test the interleaved rounds of each run, which catch disturbances of a second "
          "or two, not a change that lasts a whole run (the outer host moving this VM's vCPUs, a busy neighbour); "
          "for a verdict that will hold, save 5 runs a side and pass them with --before/--after");
  }
  auto chase_cpu = [](const Results& r) {
    return r.memory_latency ? std::to_string(r.memory_latency->method.cpu) : std::string("none");
  };
  std::string chase_b = set_of(before, chase_cpu);
  std::string chase_a = set_of(after, chase_cpu);
  if (chase_b != chase_a)
    cmp.warnings.push_back(fmt::format(
        "memory latency ran on CPU {} before and CPU {} after: those rows compare different CPUs", chase_b, chase_a));
  std::string cpus_b = set_of(before, [](const Results& r) { return r.measured_cpus.to_string(); });
  std::string cpus_a = set_of(after, [](const Results& r) { return r.measured_cpus.to_string(); });
  if (cpus_b != cpus_a)
    cmp.warnings.push_back(fmt::format("measured CPUs differ ({} before, {} after): per-CPU rows cover only CPUs "
                                       "both sides measured",
                                       cpus_b, cpus_a));
  return cmp;
}

Comparison compare_results(const Results& before, const Results& after, const std::string& before_name,
                           const std::string& after_name, const CompareOptions& options) {
  return compare_results(std::vector<Results>{before}, std::vector<Results>{after}, {before_name}, {after_name},
                         options);
}

bool change_in_points(const ComparisonRow& row) { return row.unit == "%"; }

std::string change_text(const ComparisonRow& row) {
  if (change_in_points(row)) {
    if (!row.median_before || !row.median_after) return "n/a";
    return fmt::format("{:+.1f} pp", *row.median_after - *row.median_before);
  }
  return row.change ? fmt::format("{:+.1f}%", *row.change * 100) : "n/a";
}

VerdictCounts count_verdicts(const Comparison& c) {
  VerdictCounts n;
  for (const ComparisonRow& row : c.rows) switch (row.verdict) {
      case Verdict::Better: ++n.better; break;
      case Verdict::Worse: ++n.worse; break;
      case Verdict::WithinNoise: ++n.within_noise; break;
      case Verdict::NotAvailable: ++n.not_available; break;
    }
  return n;
}

std::string verdict_summary(const Comparison& c) {
  const VerdictCounts n = count_verdicts(c);
  std::string line = fmt::format("{} metric{} better, {} worse, {} within noise", n.better, n.better == 1 ? "" : "s",
                                 n.worse, n.within_noise);
  if (n.not_available) line += fmt::format(", {} without a test", n.not_available);
  if (c.runs_before < 2 || c.runs_after < 2)
    line += "; one run a side: a verdict sees only what changed within a run, save 5 runs a side to confirm it";
  return line;
}

}  // namespace vpt
