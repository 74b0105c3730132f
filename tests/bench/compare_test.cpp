// compare on synthetic before/after files: a known shift is found in the right
// direction, no shift is "within noise", and files of different hosts are refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "tests/bench/results_fixture.hpp"

namespace vpt {
namespace {

namespace fs = std::filesystem;

// Written to disk and read back, as `vpt-tune compare` does. The name carries
// the PID: test processes of other build trees (or ctest -j) run at the same time.
Results through_file(const Results& r, const std::string& name) {
  fs::path path = fs::path(testing::TempDir()) / (std::to_string(::getpid()) + "-" + name);
  save_results_file(r, path.string(), true);
  Results back = load_results_file(path.string());
  fs::remove(path);
  return back;
}

const ComparisonRow& row(const Comparison& c, const std::string& metric) {
  for (const auto& r : c.rows)
    if (r.metric == metric) return r;
  throw std::runtime_error("no row " + metric);
}

Comparison compare(double after_scale, unsigned after_seed, CompareOptions options = {}) {
  Results before = through_file(test::sample_results(1.0, 1), "vpt-before.json");
  Results after = through_file(test::sample_results(after_scale, after_seed), "vpt-after.json");
  return compare_results(before, after, "before.json", "after.json", options);
}

TEST(CompareShifted, TwentyPercentFasterIsBetter) {
  // Samples spread ±2% around their centre; after = 0.8 x before: the ranges do not even overlap.
  Comparison c = compare(0.8, 101);
  for (const char* metric : {"core-to-core, all measured pairs", "core-to-core CPU 2 <-> 3", "memory 4 KiB (L1)",
                             "memory 1 MiB (L2)", "interference 768 KiB noisy", "wake-up lateness, all measured CPUs",
                             "wake-up lateness p99, all measured CPUs"}) {
    const ComparisonRow& r = row(c, metric);
    EXPECT_EQ(r.verdict, Verdict::Better) << metric << ": " << r.reason;
    ASSERT_TRUE(r.change.has_value()) << metric;
    EXPECT_NEAR(*r.change, -0.2, 0.03) << metric;
  }
  // Ratio 1.5 -> 1.2: bootstrapped difference of ratios excludes 0.
  EXPECT_EQ(row(c, "interference 768 KiB ratio").verdict, Verdict::Better);
}

TEST(CompareShifted, TwentyPercentSlowerIsWorse) {
  Comparison c = compare(1.2, 101);
  EXPECT_EQ(row(c, "core-to-core, all measured pairs").verdict, Verdict::Worse);
  EXPECT_EQ(row(c, "memory 1 MiB (L2)").verdict, Verdict::Worse);
  EXPECT_EQ(row(c, "wake-up lateness, all measured CPUs").verdict, Verdict::Worse);
  EXPECT_NEAR(*row(c, "core-to-core, all measured pairs").change, 0.2, 0.03);
}

TEST(CompareUnshifted, FreshSamplesFromTheSameDistributionAreWithinNoise) {
  // Same centres, other random draws.
  Comparison c = compare(1.0, 101);
  for (const auto& r : c.rows) {
    if (r.verdict == Verdict::NotAvailable) continue;  // the DRAM row has no samples
    EXPECT_EQ(r.verdict, Verdict::WithinNoise) << r.metric << ": " << r.reason;
  }
}

TEST(CompareUnshifted, ASignificantButSmallShiftIsWithinNoise) {
  // 3% slower with ±2% jitter is statistically clear on 300 samples, but under
  // the 5% practical threshold; with a 1% threshold it counts.
  Comparison c = compare(1.03, 101);
  const ComparisonRow& r = row(c, "core-to-core, all measured pairs");
  EXPECT_EQ(r.verdict, Verdict::WithinNoise);
  EXPECT_EQ(r.reason, "significant but under the 5% practical threshold");
  CompareOptions strict;
  strict.min_change = 0.01;
  EXPECT_EQ(row(compare(1.03, 101, strict), "core-to-core, all measured pairs").verdict, Verdict::Worse);
}

TEST(CompareRows, MissingSamplesAreNotAvailableWithTheirCount) {
  Comparison c = compare(1.0, 101);
  const ComparisonRow& dram = row(c, "memory 256 MiB (DRAM)");
  EXPECT_EQ(dram.verdict, Verdict::NotAvailable);
  EXPECT_EQ(dram.reason, "too few samples for a median (n=0/0)");
  // 15 samples: a median, but no p99 (needs 100).
  const ComparisonRow& l1 = row(c, "memory 4 KiB (L1)");
  EXPECT_TRUE(l1.median_before.has_value());
  EXPECT_FALSE(l1.p99_before.has_value());
  // 600 pooled core-to-core samples have a p99.
  EXPECT_TRUE(row(c, "core-to-core, all measured pairs").p99_before.has_value());
}

// Five runs a side whose environment moves every median by up to ±15% from
// run to run (as this VM's memory curve does), around the given centre scale.
std::vector<Results> runs(double scale, unsigned seed) {
  std::vector<Results> out;
  const double drift[] = {1.0, 1.15, 0.9, 1.1, 0.85};
  for (unsigned i = 0; i < 5; ++i) out.push_back(test::sample_results(scale * drift[i], seed + 10 * i));
  return out;
}
const std::vector<std::string> kNames{"r1", "r2", "r3", "r4", "r5"};

TEST(CompareRuns, RunToRunDriftAloneIsWithinNoise) {
  // Same configuration both sides, drift order shuffled: single files would call
  // run 2 (x1.15) "worse" than run 3 (x0.9); the runs' medians do not differ.
  std::vector<Results> before = runs(1.0, 1), after = runs(1.0, 2);
  std::swap(after[0], after[1]);
  Comparison single = compare_results(before[2], after[0], "run3", "run2", {});
  EXPECT_EQ(row(single, "memory 1 MiB (L2)").verdict, Verdict::Worse);
  Comparison c = compare_results(before, after, kNames, kNames, {});
  for (const auto& r : c.rows) {
    if (r.verdict == Verdict::NotAvailable) continue;  // the DRAM row has no samples
    EXPECT_EQ(r.verdict, Verdict::WithinNoise) << r.metric << ": " << r.reason;
  }
}

TEST(CompareRuns, AShiftLargerThanTheDriftIsFound) {
  // After = 0.6 x before: every after run (0.51 .. 0.69) is below every before run (0.85 .. 1.15):
  // exact p = 2/252.
  Comparison c = compare_results(runs(1.0, 1), runs(0.6, 2), kNames, kNames, {});
  const ComparisonRow& r = row(c, "memory 1 MiB (L2)");
  EXPECT_EQ(r.verdict, Verdict::Better) << r.reason;
  EXPECT_NEAR(*r.p_value, 2.0 / 252, 1e-9);
  EXPECT_EQ(r.runs_before, 5u);
  EXPECT_EQ(r.reason, "p=0.0079, 5 vs 5 runs");
  // Median of run medians: before 5.0 x {0.85, 0.9, 1.0, 1.1, 1.15} -> 5.0 (within the ±2% jitter).
  EXPECT_NEAR(*r.median_before, 5.0, 0.1);
  EXPECT_EQ(row(c, "interference 768 KiB ratio").verdict, Verdict::Better);
}

TEST(CompareRuns, CountsVcpuMigrationsPerRun) {
  // The fixture's vCPU 0 thread migrated 0 times. Before: 5..9 migrations a run;
  // after: 0 in every run -> all after values below all before: exact p = 2/252.
  std::vector<Results> before = runs(1.0, 1), after = runs(1.0, 2);
  for (unsigned i = 0; i < 5; ++i) before[i].domain->threads[0].migrations = 5 + i;
  Comparison c = compare_results(before, after, kNames, kNames, {});
  const ComparisonRow& r = row(c, "vCPU threads: migrations per run");
  EXPECT_EQ(*r.median_before, 7.0);
  EXPECT_EQ(*r.median_after, 0.0);
  EXPECT_EQ(r.verdict, Verdict::Better) << r.reason;
  // One run a side: the values are shown, but one number a side is no test.
  Comparison single = compare_results(before[0], after[0], "b", "a", {});
  EXPECT_EQ(row(single, "vCPU threads: migrations per run").verdict, Verdict::NotAvailable);
  EXPECT_EQ(row(single, "vCPU threads: migrations per run").reason, "one value a side: no test");
}

TEST(CompareRuns, FourRunsASideCannotReachOnePercentAndSaySo) {
  std::vector<Results> before = runs(1.0, 1), after = runs(0.6, 2);
  before.pop_back();
  after.pop_back();
  std::vector<std::string> names{"a", "b", "c", "d"};
  Comparison c = compare_results(before, after, names, names, {});
  const ComparisonRow& r = row(c, "memory 1 MiB (L2)");
  EXPECT_EQ(r.verdict, Verdict::WithinNoise);
  EXPECT_EQ(r.reason, "p=0.029 >= 0.01; 4 vs 4 runs cannot go below p=0.029");
}

// ---- One file a side: the rounds are the unit ----

TEST(CompareRounds, OneFileASideTestsTheRoundsMedians) {
  Comparison c = compare(0.8, 101);
  const ComparisonRow& r = row(c, "core-to-core, all measured pairs");
  EXPECT_EQ(r.unit_of_test, TestUnit::Rounds);
  EXPECT_EQ(r.rounds_before, 5u);
  EXPECT_EQ(r.rounds_after, 5u);
  // Every after round below every before round: 2 / C(10, 5).
  EXPECT_NEAR(*r.p_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(r.reason, "p=0.0079, 5 vs 5 rounds");
  ASSERT_TRUE(r.sample_p_value.has_value());
  EXPECT_LT(*r.sample_p_value, 1e-10);  // secondary, shown for reference
}

TEST(CompareRounds, ADisturbanceOfOneRoundIsWithinNoiseWhereTheSamplesWouldCallIt) {
  // The same layout twice, but in one round of the after run something else
  // ran: that round's samples are 50% slower. Pooled, the samples differ
  // "significantly"; four of five rounds agree, so the rounds do not.
  Results before = test::sample_results(1.0, 1), after = test::sample_results(1.0, 2);
  for (CoreToCorePair& p : after.core_to_core->pairs)
    for (double& x : p.samples_ns.rounds[2]) x *= 1.5;
  Comparison c = compare_results(before, after, "b", "a", {});
  const ComparisonRow& r = row(c, "core-to-core, all measured pairs");
  EXPECT_EQ(r.verdict, Verdict::WithinNoise) << r.reason;
  ASSERT_TRUE(r.sample_p_value.has_value());
  EXPECT_LT(*r.sample_p_value, 0.01);
}

TEST(CompareRounds, FilesWithoutRoundsFallBackToTheSamplesAndSaySo) {
  Results old = load_results_file(std::string(VPT_BENCH_TEST_DATA) + "/bench1-quick.json");
  Comparison c = compare_results(old, old, "old.json", "old.json", {});
  const ComparisonRow& r = row(c, "core-to-core, all measured pairs");
  EXPECT_EQ(r.unit_of_test, TestUnit::Samples);
  EXPECT_EQ(r.verdict, Verdict::WithinNoise);
  EXPECT_TRUE(std::any_of(c.warnings.begin(), c.warnings.end(),
                          [](const std::string& w) { return w.starts_with("a file without rounds (schema bench/1)"); }));
}

TEST(CompareHosts, RefusesFilesFromDifferentHosts) {
  Results before = test::sample_results(), after = test::sample_results();
  after.host.hostname = "other-host";
  after.host.cpu_model = "Intel(R) Core(TM) i9-12900K";
  try {
    compare_results(before, after, "a.json", "b.json", {});
    ADD_FAILURE() << "compared";
  } catch (const BenchInputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot compare 'a.json' with 'b.json': they come from different hosts (host name 'bench-host' vs "
              "'other-host'; CPU 'AMD EPYC 9654 96-Core Processor' vs 'Intel(R) Core(TM) i9-12900K'); use --allow-different-hosts "
              "to compare anyway");
  }
}

TEST(CompareHosts, ForceComparesAndSaysSo) {
  Results before = test::sample_results(), after = test::sample_results();
  after.host.hostname = "other-host";
  CompareOptions force;
  force.allow_different_hosts = true;
  Comparison c = compare_results(before, after, "a.json", "b.json", force);
  ASSERT_FALSE(c.warnings.empty());
  EXPECT_EQ(c.warnings.front(), "different hosts, compared because of --allow-different-hosts: host name 'bench-host' vs 'other-host'");
  EXPECT_FALSE(c.rows.empty());
}

TEST(CompareHosts, FirmwareAndKernelChangesAreWarnedNotRefused) {
  Results before = test::sample_results(), after = test::sample_results();
  after.host.bios_version = "1.4.0";
  after.host.kernel = "6.12.0";
  Comparison c = compare_results(before, after, "a.json", "b.json", {});
  // Plus the reminder of what one run a side can show.
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_TRUE(c.warnings[2].starts_with("one run a side: verdicts test the interleaved rounds")) << c.warnings[2];
  EXPECT_EQ(c.warnings[0], "kernel differs: '6.1.0-18-amd64' before, '6.12.0' after; it may explain changes");
  EXPECT_EQ(c.warnings[1], "BIOS version differs: '1.2.3' before, '1.4.0' after; it may explain changes");
}

// ---- Noise is never a change --------------------------------------------

TEST(CompareIdentical, TheSameFileBothSidesHasNoBetterAndNoWorse) {
  const Results r = through_file(test::sample_results(1.0, 1), "vpt-same.json");
  const Comparison c = compare_results(r, r, "a.json", "a.json", {});
  const VerdictCounts n = count_verdicts(c);
  EXPECT_EQ(n.better, 0u);
  EXPECT_EQ(n.worse, 0u);
  EXPECT_EQ(n.better + n.worse + n.within_noise + n.not_available, c.rows.size());
  EXPECT_GT(n.within_noise, 10u);
  EXPECT_EQ(verdict_summary(c).rfind(fmt::format("0 metrics better, 0 worse, {} within noise", n.within_noise), 0), 0u)
      << verdict_summary(c);
  EXPECT_NE(verdict_summary(c).find("one run a side"), std::string::npos);
}

// Steal set to `percent` in every sample of every vCPU and round.
Results with_steal(double percent, const std::string& name) {
  Results r = test::sample_results(1.0, 1);
  for (VcpuSteal& v : r.steal->windows.at(0).vcpus)
    v.wait_percent = RoundSamples{std::vector<std::vector<double>>(5, std::vector<double>(15, percent))};
  return through_file(r, name);
}

TEST(CompareShares, ATenthOfAPointIsNotMinusAHundredPercent) {
  const Comparison c = compare_results(with_steal(0.1, "vpt-steal-a.json"), with_steal(0.0, "vpt-steal-b.json"),
                                       "a.json", "b.json", {});
  const ComparisonRow& r = row(c, "steal vCPU 0, quiet host");
  EXPECT_EQ(r.verdict, Verdict::WithinNoise) << r.reason;
  EXPECT_EQ(r.reason, "significant but under the 1 percentage-point practical threshold");
  EXPECT_EQ(change_text(r), "-0.1 pp");
  // 0.0 -> 0.0: no change at all, not "-100%".
  const Comparison zero = compare_results(with_steal(0.0, "vpt-steal-c.json"), with_steal(0.0, "vpt-steal-d.json"),
                                          "c.json", "d.json", {});
  EXPECT_EQ(change_text(row(zero, "steal vCPU 0, quiet host")), "+0.0 pp");
  EXPECT_NE(row(zero, "steal vCPU 0, quiet host").verdict, Verdict::Better);
}

TEST(CompareShares, TenPointsMoreStealIsWorse) {
  const Comparison c = compare_results(with_steal(5, "vpt-steal-e.json"), with_steal(15, "vpt-steal-f.json"), "e.json",
                                       "f.json", {});
  const ComparisonRow& r = row(c, "steal vCPU 1, quiet host");
  EXPECT_EQ(r.verdict, Verdict::Worse) << r.reason;
  EXPECT_EQ(change_text(r), "+10.0 pp");
}

TEST(CompareWriter, PrintsOneLinePerRowWithVerdict) {
  std::ostringstream out;
  write_comparison_text(out, compare(0.8, 101));
  std::string text = out.str();
  EXPECT_NE(text.find("core-to-core, all measured pairs"), std::string::npos);
  EXPECT_NE(text.find("better"), std::string::npos);
  EXPECT_NE(text.find("-20."), std::string::npos) << text;
  // The summary comes first, before the table.
  EXPECT_LT(text.find("Summary: "), text.find("metric "));
  // The DRAM row prints n/a with its sample count, not a number.
  EXPECT_NE(text.find("n/a (n=0)"), std::string::npos) << text;
}

}  // namespace
}  // namespace vpt
