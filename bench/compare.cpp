// compare_results: per-metric rows with a verdict from a Mann-Whitney test, a
// bootstrap interval and a minimum practical change.
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "bench/bench.hpp"
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

void decide(ComparisonRow& row, std::optional<double> p_value, std::optional<Interval> ci, const CompareOptions& o) {
  if (!row.median_before || !row.median_after) {
    row.verdict = Verdict::NotAvailable;
    row.reason = fmt::format("too few samples for a median (n={}/{})", row.n_before, row.n_after);
    return;
  }
  if (*row.median_before > 0) row.change = *row.median_after / *row.median_before - 1;
  row.p_value = p_value;
  if (ci) {
    row.ci_low = ci->low;
    row.ci_high = ci->high;
  }
  if (!ci) {
    row.verdict = Verdict::NotAvailable;
    row.reason = fmt::format("fewer than {} samples on a side (n={}/{}): no test", kMannWhitneyMinSamples,
                             row.n_before, row.n_after);
    return;
  }
  bool excludes_zero = !ci->contains(0);
  bool significant = excludes_zero && (!p_value || *p_value < o.alpha);
  bool large = row.change && std::fabs(*row.change) >= o.min_change;
  if (significant && large) {
    row.verdict = *row.change < 0 ? Verdict::Better : Verdict::Worse;
    row.reason = p_value ? fmt::format("p={:.2g}, CI excludes 0", *p_value) : "CI excludes 0";
  } else {
    row.verdict = Verdict::WithinNoise;
    if (significant)
      row.reason = fmt::format("significant but under the {:.0f}% practical threshold", o.min_change * 100);
    else if (p_value && *p_value >= o.alpha)
      row.reason = fmt::format("p={:.2g} >= {:.2g}", *p_value, o.alpha);
    else
      row.reason = "CI contains 0";
  }
}

ComparisonRow empty_row(std::string metric, std::string unit) {
  ComparisonRow row;
  row.metric = std::move(metric);
  row.unit = std::move(unit);
  return row;
}

ComparisonRow sample_row(std::string metric, std::string unit, const Samples& before, const Samples& after,
                         const CompareOptions& o) {
  ComparisonRow row = empty_row(std::move(metric), std::move(unit));
  row.n_before = before.size();
  row.n_after = after.size();
  row.median_before = median(before);
  row.median_after = median(after);
  row.p99_before = quantile(before, 0.99);
  row.p99_after = quantile(after, 0.99);
  std::optional<double> p;
  if (auto mw = mann_whitney_u(before, after)) p = mw->p_two_sided;
  decide(row, p, bootstrap_median_difference(before, after, o.confidence), o);
  return row;
}

// Samples of the unordered pair {a, b}: both directions pooled.
std::map<std::pair<unsigned, unsigned>, Samples> pair_samples(const CoreToCore& c2c) {
  std::map<std::pair<unsigned, unsigned>, Samples> out;
  for (const CoreToCorePair& p : c2c.pairs)
    append(out[{std::min(p.from_cpu, p.to_cpu), std::max(p.from_cpu, p.to_cpu)}], p.samples_ns);
  return out;
}

std::string show(const std::optional<std::string>& s) { return s ? *s : "unknown"; }

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

}  // namespace

Comparison compare_results(const Results& before, const Results& after, const std::string& before_name,
                           const std::string& after_name, const CompareOptions& options) {
  Comparison cmp;
  cmp.before_name = before_name;
  cmp.after_name = after_name;
  cmp.options = options;
  std::vector<std::string> identity;
  host_differences(before, after, identity, cmp.warnings);
  if (!identity.empty()) {
    std::string what;
    for (const auto& d : identity) what += (what.empty() ? "" : "; ") + d;
    if (!options.force)
      throw BenchInputError(fmt::format("cannot compare '{}' with '{}': they come from different hosts ({}); "
                                        "use --force to compare anyway",
                                        before_name, after_name, what));
    cmp.warnings.insert(cmp.warnings.begin(), fmt::format("different hosts, compared because of --force: {}", what));
  }

  // Core-to-core: every measured pair pooled (the guest's inter-vCPU traffic),
  // then each pair both runs measured.
  if (before.core_to_core && after.core_to_core) {
    auto b = pair_samples(*before.core_to_core), a = pair_samples(*after.core_to_core);
    Samples all_b, all_a;
    for (auto& [k, s] : b) append(all_b, s);
    for (auto& [k, s] : a) append(all_a, s);
    cmp.rows.push_back(sample_row("core-to-core, all measured pairs", "ns", all_b, all_a, options));
    for (auto& [k, s] : b)
      if (a.count(k))
        cmp.rows.push_back(sample_row(fmt::format("core-to-core CPU {} <-> {}", k.first, k.second), "ns", s, a[k],
                                      options));
  } else if (before.core_to_core || after.core_to_core) {
    cmp.warnings.push_back("only one file has core-to-core results");
  }

  for (const LatencyPoint& pb : before.memory_latency)
    for (const LatencyPoint& pa : after.memory_latency)
      if (pb.bytes == pa.bytes)
        cmp.rows.push_back(sample_row(fmt::format("memory {} ({})", format_bytes(pb.bytes), pb.level), "ns",
                                      pb.samples_ns, pa.samples_ns, options));

  for (const InterferencePoint& pb : before.interference)
    for (const InterferencePoint& pa : after.interference) {
      if (pb.bytes != pa.bytes) continue;
      std::string label = fmt::format("interference {}", format_bytes(pb.bytes));
      cmp.rows.push_back(sample_row(label + " quiet", "ns", pb.quiet_samples_ns, pa.quiet_samples_ns, options));
      cmp.rows.push_back(sample_row(label + " noisy", "ns", pb.noisy_samples_ns, pa.noisy_samples_ns, options));
      ComparisonRow ratio = empty_row(label + " ratio", "x");
      ratio.n_before = std::min(pb.quiet_samples_ns.size(), pb.noisy_samples_ns.size());
      ratio.n_after = std::min(pa.quiet_samples_ns.size(), pa.noisy_samples_ns.size());
      ratio.median_before = pb.ratio;
      ratio.median_after = pa.ratio;
      decide(ratio, std::nullopt,
             bootstrap_ratio_difference(pb.quiet_samples_ns, pb.noisy_samples_ns, pa.quiet_samples_ns,
                                        pa.noisy_samples_ns, options.confidence),
             options);
      cmp.rows.push_back(std::move(ratio));
    }

  if (!before.wakeup.empty() && !after.wakeup.empty()) {
    Samples all_b, all_a;
    for (const auto& w : before.wakeup) append(all_b, w.samples_us);
    for (const auto& w : after.wakeup) append(all_a, w.samples_us);
    cmp.rows.push_back(sample_row("wake-up lateness, all measured CPUs", "us", all_b, all_a, options));
    if (before.wakeup.size() > 1 || after.wakeup.size() > 1)
      for (const auto& wb : before.wakeup)
        for (const auto& wa : after.wakeup)
          if (wb.cpu == wa.cpu)
            cmp.rows.push_back(
                sample_row(fmt::format("wake-up lateness CPU {}", wb.cpu), "us", wb.samples_us, wa.samples_us, options));
  }
  if (before.measured_cpus != after.measured_cpus)
    cmp.warnings.push_back(fmt::format("measured CPUs differ ({} before, {} after): per-CPU rows cover only CPUs both measured",
                                       before.measured_cpus, after.measured_cpus));
  return cmp;
}

}  // namespace vpt
