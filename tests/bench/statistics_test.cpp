// Statistics over literal samples; every expected value is worked out by hand
// in the comment above it.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "bench/statistics.hpp"

namespace vpt {
namespace {

using V = std::vector<double>;

TEST(Median, OddCountIsTheMiddleValue) {
  // sorted: 1 2 3 -> 2
  EXPECT_EQ(median(V{3, 1, 2}), 2.0);
}

TEST(Median, EvenCountAveragesTheTwoMiddleValues) {
  // sorted: 1 2 3 4 -> (2 + 3) / 2
  EXPECT_EQ(median(V{4, 1, 3, 2}), 2.5);
}

TEST(Median, IsNotAvailableBelowTwoSamples) {
  EXPECT_FALSE(median(V{}).has_value());
  EXPECT_FALSE(median(V{7}).has_value());
  EXPECT_TRUE(median(V{7, 9}).has_value());
}

TEST(Quantile, InterpolatesLinearlyBetweenOrderStatistics) {
  // 1..10, q = 0.9: h = 9 * 0.9 = 8.1 -> x[8] + 0.1 (x[9] - x[8]) = 9 + 0.1 = 9.1
  V ten(10);
  std::iota(ten.begin(), ten.end(), 1.0);
  EXPECT_NEAR(*quantile(ten, 0.9), 9.1, 1e-12);
  // q = 0.25: h = 2.25 -> 3 + 0.25 * 1 = 3.25
  EXPECT_NEAR(*quantile(ten, 0.25), 3.25, 1e-12);
}

TEST(Quantile, P99NeedsAHundredSamples) {
  // Below 100 samples p99 would just be the maximum or an interpolation next to it.
  V ninety_nine(99, 1.0), hundred(100);
  std::iota(hundred.begin(), hundred.end(), 1.0);
  EXPECT_FALSE(quantile(ninety_nine, 0.99).has_value());
  // 1..100: h = 99 * 0.99 = 98.01 -> x[98] + 0.01 (x[99] - x[98]) = 99 + 0.01 = 99.01
  EXPECT_NEAR(*quantile(hundred, 0.99), 99.01, 1e-9);
}

TEST(Quantile, MinimumSampleCounts) {
  EXPECT_EQ(min_samples_for_quantile(0.5), 2u);
  EXPECT_EQ(min_samples_for_quantile(0.9), 10u);
  EXPECT_EQ(min_samples_for_quantile(0.99), 100u);
  EXPECT_EQ(min_samples_for_quantile(0.01), 100u);
}

TEST(Maximum, NeedsOneSample) {
  EXPECT_FALSE(maximum(V{}).has_value());
  EXPECT_EQ(maximum(V{2, 9, 4}), 9.0);
}

TEST(MedianAbsoluteDeviation, MatchesTheTextbookExample) {
  // 1 1 2 2 4 6 9: median 2; |x - 2| = 1 1 0 0 2 4 7 -> sorted 0 0 1 1 2 4 7 -> median 1
  EXPECT_EQ(mad(V{1, 1, 2, 2, 4, 6, 9}), 1.0);
  EXPECT_FALSE(mad(V{5}).has_value());
}

TEST(MannWhitney, SeparatedSamplesGiveUZeroAndASmallP) {
  // a = 1..8 all below b = 9..16: U_a = 0.
  // mean U = 8*8/2 = 32; var = 8*8*17/12 = 90.667, sd = 9.5219;
  // z = -(|0 - 32| - 0.5) / 9.5219 = -3.3082; p = 2 * P(Z > 3.3082) = 0.000939
  V a{1, 2, 3, 4, 5, 6, 7, 8}, b{9, 10, 11, 12, 13, 14, 15, 16};
  auto mw = mann_whitney_u(a, b);
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->u_a, 0.0);
  EXPECT_NEAR(mw->z, -3.3082, 1e-4);
  EXPECT_NEAR(mw->p_two_sided, 0.000939, 1e-5);
}

TEST(MannWhitney, InterleavedSamplesGiveLargeP) {
  // a = 1,3,...,15 and b = 2,4,...,16: each a_i beats b_1..b_{i-1}: U_a = 0+1+...+7 = 28.
  // z = -(|28 - 32| - 0.5) / 9.5219 = -0.3676; p = 0.7132
  V a{1, 3, 5, 7, 9, 11, 13, 15}, b{2, 4, 6, 8, 10, 12, 14, 16};
  auto mw = mann_whitney_u(a, b);
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->u_a, 28.0);
  EXPECT_NEAR(mw->p_two_sided, 0.7132, 1e-3);
}

