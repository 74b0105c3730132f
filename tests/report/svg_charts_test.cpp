// The charts, counted element by element against the data they draw.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>

#include "report/svg.hpp"
#include "tests/report/report_test_util.hpp"

namespace vpt::report_detail {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

Results i7_run() {
  Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  return test::sample_results(topo, test::plan_for(topo, 16));
}

TEST(Heatmap, HasACellPerOrderedPairAndGreyDiagonal) {
  CoreToCore c2c = *i7_run().core_to_core;  // 16 CPUs
  std::ostringstream out;
  write_heatmap_svg(out, c2c);
  std::string svg = out.str();
  EXPECT_EQ(count(svg, "<rect class=\"na\""), 16u);
  EXPECT_EQ(count(svg, "ns</title></rect>"), 16u * 15u);
  // SMT siblings: 8 ns ± 3% in the synthetic model.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("CPU 0 → CPU 1: ([0-9.]+) ns")));
  EXPECT_NEAR(std::stod(m[1]), 8.0, 0.25);
}

CoreToCore two_cpus(double there, double back) {
  CoreToCore c2c;
  c2c.cpus = {0, 1};
  c2c.median_ns = {{std::nullopt, there}, {back, std::nullopt}};
  return c2c;
}

std::string fill_of(const std::string& svg, const std::string& title) {
  std::smatch m;
  if (!std::regex_search(svg, m, std::regex("fill=\"(#[0-9a-f]{6})\"><title>" + title))) return "";
  return m[1];
}

// 40 and 41 ns differ by 2.5%: the scale spans 20% of the median (40.5 ns:
// 8.1 ns), so 41 ns is an eighth of the way along, near the light end, not
// the darkest colour a 1 ns spread used to get.
TEST(Heatmap, ASmallSpreadIsNotFullContrast) {
  std::ostringstream out;
  write_heatmap_svg(out, two_cpus(40.0, 41.0));
  const std::string svg = out.str();
  EXPECT_EQ(fill_of(svg, "CPU 0 → CPU 1"), "#fde725");  // the light end of the scale
  const std::string dark = fill_of(svg, "CPU 1 → CPU 0");
  ASSERT_FALSE(dark.empty());
  EXPECT_NE(dark, "#440154");  // the dark end
  // Its red channel is still above the middle stops' (light yellow-green, t = 1/8.1).
  EXPECT_GT(std::stoi(dark.substr(1, 2), nullptr, 16), 0x80) << dark;
  EXPECT_NE(svg.find(">48.1 ns</text>"), std::string::npos) << "the legend's dark end: 40 + 8.1 ns";
  // A wide spread still spans the whole scale.
  std::ostringstream wide;
  write_heatmap_svg(wide, two_cpus(10.0, 80.0));
  EXPECT_EQ(fill_of(wide.str(), "CPU 1 → CPU 0"), "#440154");
}

// The legend's title fits in the figure: 22 characters of 11px text after the
// ten 20-unit swatches at x = 44 + 200 + 10, at up to 0.6 em a character.
TEST(Heatmap, LegendIsNotClipped) {
  std::ostringstream out;
  write_heatmap_svg(out, two_cpus(40.0, 41.0));
  std::smatch m;
  const std::string svg = out.str();
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("viewBox=\"0 0 ([0-9.]+) ")));
  EXPECT_GE(std::stod(m[1]), 44 + 200 + 10 + 22 * 11 * 0.6);
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("x=\"([0-9.]+)\"[^>]*>median one-way latency<")));
  EXPECT_DOUBLE_EQ(std::stod(m[1]), 254.0);
}

TEST(Heatmap, DrawsAtMostItsLimitOfCpus) {
  CoreToCore c2c;
  for (unsigned i = 0; i < 80; ++i) c2c.cpus.push_back(i);
  c2c.median_ns.assign(80, std::vector<std::optional<double>>(80, 10.0));
  std::ostringstream out;
  write_heatmap_svg(out, c2c);
  EXPECT_EQ(count(out.str(), "ns</title></rect>"), kHeatmapMaxCpus * kHeatmapMaxCpus);
}

