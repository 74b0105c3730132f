// Pure statistics over samples. Each function returns nullopt when there are
// too few samples for the statistic to mean anything, so that writers print
// "n/a (n=…)" instead of a degenerate number (Google Benchmark returns the
// mean as the median below 3 runs; we do not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vpt {

// Fewest samples for which quantile q is more than the sample maximum or
// minimum: max(2, ceil(1 / min(q, 1 - q))). p50: 2, p90: 10, p99: 100.
std::size_t min_samples_for_quantile(double q);

// Linear interpolation between order statistics (Hyndman & Fan type 7, the
// default of R and numpy): h = (n - 1) q, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
// nullopt when n < min_samples_for_quantile(q). q in [0, 1].
std::optional<double> quantile(std::span<const double> samples, double q);
std::optional<double> median(std::span<const double> samples);   // quantile 0.5: n >= 2
std::optional<double> maximum(std::span<const double> samples);  // n >= 1

// Median absolute deviation from the median, unscaled (multiply by 1.4826 for
// a normal sigma). n >= 2.
std::optional<double> mad(std::span<const double> samples);

// Mann-Whitney U test of `a` against `b`, normal approximation with tie and
// continuity correction (scipy's method='asymptotic'). Needs both n >= 8:
// below that the approximation is poor (Google Benchmark's compare.py warns
// below 9 repetitions).
struct MannWhitney {
  double u_a = 0;        // pairs (x in a, y in b) with x > y, ties counted 1/2
  double z = 0;          // sign: positive when a tends to be larger
  double p_two_sided = 1;
};
inline constexpr std::size_t kMannWhitneyMinSamples = 8;
std::optional<MannWhitney> mann_whitney_u(std::span<const double> a, std::span<const double> b);

// Exact Mann-Whitney test for small samples, by counting all C(n1 + n2, n1)
// orderings: for comparing a few runs per side (per-run medians or counters),
// where the normal approximation is poor. Two-sided p = 2 min(P(U <= u), P(U >= u)).
// With ties across the sides (counters) every split of the pooled values is
// enumerated, up to kMannWhitneyExactTiesMax values in all. nullopt when a side
// is empty or too large. With 5 runs a side and no ties the smallest p is
// 2/252 = 0.0079; with 4 it is 2/70 = 0.029.
inline constexpr std::size_t kMannWhitneyExactMax = 30;
inline constexpr std::size_t kMannWhitneyExactTiesMax = 20;
std::optional<MannWhitney> mann_whitney_exact(std::span<const double> a, std::span<const double> b);

// Percentile bootstrap confidence interval of median(b) - median(a):
// `resamples` draws with replacement from each sample, seeded so that the
// same files always give the same verdict. Needs both n >= 8.
struct Interval {
  double low = 0, high = 0;
  bool contains(double x) const { return low <= x && x <= high; }
};
std::optional<Interval> bootstrap_median_difference(std::span<const double> a, std::span<const double> b,
                                                    double confidence = 0.95, unsigned resamples = 2000,
                                                    std::uint64_t seed = 1);
// Same for quantile q: quantile(b, q) - quantile(a, q). Needs both n >= 8 and
// n >= min_samples_for_quantile(q) (100 for p99).
std::optional<Interval> bootstrap_quantile_difference(std::span<const double> a, std::span<const double> b, double q,
                                                      double confidence = 0.95, unsigned resamples = 2000,
                                                      std::uint64_t seed = 1);
// Same for the ratio of medians noisy/quiet between two runs:
// (median(b_noisy)/median(b_quiet)) - (median(a_noisy)/median(a_quiet)).
std::optional<Interval> bootstrap_ratio_difference(std::span<const double> a_quiet, std::span<const double> a_noisy,
                                                   std::span<const double> b_quiet, std::span<const double> b_noisy,
                                                   double confidence = 0.95, unsigned resamples = 2000,
                                                   std::uint64_t seed = 1);

// Standard normal upper tail, P(Z > z).
double normal_upper_tail(double z);

}  // namespace vpt
