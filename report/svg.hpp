// SVG figures of the HTML report, written in C++ (no plotting program at run
// time). Internal to report/. Each writes one <svg> element with a viewBox,
// role="img" and a <title>; every text goes through html_escape().
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "bench/results.hpp"
#include "report/layout.hpp"

namespace vpt::report_detail {

// The layout's boxes; one <g data-cpu=N data-role=...> per logical CPU.
void write_topology_svg(std::ostream& out, const TopologyPicture& layout);

// Most CPUs a heatmap draws; the rest are named in a note.
inline constexpr std::size_t kHeatmapMaxCpus = 64;
// The heatmap's colour scale spans max(highest - lowest, this share of the
// median, kHeatmapMinSpanNs): a spread of 1 ns at 40 ns is not full contrast.
inline constexpr double kHeatmapMinSpanOfMedian = 0.2;
inline constexpr double kHeatmapMinSpanNs = 2.0;
// Median one-way latency from row CPU to column CPU.
void write_heatmap_svg(std::ostream& out, const CoreToCore& c2c);

// ns per load against working-set size: log-size x axis, log ns y axis,
// a dashed line at each cache size.
void write_memory_curve_svg(std::ostream& out, const std::vector<LatencyPoint>& points,
                            const std::vector<CacheSize>& caches);

// Quiet and noisy pointer-chase latency per working-set size, with the ratio.
void write_interference_svg(std::ostream& out, const std::vector<InterferencePoint>& points);

inline constexpr std::size_t kWakeupMaxRows = 64;
// Wake-up lateness per CPU: p50 bar, p99 extension, max tick, log µs axis.
void write_wakeup_svg(std::ostream& out, const std::vector<WakeupResult>& wakeups);

// Before and after medians per row, the 95% interval of the change as a
// whisker around the after bar, the verdict beside.
void write_comparison_svg(std::ostream& out, const Comparison& comparison, const std::vector<std::size_t>& rows);

// "31.2", "1.05", "215": three significant digits, never "1e+03".
std::string format_number(double value);
// Axis ticks of a 1-2-5 scale: "0.5", "2", "50", "1000".
std::string format_tick(double value);
// A relative change: "+12%", "−3%", "±0%" (what rounds to zero has no sign).
std::string format_change(double change);
// A comparison row's change: format_change's form, or for shares in % the
// difference in percentage points ("−0.1 pp", bench/bench.hpp change_in_points);
// nullopt where the row has none.
std::optional<std::string> format_change(const ComparisonRow& row);
// "p = 0.042", "p < 0.001".
std::string format_p(double p);

}  // namespace vpt::report_detail
