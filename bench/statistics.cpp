#include "bench/statistics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

namespace vpt {

namespace {

std::vector<double> sorted_copy(std::span<const double> samples) {
  std::vector<double> v(samples.begin(), samples.end());
  std::sort(v.begin(), v.end());
  return v;
}

double sorted_quantile(const std::vector<double>& v, double q) {
  double h = (static_cast<double>(v.size()) - 1) * q;
  auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= v.size()) return v.back();
  return v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

// Median of a resample; draws indices into `scratch` to avoid allocation per draw.
double resampled_median(std::span<const double> samples, std::mt19937_64& rng, std::vector<double>& scratch) {
  std::uniform_int_distribution<std::size_t> pick(0, samples.size() - 1);
  scratch.resize(samples.size());
  for (double& x : scratch) x = samples[pick(rng)];
  auto mid = scratch.begin() + static_cast<std::ptrdiff_t>(scratch.size() / 2);
  std::nth_element(scratch.begin(), mid, scratch.end());
  double upper = *mid;
  if (scratch.size() % 2 == 1) return upper;
  double lower = *std::max_element(scratch.begin(), mid);
  return (lower + upper) / 2;
}

Interval percentile_interval(std::vector<double>& draws, double confidence) {
  std::sort(draws.begin(), draws.end());
  double tail = (1 - confidence) / 2;
  return {sorted_quantile(draws, tail), sorted_quantile(draws, 1 - tail)};
}

}  // namespace

std::size_t min_samples_for_quantile(double q) {
  double edge = std::min(q, 1 - q);
  if (edge <= 0) return 2;  // min/max themselves: at least a spread
  auto n = static_cast<std::size_t>(std::ceil(1 / edge - 1e-9));
  return std::max<std::size_t>(2, n);
}

std::optional<double> quantile(std::span<const double> samples, double q) {
  if (q < 0 || q > 1 || samples.size() < min_samples_for_quantile(q)) return std::nullopt;
  return sorted_quantile(sorted_copy(samples), q);
}

std::optional<double> median(std::span<const double> samples) { return quantile(samples, 0.5); }

std::optional<double> maximum(std::span<const double> samples) {
  if (samples.empty()) return std::nullopt;
  return *std::max_element(samples.begin(), samples.end());
}

std::optional<double> mad(std::span<const double> samples) {
  auto m = median(samples);
  if (!m) return std::nullopt;
  std::vector<double> deviations;
  deviations.reserve(samples.size());
  for (double x : samples) deviations.push_back(std::fabs(x - *m));
  return median(deviations);
}

double normal_upper_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

std::optional<MannWhitney> mann_whitney_u(std::span<const double> a, std::span<const double> b) {
  if (a.size() < kMannWhitneyMinSamples || b.size() < kMannWhitneyMinSamples) return std::nullopt;
  // Rank the pooled samples; ties get the mean of their ranks.
  struct Item {
    double value;
    bool from_a;
  };
  std::vector<Item> pooled;
  pooled.reserve(a.size() + b.size());
  for (double x : a) pooled.push_back({x, true});
  for (double x : b) pooled.push_back({x, false});
  std::sort(pooled.begin(), pooled.end(), [](const Item& l, const Item& r) { return l.value < r.value; });
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size()), n = n1 + n2;
  double rank_sum_a = 0, tie_term = 0;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].value == pooled[i].value) ++j;
    double t = static_cast<double>(j - i);
    double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // ranks are 1-based
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].from_a) rank_sum_a += mean_rank;
    tie_term += t * t * t - t;
    i = j;
  }
  MannWhitney result;
  result.u_a = rank_sum_a - n1 * (n1 + 1) / 2;
  double mean_u = n1 * n2 / 2;
  double var_u = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var_u <= 0) {  // every value tied: no evidence of a difference
    result.z = 0;
    result.p_two_sided = 1;
    return result;
  }
  double diff = result.u_a - mean_u;
  double corrected = std::max(0.0, std::fabs(diff) - 0.5);
  result.z = std::copysign(corrected / std::sqrt(var_u), diff);
  result.p_two_sided = std::min(1.0, 2 * normal_upper_tail(std::fabs(result.z)));
  return result;
}