TEST(MannWhitney, CorrectsTheVarianceForTies) {
  // a = eight 1s, b = four 1s and four 2s. Pooled ranks: twelve 1s share ranks
  // 1..12 (mean 6.5), four 2s share 13..16. R_a = 8 * 6.5 = 52, U_a = 52 - 36 = 16.
  // Ties: t = 12 and 4: sum(t^3 - t) = 1716 + 60 = 1776.
  // var = 64/12 * (17 - 1776 / (16 * 15)) = 5.3333 * 9.6 = 51.2, sd = 7.1554.
  // z = -(16 - 0.5) / 7.1554 = -2.1662, p = 0.0303
  V a(8, 1.0), b{1, 1, 1, 1, 2, 2, 2, 2};
  auto mw = mann_whitney_u(a, b);
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->u_a, 16.0);
  EXPECT_NEAR(mw->z, -2.1662, 1e-4);
  EXPECT_NEAR(mw->p_two_sided, 0.0303, 1e-4);
}

TEST(MannWhitney, AllValuesTiedIsNoEvidence) {
  auto mw = mann_whitney_u(V(8, 3.0), V(8, 3.0));
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->p_two_sided, 1.0);
}

TEST(MannWhitney, IsNotAvailableBelowEightSamplesASide) {
  EXPECT_FALSE(mann_whitney_u(V(7, 1.0), V(20, 2.0)).has_value());
  EXPECT_FALSE(mann_whitney_u(V(20, 1.0), V(7, 2.0)).has_value());
}

TEST(MannWhitneyExact, FiveSeparatedRunsASideReachOnePercent) {
  // All 5 of a below all 5 of b: U_a = 0, the one most extreme of C(10,5) = 252
  // orderings on each side: p = 2/252 = 0.0079.
  auto mw = mann_whitney_exact(V{1, 2, 3, 4, 5}, V{6, 7, 8, 9, 10});
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->u_a, 0.0);
  EXPECT_NEAR(mw->p_two_sided, 2.0 / 252, 1e-12);
}

TEST(MannWhitneyExact, FourRunsASideCannotReachOnePercent) {
  // Most extreme of C(8,4) = 70 orderings: p = 2/70 = 0.029.
  EXPECT_NEAR(mann_whitney_exact(V{1, 2, 3, 4}, V{5, 6, 7, 8})->p_two_sided, 2.0 / 70, 1e-12);
}

TEST(MannWhitneyExact, CountsOrderingsForAMiddleValue) {
  // a = {1, 4}, b = {2, 3}: U_a = 2 (4 beats 2 and 3). The 6 orderings of two a's
  // among four places give U_a = 0,1,2,2,3,4: P(U <= 2) = 4/6, P(U >= 2) = 4/6,
  // p = min(1, 2 * 4/6) = 1.
  auto mw = mann_whitney_exact(V{1, 4}, V{2, 3});
  EXPECT_EQ(mw->u_a, 2.0);
  EXPECT_EQ(mw->p_two_sided, 1.0);
  // a = {3, 4}, b = {1, 2}: U_a = 4, only 1 of 6 orderings: p = 2/6.
  EXPECT_NEAR(mann_whitney_exact(V{3, 4}, V{1, 2})->p_two_sided, 2.0 / 6, 1e-12);
}

