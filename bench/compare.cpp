// compare_results: per-metric rows with a verdict from a Mann-Whitney test, a
// bootstrap interval and a minimum practical change. The unit of the test is
// the sample with one run a side and the run (its median) with several.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

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

void append(Samples& to, const Samples& from) { to.insert(to.end(), from.begin(), from.end()); }

Samples pooled(const std::vector<Samples>& runs) {
  Samples all;
  for (const auto& r : runs) append(all, r);
  return all;
}

// One metric across all runs of both sides. Ratio metrics keep the quiet and
// noisy samples of each run instead.
struct Metric {
  std::string name, unit;
  bool ratio = false;
  double q = 0.5;  // the statistic compared: the median, or a tail quantile
  bool one_value_per_run = false;  // counters: each run contributes exactly one number
  std::vector<Samples> before, after;                       // samples per run
  std::vector<std::pair<Samples, Samples>> ratio_before, ratio_after;  // (quiet, noisy) per run
};

class Metrics {
 public:
  Metric& get(const std::string& name, const std::string& unit, bool ratio = false, double q = 0.5) {
    auto [it, added] = index_.try_emplace(name, list_.size());
    if (added) {
      list_.push_back({});
      list_.back().name = name;
      list_.back().unit = unit;
      list_.back().ratio = ratio;
      list_.back().q = q;
    }
    return list_[it->second];
  }
  const std::vector<Metric>& list() const { return list_; }

 private:
  std::vector<Metric> list_;
  std::map<std::string, std::size_t> index_;
};

// Adds one run's samples to every metric it has.
void collect(const Results& r, bool after, Metrics& metrics) {
  auto add = [&](const std::string& name, const std::string& unit, const Samples& samples) {
    Metric& m = metrics.get(name, unit);
    (after ? m.after : m.before).push_back(samples);
  };
  if (r.core_to_core) {
    std::map<std::pair<unsigned, unsigned>, Samples> pairs;  // both directions pooled
    Samples all;
    for (const CoreToCorePair& p : r.core_to_core->pairs) {
      append(pairs[{std::min(p.from_cpu, p.to_cpu), std::max(p.from_cpu, p.to_cpu)}], p.samples_ns);
      append(all, p.samples_ns);
    }
    // Every measured pair pooled: the guest's inter-vCPU traffic, even when the CPUs moved.
    add("core-to-core, all measured pairs", "ns", all);
    for (const auto& [k, s] : pairs) add(fmt::format("core-to-core CPU {} <-> {}", k.first, k.second), "ns", s);
  }
  for (const LatencyPoint& p : r.memory_latency)
    add(fmt::format("memory {} ({})", format_bytes(p.bytes), p.level), "ns", p.samples_ns);
  for (const InterferencePoint& p : r.interference) {
    std::string label = fmt::format("interference {}", format_bytes(p.bytes));
    add(label + " quiet", "ns", p.quiet_samples_ns);
    add(label + " noisy", "ns", p.noisy_samples_ns);
    Metric& m = metrics.get(label + " ratio", "x", true);
    (after ? m.ratio_after : m.ratio_before).push_back({p.quiet_samples_ns, p.noisy_samples_ns});
  }
  if (r.domain && !r.domain->threads.empty()) {
    // Summed over the vCPU threads; a thread that ended during the run has no count.
    double migrations = 0, switches = 0;
    for (const ThreadCheck& t : r.domain->threads) {
      if (t.kind != ThreadKind::Vcpu) continue;
      migrations += static_cast<double>(t.migrations.value_or(0));
      switches += static_cast<double>(t.nonvoluntary_switches.value_or(0));
    }
    for (auto [name, value] : {std::pair{"vCPU threads: migrations per run", migrations},
                               std::pair{"vCPU threads: involuntary switches per run", switches}}) {
      Metric& m = metrics.get(name, "count");
      m.one_value_per_run = true;
      (after ? m.after : m.before).push_back({value});
    }
  }
  if (!r.wakeup.empty()) {
    Samples all;
    for (const WakeupResult& w : r.wakeup) append(all, w.samples_us);
    add("wake-up lateness, all measured CPUs", "us", all);
    // The tail is what a latency-sensitive guest feels; test it, not only the median.
    Metric& tail = metrics.get("wake-up lateness p99, all measured CPUs", "us", false, 0.99);
    (after ? tail.after : tail.before).push_back(all);
    if (r.wakeup.size() > 1)
      for (const WakeupResult& w : r.wakeup) add(fmt::format("wake-up lateness CPU {}", w.cpu), "us", w.samples_us);
  }
  // In-guest ping-pong and chase (the "guest" section): what the guest itself feels.
  for (const GuestSeries& s : guest_series(r)) add(s.metric, s.unit, s.samples);
}