std::optional<MannWhitney> mann_whitney_exact(std::span<const double> a, std::span<const double> b) {
  const std::size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0 || n1 > kMannWhitneyExactMax || n2 > kMannWhitneyExactMax) return std::nullopt;
  auto u_of = [](auto&& xs, auto&& ys) {
    double u = 0;
    for (double x : xs)
      for (double y : ys) u += x > y ? 1.0 : x == y ? 0.5 : 0.0;
    return u;
  };
  const double u = u_of(a, b);
  const double mean_u = static_cast<double>(n1 * n2) / 2;
  const double sd = std::sqrt(static_cast<double>(n1 * n2) * static_cast<double>(n1 + n2 + 1) / 12);
  bool ties = false;
  for (double x : a)
    for (double y : b) ties = ties || x == y;
  if (ties) {
    // Ties break the counting recurrence: enumerate every way of splitting the
    // pooled values into n1 and n2 instead (at most C(20, 10) = 184756 splits).
    if (n1 + n2 > kMannWhitneyExactTiesMax) return std::nullopt;
    std::vector<double> all(a.begin(), a.end());
    all.insert(all.end(), b.begin(), b.end());
    const std::size_t n = all.size();
    double total = 0, at_most = 0, at_least = 0;
    std::vector<double> xs, ys;
    for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
      if (static_cast<std::size_t>(std::popcount(mask)) != n1) continue;
      xs.clear();
      ys.clear();
      for (std::size_t i = 0; i < n; ++i) ((mask >> i) & 1 ? xs : ys).push_back(all[i]);
      double v = u_of(xs, ys);
      total += 1;
      if (v <= u + 1e-9) at_most += 1;
      if (v >= u - 1e-9) at_least += 1;
    }
    MannWhitney result;
    result.u_a = u;
    result.z = sd > 0 ? (u - mean_u) / sd : 0;
    result.p_two_sided = std::min(1.0, 2 * std::min(at_most, at_least) / total);
    return result;
  }
  // count[i][j][k]: orderings of i values of a and j of b with U = k, built by
  // appending the largest value: from a (it beats all j b's) or from b.
  const std::size_t umax = n1 * n2;
  std::vector<std::vector<std::vector<double>>> count(
      n1 + 1, std::vector<std::vector<double>>(n2 + 1, std::vector<double>(umax + 1, 0.0)));
  for (std::size_t i = 0; i <= n1; ++i)
    for (std::size_t j = 0; j <= n2; ++j) {
      if (i == 0 || j == 0) {
        count[i][j][0] = 1;
        continue;
      }
      for (std::size_t k = 0; k <= i * j; ++k)
        count[i][j][k] = (k >= j ? count[i - 1][j][k - j] : 0.0) + count[i][j - 1][k];
    }
  double total = 0, at_most = 0, at_least = 0;
  for (std::size_t k = 0; k <= umax; ++k) {
    double c = count[n1][n2][k];
    total += c;
    if (static_cast<double>(k) <= u) at_most += c;
    if (static_cast<double>(k) >= u) at_least += c;
  }
  MannWhitney result;
  result.u_a = u;
  result.z = sd > 0 ? (u - mean_u) / sd : 0;
  result.p_two_sided = std::min(1.0, 2 * std::min(at_most, at_least) / total);
  return result;
}

std::optional<Interval> bootstrap_median_difference(std::span<const double> a, std::span<const double> b,
                                                    double confidence, unsigned resamples, std::uint64_t seed) {
  if (a.size() < kMannWhitneyMinSamples || b.size() < kMannWhitneyMinSamples || resamples < 100) return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<double> scratch, draws;
  draws.reserve(resamples);
  for (unsigned i = 0; i < resamples; ++i) {
    double ma = resampled_median(a, rng, scratch);
    double mb = resampled_median(b, rng, scratch);
    draws.push_back(mb - ma);
  }
  return percentile_interval(draws, confidence);
}

std::optional<Interval> bootstrap_quantile_difference(std::span<const double> a, std::span<const double> b, double q,
                                                      double confidence, unsigned resamples, std::uint64_t seed) {
  const std::size_t need = std::max(kMannWhitneyMinSamples, min_samples_for_quantile(q));
  if (a.size() < need || b.size() < need || resamples < 100) return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<double> scratch, draws;
  draws.reserve(resamples);
  auto resampled = [&](std::span<const double> s) {
    std::uniform_int_distribution<std::size_t> pick(0, s.size() - 1);
    scratch.resize(s.size());
    for (double& x : scratch) x = s[pick(rng)];
    std::sort(scratch.begin(), scratch.end());
    return sorted_quantile(scratch, q);
  };
  for (unsigned i = 0; i < resamples; ++i) {
    double qa = resampled(a);
    draws.push_back(resampled(b) - qa);
  }
  return percentile_interval(draws, confidence);
}

std::optional<Interval> bootstrap_ratio_difference(std::span<const double> a_quiet, std::span<const double> a_noisy,
                                                   std::span<const double> b_quiet, std::span<const double> b_noisy,
                                                   double confidence, unsigned resamples, std::uint64_t seed) {
  for (auto s : {a_quiet, a_noisy, b_quiet, b_noisy})
    if (s.size() < kMannWhitneyMinSamples) return std::nullopt;
  if (resamples < 100) return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<double> scratch, draws;
  draws.reserve(resamples);
  for (unsigned i = 0; i < resamples; ++i) {
    double aq = resampled_median(a_quiet, rng, scratch), an = resampled_median(a_noisy, rng, scratch);
    double bq = resampled_median(b_quiet, rng, scratch), bn = resampled_median(b_noisy, rng, scratch);
    if (aq <= 0 || bq <= 0) return std::nullopt;
    draws.push_back(bn / bq - an / aq);
  }
  return percentile_interval(draws, confidence);
}

}  // namespace vpt