// x = left + (log2(bytes) - x0) / (x1 - x0) * width: doubling the size moves
// a point by the same distance.
TEST(MemoryCurve, PlacesSizesOnALogAxis) {
  Results run = i7_run();
  std::ostringstream out;
  write_memory_curve_svg(out, run.memory_latency->points, run.host.caches);
  std::string svg = out.str();
  std::regex point(R"re(<circle class="point" cx="([0-9.]+)")re");
  std::vector<double> xs;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), point); it != std::sregex_iterator(); ++it)
    xs.push_back(std::stod((*it)[1]));
  ASSERT_EQ(xs.size(), run.memory_latency->points.size());
  for (std::size_t i = 2; i < xs.size(); ++i) EXPECT_NEAR(xs[i] - xs[i - 1], xs[1] - xs[0], 0.15);
}

TEST(MemoryCurve, MarksEachCacheSize) {
  Results run = i7_run();
  std::ostringstream out;
  write_memory_curve_svg(out, run.memory_latency->points, run.host.caches);
  std::string svg = out.str();
  EXPECT_EQ(count(svg, "class=\"cache-mark\""), 3u);
  for (const char* label : {">L1d 48 KiB<", ">L2 2 MiB<", ">L3 32 MiB<"}) EXPECT_NE(svg.find(label), std::string::npos);
}

TEST(Interference, DrawsQuietAndNoisyBarsAndTheRatio) {
  Results run = i7_run();
  std::ostringstream out;
  write_interference_svg(out, run.interference->points);
  std::string svg = out.str();
  EXPECT_EQ(count(svg, "class=\"bar quiet\""), 2u);
  EXPECT_EQ(count(svg, "class=\"bar noisy\""), 2u);
  EXPECT_EQ(count(svg, "class=\"ratio\""), 2u);
}

TEST(Wakeup, DrawsARowPerCpuWithItsMaximum) {
  Results run = i7_run();
  std::ostringstream out;
  write_wakeup_svg(out, run.wakeup->cpus);
  EXPECT_EQ(count(out.str(), "class=\"bar p50\""), run.wakeup->cpus.size());
  EXPECT_EQ(count(out.str(), "class=\"max-tick\""), run.wakeup->cpus.size());
}

TEST(ComparisonChart, DrawsAWhiskerPerRowWithAnInterval) {
  Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  Plan plan = test::plan_for(topo, 16);
  test::SampleConfig before;
  before.pinned = false;
  Comparison c = compare_results(test::sample_results(topo, plan, before), test::sample_results(topo, plan), "b", "a",
                                 CompareOptions{});
  std::vector<std::size_t> rows = {0, 1, 2};
  std::ostringstream out;
  write_comparison_svg(out, c, rows);
  std::size_t with_interval = 0;
  for (std::size_t i : rows) with_interval += c.rows[i].ci_low.has_value();
  EXPECT_EQ(count(out.str(), "<g class=\"whisker\">"), with_interval);
  EXPECT_EQ(count(out.str(), "class=\"bar after"), rows.size());
}

TEST(FormatNumber, KeepsThreeSignificantDigits) {
  EXPECT_EQ(format_number(31.24), "31.2");
  EXPECT_EQ(format_number(1.049), "1.05");
  EXPECT_EQ(format_number(215.4), "215");
  EXPECT_EQ(format_number(1234.0), "1234");
  EXPECT_EQ(format_number(0.0123), "0.012");
}

TEST(FormatChange, GivesNoSignToWhatRoundsToZero) {
  EXPECT_EQ(format_change(-0.004), "±0%");
  EXPECT_EQ(format_change(0.123), "+12%");
  EXPECT_EQ(format_change(-0.3), "−30%");
}

TEST(FormatP, NeverPrintsZero) {
  EXPECT_EQ(format_p(1e-300), "p < 0.001");
  EXPECT_EQ(format_p(0.042), "p = 0.042");
}

TEST(FormatTick, PrintsTicksWithoutTrailingZeros) {
  EXPECT_EQ(format_tick(0.5), "0.5");
  EXPECT_EQ(format_tick(20), "20");
  EXPECT_EQ(format_tick(1000), "1000");
}

}  // namespace
}  // namespace vpt::report_detail