std::optional<double> ratio_of_medians(const std::pair<Samples, Samples>& quiet_noisy) {
  auto q = median(quiet_noisy.first), n = median(quiet_noisy.second);
  if (!q || !n || *q <= 0) return std::nullopt;
  return *n / *q;
}

// Smallest two-sided p an exact test of n1 vs n2 runs can give: 2 / C(n1+n2, n1).
double smallest_exact_p(std::size_t n1, std::size_t n2) {
  double c = 1;
  for (std::size_t i = 1; i <= n1; ++i) c = c * static_cast<double>(n2 + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

void decide(ComparisonRow& row, std::optional<double> p_value, std::optional<Interval> ci, bool run_level,
            const CompareOptions& o) {
  if (!row.median_before || !row.median_after) {
    row.verdict = Verdict::NotAvailable;
    row.reason = run_level ? fmt::format("fewer than 2 runs with a median on a side ({}/{} runs)", row.runs_before,
                                         row.runs_after)
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
    row.reason = run_level ? std::string("per-run values tie across the two sides: no exact test")
                           : fmt::format("too few samples on a side for a test (n={}/{})", row.n_before,
                                         row.n_after);
    return;
  }
  bool significant = (!p_value || *p_value < o.alpha) && (!ci || !ci->contains(0));
  bool large = row.change && std::fabs(*row.change) >= o.min_change;
  if (significant && large) {
    row.verdict = *row.change < 0 ? Verdict::Better : Verdict::Worse;
    row.reason = p_value ? fmt::format("p={:.2g}", *p_value) : std::string("bootstrap");
    if (ci) row.reason += ", CI excludes 0";
    row.reason += run_level ? fmt::format(", {} vs {} runs", row.runs_before, row.runs_after)
                            : std::string(", one run a side: within-run noise only");
    return;
  }
  row.verdict = Verdict::WithinNoise;
  if (significant) {
    row.reason = fmt::format("significant but under the {:.0f}% practical threshold", o.min_change * 100);
  } else if (p_value && *p_value >= o.alpha) {
    row.reason = fmt::format("p={:.2g} >= {:.2g}", *p_value, o.alpha);
    if (run_level && smallest_exact_p(row.runs_before, row.runs_after) >= o.alpha)
      row.reason += fmt::format("; {} vs {} runs cannot go below p={:.2g}", row.runs_before, row.runs_after,
                                smallest_exact_p(row.runs_before, row.runs_after));
  } else {
    row.reason = "CI contains 0";
  }
}

ComparisonRow make_row(const Metric& m, const CompareOptions& o) {
  ComparisonRow row;
  row.metric = m.name;
  row.unit = m.unit;
  if (m.ratio) {
    row.runs_before = m.ratio_before.size();
    row.runs_after = m.ratio_after.size();
    for (const auto& [q, n] : m.ratio_before) row.n_before += std::min(q.size(), n.size());
    for (const auto& [q, n] : m.ratio_after) row.n_after += std::min(q.size(), n.size());
  } else {
    row.runs_before = m.before.size();
    row.runs_after = m.after.size();
  }
  const bool run_level = row.runs_before >= 2 && row.runs_after >= 2;

  if (m.ratio) {
    if (run_level) {
      Samples b, a;
      for (const auto& qn : m.ratio_before)
        if (auto r = ratio_of_medians(qn)) b.push_back(*r);
      for (const auto& qn : m.ratio_after)
        if (auto r = ratio_of_medians(qn)) a.push_back(*r);
      row.median_before = median(b);
      row.median_after = median(a);
      std::optional<double> p;
      if (auto mw = mann_whitney_exact(b, a)) p = mw->p_two_sided;
      decide(row, p, std::nullopt, true, o);
    } else {
      const auto &b = m.ratio_before.front(), &a = m.ratio_after.front();
      row.median_before = ratio_of_medians(b);
      row.median_after = ratio_of_medians(a);
      decide(row, std::nullopt,
             bootstrap_ratio_difference(b.first, b.second, a.first, a.second, o.confidence), false, o);
    }
    return row;
  }

  if (m.one_value_per_run) {
    Samples b = pooled(m.before), a = pooled(m.after);
    row.n_before = b.size();
    row.n_after = a.size();
    if (!run_level) {
      row.median_before = b.front();
      row.median_after = a.front();
      if (*row.median_before > 0) row.change = *row.median_after / *row.median_before - 1;
      row.verdict = Verdict::NotAvailable;
      row.reason = "one value a side: no test";
      return row;
    }
    row.median_before = median(b);
    row.median_after = median(a);
    std::optional<double> p;
    if (auto mw = mann_whitney_exact(b, a)) p = mw->p_two_sided;
    decide(row, p, std::nullopt, true, o);
    return row;
  }

  Samples all_b = pooled(m.before), all_a = pooled(m.after);
  row.n_before = all_b.size();
  row.n_after = all_a.size();
  row.p99_before = quantile(all_b, 0.99);
  row.p99_after = quantile(all_a, 0.99);
  if (run_level) {
    Samples b, a;  // per-run medians (or per-run tail quantiles)
    for (const auto& s : m.before)
      if (auto x = quantile(s, m.q)) b.push_back(*x);
    for (const auto& s : m.after)
      if (auto x = quantile(s, m.q)) a.push_back(*x);
    row.median_before = median(b);
    row.median_after = median(a);
    std::optional<double> p;
    if (auto mw = mann_whitney_exact(b, a)) p = mw->p_two_sided;
    decide(row, p, std::nullopt, true, o);
  } else if (m.q != 0.5) {
    // A rank test compares locations, not tails: the bootstrap interval decides alone.
    row.median_before = quantile(all_b, m.q);
    row.median_after = quantile(all_a, m.q);
    decide(row, std::nullopt, bootstrap_quantile_difference(all_b, all_a, m.q, o.confidence), false, o);
  } else {
    row.median_before = median(all_b);
    row.median_after = median(all_a);
    std::optional<double> p;
    if (auto mw = mann_whitney_u(all_b, all_a)) p = mw->p_two_sided;
    decide(row, p, bootstrap_median_difference(all_b, all_a, o.confidence), false, o);
  }
  return row;
}

std::string show(const std::optional<std::string>& s) { return s ? *s : "unknown"; }

std::string join_with(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
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
    if (!options.force)
      throw BenchInputError(fmt::format("cannot compare '{}' with '{}': they come from different hosts ({}); "
                                        "use --force to compare anyway",
                                        cmp.before_name, cmp.after_name, join_with(identity, "; ")));
    cmp.warnings.insert(cmp.warnings.begin(),
                        fmt::format("different hosts, compared because of --force: {}", join_with(identity, "; ")));
  }

  Metrics metrics;
  for (const Results& r : before) collect(r, false, metrics);
  for (const Results& r : after) collect(r, true, metrics);
  for (const Metric& m : metrics.list()) {
    bool in_both = m.ratio ? !m.ratio_before.empty() && !m.ratio_after.empty() : !m.before.empty() && !m.after.empty();
    if (in_both) cmp.rows.push_back(make_row(m, options));
  }

  auto has_c2c = [](const Results& r) { return r.core_to_core.has_value(); };
  bool c2c_before = std::any_of(before.begin(), before.end(), has_c2c),
       c2c_after = std::any_of(after.begin(), after.end(), has_c2c);
  if (c2c_before != c2c_after) cmp.warnings.push_back("only one side has core-to-core results");

  if (before.size() == 1 || after.size() == 1)
    cmp.warnings.push_back(
        "one run a side: the test sees only the noise within each run, and separate runs of one configuration "
        "differ by more (docs/bench-notes.md); save 5 runs a side and pass them with --before/--after");
  std::string chase_b = set_of(before, [](const Results& r) { return std::to_string(r.method.chase_cpu); });
  std::string chase_a = set_of(after, [](const Results& r) { return std::to_string(r.method.chase_cpu); });
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

}  // namespace vpt