TEST(MannWhitneyExact, EnumeratesSplitsWhenValuesTie) {
  // a = {1, 2}, b = {2, 3}: U_a = 0.5 (the tied 2s count 1/2). The 6 splits of
  // {1, 2, 2, 3} into two pairs give U_a = 0.5, 0.5 ({1,2}), 2 ({1,3}), 2 ({2,2}),
  // 3.5, 3.5 ({2,3}): P(U <= 0.5) = 2/6, so p = 2 * 2/6.
  auto mw = mann_whitney_exact(V{1, 2}, V{2, 3});
  ASSERT_TRUE(mw.has_value());
  EXPECT_EQ(mw->u_a, 0.5);
  EXPECT_NEAR(mw->p_two_sided, 4.0 / 6, 1e-12);
  // Five counters a side, all after below all before except one tie:
  // before {3,4,5,6,7}, after {0,0,0,0,3}: U_a = 24.5 of 25.
  EXPECT_LT(mann_whitney_exact(V{3, 4, 5, 6, 7}, V{0, 0, 0, 0, 3})->p_two_sided, 0.05);
}

TEST(MannWhitneyExact, IsNotAvailableForAnEmptySide) {
  EXPECT_FALSE(mann_whitney_exact(V{}, V{2, 3}).has_value());
}

TEST(NormalTail, KnownValues) {
  EXPECT_NEAR(normal_upper_tail(0), 0.5, 1e-12);
  EXPECT_NEAR(normal_upper_tail(1.959964), 0.025, 1e-6);
}

TEST(Bootstrap, ConstantSamplesGiveAPointInterval) {
  // Every resample of all-10 has median 10, of all-12 median 12: difference exactly 2.
  auto ci = bootstrap_median_difference(V(10, 10.0), V(10, 12.0));
  ASSERT_TRUE(ci.has_value());
  EXPECT_EQ(ci->low, 2.0);
  EXPECT_EQ(ci->high, 2.0);
}

TEST(Bootstrap, IntervalCoversTheShiftOfAShiftedCopy) {
  // b = a + 5 exactly: every paired resample differs by a random amount, but the
  // interval of median differences must contain 5 and exclude 0.
  V a{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, b;
  for (double x : a) b.push_back(x + 5);
  auto ci = bootstrap_median_difference(a, b);
  ASSERT_TRUE(ci.has_value());
  EXPECT_TRUE(ci->contains(5.0)) << ci->low << " .. " << ci->high;
  EXPECT_FALSE(ci->contains(0.0)) << ci->low << " .. " << ci->high;
}

TEST(Bootstrap, SameSeedSameInterval) {
  V a{1, 5, 2, 8, 3, 9, 4, 7, 6}, b{2, 6, 3, 9, 4, 8, 5, 7, 1};
  auto x = bootstrap_median_difference(a, b), y = bootstrap_median_difference(a, b);
  ASSERT_TRUE(x && y);
  EXPECT_EQ(x->low, y->low);
  EXPECT_EQ(x->high, y->high);
}

TEST(Bootstrap, RatioDifferenceOfConstantSamples) {
  // before: noisy 12 / quiet 10 = 1.2; after: 11 / 10 = 1.1; difference -0.1.
  auto ci = bootstrap_ratio_difference(V(8, 10.0), V(8, 12.0), V(8, 10.0), V(8, 11.0));
  ASSERT_TRUE(ci.has_value());
  EXPECT_NEAR(ci->low, -0.1, 1e-12);
  EXPECT_NEAR(ci->high, -0.1, 1e-12);
}

TEST(Bootstrap, QuantileDifferenceOfConstantSamples) {
  // Every resample's p99 of all-10 is 10, of all-13 is 13.
  auto ci = bootstrap_quantile_difference(V(100, 10.0), V(100, 13.0), 0.99);
  ASSERT_TRUE(ci.has_value());
  EXPECT_EQ(ci->low, 3.0);
  EXPECT_EQ(ci->high, 3.0);
  // p99 needs 100 samples a side.
  EXPECT_FALSE(bootstrap_quantile_difference(V(99, 10.0), V(100, 13.0), 0.99).has_value());
}

TEST(Bootstrap, IsNotAvailableBelowEightSamplesASide) {
  EXPECT_FALSE(bootstrap_median_difference(V(7, 1.0), V(8, 1.0)).has_value());
}

}  // namespace
}  // namespace vpt
