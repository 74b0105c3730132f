// Charts of the bench results, as SVG written here.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "probe/topology_writers.hpp"
#include "report/escape.hpp"
#include "report/svg.hpp"

namespace vpt::report_detail {

std::string format_number(double value) {
  double a = std::fabs(value);
  if (a >= 1000) return fmt::format("{:.0f}", value);
  if (a >= 100) return fmt::format("{:.0f}", value);
  if (a >= 10) return fmt::format("{:.1f}", value);
  if (a >= 1) return fmt::format("{:.2f}", value);
  return fmt::format("{:.3f}", value);
}

std::string format_tick(double value) { return fmt::format("{:g}", value); }

std::string format_change(double change) {
  long percent = std::lround(change * 100);
  if (percent == 0) return "±0%";
  return fmt::format("{}{}%", percent > 0 ? "+" : "−", std::labs(percent));
}

std::optional<std::string> format_change(const ComparisonRow& row) {
  if (change_in_points(row)) {
    if (!row.median_before || !row.median_after) return std::nullopt;
    const double points = std::round((*row.median_after - *row.median_before) * 10) / 10;
    if (points == 0) return "±0 pp";
    return fmt::format("{}{:.1f} pp", points > 0 ? "+" : "−", std::fabs(points));
  }
  if (!row.change) return std::nullopt;
  return format_change(*row.change);
}

std::string format_p(double p) { return p < 0.001 ? "p < 0.001" : fmt::format("p = {:.2g}", p); }

namespace {

struct Rgb {
  double r, g, b;
};

// Viridis, reversed: short latencies light, long ones dark.
Rgb scale_colour(double t) {
  static constexpr Rgb kStops[] = {{253, 231, 37}, {94, 201, 98}, {33, 145, 140}, {59, 82, 139}, {68, 1, 84}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  int i = std::min(3, static_cast<int>(t));
  double f = t - i;
  const Rgb &a = kStops[i], &b = kStops[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

std::string hex(Rgb c) {
  return fmt::format("#{:02x}{:02x}{:02x}", static_cast<int>(std::lround(c.r)), static_cast<int>(std::lround(c.g)),
                     static_cast<int>(std::lround(c.b)));
}

bool dark(Rgb c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 140; }

void open_svg(std::ostream& out, const char* cls, double w, double h, const std::string& title) {
  // Drawn up to a quarter larger on a wide page; on a phone no narrower than
  // 70% (the figure scrolls sideways instead of shrinking its text away).
  fmt::print(out,
             "<svg class=\"chart {}\" viewBox=\"0 0 {:.0f} {:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" role=\"img\" "
             "style=\"max-width:{:.0f}px;min-width:{:.0f}px\"><title>{}</title>\n",
             cls, w, h, w, h, w * 1.25, w * 0.7, html_escape(title));
}

void text(std::ostream& out, double x, double y, const std::string& s, const char* cls = "",
          const char* anchor = "start") {
  fmt::print(out, "<text x=\"{:.1f}\" y=\"{:.1f}\"{}{}>{}</text>", x, y,
             *cls ? fmt::format(" class=\"{}\"", cls) : std::string(),
             std::string_view(anchor) == "start" ? std::string() : fmt::format(" text-anchor=\"{}\"", anchor),
             html_escape(s));
}

// 1, 2, 5, 10, 20, 50, ... between lo and hi.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  for (double decade = std::pow(10, std::floor(std::log10(lo))); decade <= hi * 1.0001; decade *= 10)
    for (double m : {1.0, 2.0, 5.0}) {
      double t = decade * m;
      if (t >= lo * 0.9999 && t <= hi * 1.0001) ticks.push_back(t);
    }
  return ticks;
}

std::string short_bytes(std::uint64_t bytes) {
  std::string s = format_bytes(bytes);
  // "4 KiB" -> "4K" on a crowded axis.
  if (s.size() > 4 && s.ends_with("iB")) s = s.substr(0, s.size() - 3) + s[s.size() - 3];
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

}  // namespace

// ---- Core-to-core heatmap ----------------------------------------------------

void write_heatmap_svg(std::ostream& out, const CoreToCore& c2c) {
  std::size_t n = std::min(c2c.cpus.size(), kHeatmapMaxCpus);
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i < c2c.median_ns.size() && j < c2c.median_ns[i].size() && c2c.median_ns[i][j]) {
        lo = std::min(lo, *c2c.median_ns[i][j]);
        hi = std::max(hi, *c2c.median_ns[i][j]);
      }
  if (!(hi > 0)) lo = hi = 0;
  // The colour scale spans at least a fifth of the median latency (and 2 ns):
  // pairs 1 ns apart at 40 ns look alike, as they are, instead of spanning the
  // scale from light to dark (docs/report-notes.md, "Measurements").
  std::vector<double> values;
  for (std::size_t i = 0; i < n && i < c2c.median_ns.size(); ++i)
    for (std::size_t j = 0; j < n && j < c2c.median_ns[i].size(); ++j)
      if (c2c.median_ns[i][j]) values.push_back(*c2c.median_ns[i][j]);
  double median = 0;
  if (!values.empty()) {
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }
  const double span = std::max({hi - lo, kHeatmapMinSpanOfMedian * median, kHeatmapMinSpanNs});
  const double cell = std::clamp(520.0 / std::max<std::size_t>(n, 1), 8.0, 34.0);
  const double left = 44, top = 34, grid = cell * static_cast<double>(n);
  const double legend_h = 46;
  // The legend: ten swatches, then its title in 11px text (about 0.6 em a
  // character, generous for the sans-serif fonts the page asks for).
  const double lw = 20;
  const std::string legend_title = "median one-way latency";
  const double legend_right = left + 10 * lw + 10 + 11 * 0.6 * static_cast<double>(legend_title.size()) + 6;
  const double w = std::max({left + grid + 10, legend_right, 330.0}), h = top + grid + legend_h;
  open_svg(out, "heatmap", w, h, "Core-to-core latency: median one-way ns from the row CPU to the column CPU");
  const bool show_values = cell >= 26;
  const std::size_t label_every = cell >= 13 ? 1 : static_cast<std::size_t>(std::ceil(13 / cell));
  text(out, left, 12, "to CPU →", "axis-title");
  for (std::size_t j = 0; j < n; j += label_every)
    text(out, left + cell * (j + 0.5), top - 6, std::to_string(c2c.cpus[j]), "tick", "middle");
  for (std::size_t i = 0; i < n; ++i) {
    if (i % label_every == 0)
      text(out, left - 5, top + cell * (i + 0.68), std::to_string(c2c.cpus[i]), "tick", "end");
    for (std::size_t j = 0; j < n; ++j) {
      std::optional<double> v;
      if (i < c2c.median_ns.size() && j < c2c.median_ns[i].size()) v = c2c.median_ns[i][j];
      double x = left + cell * j, y = top + cell * i;
      if (!v) {
        fmt::print(out, "<rect class=\"na\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>CPU {} → "
                        "CPU {}: n/a</title></rect>",
                   x, y, cell, cell, c2c.cpus[i], c2c.cpus[j]);
        continue;
      }
      Rgb c = scale_colour(hi > 0 ? (*v - lo) / span : 0.5);
      fmt::print(out, "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>CPU {} → "
                      "CPU {}: {} ns</title></rect>",
                 x, y, cell, cell, hex(c), c2c.cpus[i], c2c.cpus[j], format_number(*v));
      if (show_values)
        fmt::print(out, "<text class=\"cell{}\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.0f}</text>",
                   dark(c) ? " on-dark" : "", x + cell / 2, y + cell * 0.62, *v);
    }
    out << '\n';
  }
  fmt::print(out, "<text class=\"axis-title\" x=\"4\" y=\"{:.1f}\" transform=\"rotate(-90 12 {:.1f})\">from CPU</text>",
             top + grid / 2 + 20, top + grid / 2 + 20);
  // Legend: ten steps of the scale with its end values (the dark end is lo + span, which no
  // cell may reach when the spread is under the minimum span).
  const double ly = top + grid + 14;
  for (int k = 0; k < 10; ++k)
    fmt::print(out, "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"10\" fill=\"{}\"/>", left + k * lw, ly, lw,
               hex(scale_colour(k / 9.0)));
  text(out, left, ly + 24, hi > 0 ? format_number(lo) + " ns" : "no values", "tick");
  text(out, left + 10 * lw, ly + 24, hi > 0 ? format_number(lo + span) + " ns" : "", "tick", "end");
  text(out, left + 10 * lw + 10, ly + 9, legend_title, "tick");
  out << "</svg>\n";
}

// ---- Memory latency curve -----------------------------------------------------

void write_memory_curve_svg(std::ostream& out, const std::vector<LatencyPoint>& points,
                            const std::vector<CacheSize>& caches) {
  std::vector<const LatencyPoint*> ok;
  for (const LatencyPoint& p : points)
    if (p.ns && *p.ns > 0 && p.bytes > 0) ok.push_back(&p);
  const double w = 720, h = 340, left = 56, right = 16, top = 44, bottom = 44;
  const double pw = w - left - right, ph = h - top - bottom;
  open_svg(out, "memory-curve", w, h, "Memory latency: ns per dependent load against working-set size");
  if (ok.empty()) {
    text(out, w / 2, h / 2, "no memory latency results", "tick", "middle");
    out << "</svg>\n";
    return;
  }
  double bmin = static_cast<double>(ok.front()->bytes), bmax = bmin, ymin = *ok.front()->ns, ymax = ymin;
  for (const LatencyPoint* p : ok) {
    bmin = std::min(bmin, static_cast<double>(p->bytes));
    bmax = std::max(bmax, static_cast<double>(p->bytes));
    ymin = std::min(ymin, *p->ns);
    ymax = std::max(ymax, *p->ns);
  }
  double x0 = std::log2(bmin) - 0.3, x1 = std::log2(std::max(bmax, bmin * 2)) + 0.3;
  // From the 1-2-5 step below the fastest point to the decade above the slowest.
  double y0 = std::pow(10, std::floor(std::log10(ymin * 0.85)));
  for (double m : {5.0, 2.0})
    if (y0 * m <= ymin * 0.85) {
      y0 *= m;
      break;
    }
  double y1 = std::pow(10, std::ceil(std::log10(ymax * 1.05)));
  if (y1 <= y0) y1 = y0 * 10;
  auto X = [&](double bytes) { return left + (std::log2(bytes) - x0) / (x1 - x0) * pw; };
  auto Y = [&](double ns) { return top + ph - (std::log10(ns) - std::log10(y0)) / (std::log10(y1) - std::log10(y0)) * ph; };

  fmt::print(out, "<rect class=\"plot\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>\n", left, top, pw, ph);
  for (double t : log_ticks(y0, y1)) {
    fmt::print(out, "<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", left, left + pw, Y(t),
               Y(t));
    text(out, left - 6, Y(t) + 4, format_tick(t), "tick", "end");
  }
  // x ticks at powers of four bytes.
  for (int e = static_cast<int>(std::ceil(x0)); e <= static_cast<int>(std::floor(x1)); ++e) {
    if (e % 2 != 0) continue;
    double b = std::ldexp(1.0, e);
    fmt::print(out, "<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", X(b), X(b), top,
               top + ph);
    text(out, X(b), top + ph + 16, short_bytes(static_cast<std::uint64_t>(b)), "tick", "middle");
  }
  text(out, left + pw / 2, h - 6, "working set (log scale)", "axis-title", "middle");
  fmt::print(out, "<text class=\"axis-title\" x=\"14\" y=\"{:.1f}\" transform=\"rotate(-90 14 {:.1f})\" "
                  "text-anchor=\"middle\">ns per load (log)</text>\n",
             top + ph / 2, top + ph / 2);

  // Cache sizes: a dashed line each; labels on two rows when they would touch.
  double last_label_end = -1e9;
  int row = 0;
  for (const CacheSize& c : caches) {
    double b = static_cast<double>(c.size_bytes);
    if (b <= 0 || std::log2(b) < x0 || std::log2(b) > x1) continue;
    double x = X(b);
    std::string label = fmt::format("L{}{} {}", c.level, c.level == 1 ? "d" : "", format_bytes(c.size_bytes));
    double label_w = static_cast<double>(label.size()) * 6.4;
    row = x - label_w / 2 < last_label_end + 4 ? 1 - row : 0;
    if (row == 0) last_label_end = x + label_w / 2;
    fmt::print(out, "<line class=\"cache-mark\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", x, x,
               top - (row ? 4 : 18), top + ph);
    text(out, std::clamp(x, left + label_w / 2, w - right - label_w / 2), top - (row ? 8 : 24), label, "cache-label",
         "middle");
    if (row == 1) last_label_end = std::max(last_label_end, x + label_w / 2);
  }

  std::string path;
  for (const LatencyPoint* p : ok)
    path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", X(static_cast<double>(p->bytes)), Y(*p->ns));
  fmt::print(out, "<polyline class=\"series\" points=\"{}\"/>\n", path);
  for (const LatencyPoint* p : ok)
    fmt::print(out, "<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\"><title>{}: {} ns ({})</title></circle>",
               X(static_cast<double>(p->bytes)), Y(*p->ns), html_escape(format_bytes(p->bytes)), format_number(*p->ns),
               html_escape(p->level));
  out << "\n</svg>\n";
}

// ---- Interference -----------------------------------------------------------------

void write_interference_svg(std::ostream& out, const std::vector<InterferencePoint>& points) {
  std::vector<const InterferencePoint*> ok;
  double hi = 0;
  for (const InterferencePoint& p : points)
    if (p.quiet_ns && p.noisy_ns) {
      ok.push_back(&p);
      hi = std::max({hi, *p.quiet_ns, *p.noisy_ns});
    }
  const double label_w = 200, bar_w = 360, right = 150, row_h = 48, top = 10;
  const double w = label_w + bar_w + right, h = top + row_h * std::max<std::size_t>(ok.size(), 1) + 22;
  open_svg(out, "interference", w, h, "Interference: pointer-chase latency alone and next to a cache thrasher");
  if (ok.empty()) text(out, w / 2, h / 2, "no interference results", "tick", "middle");
  for (std::size_t i = 0; i < ok.size(); ++i) {
    const InterferencePoint& p = *ok[i];
    double y = top + row_h * i;
    text(out, 0, y + 14, fmt::format("{} ({})", format_bytes(p.bytes), p.sized_to), "row-label");
    text(out, 0, y + 30, fmt::format("on CPU {}, thrasher on {}", p.cpu, p.neighbour_cpus), "tick");
    double qw = *p.quiet_ns / hi * bar_w, nw = *p.noisy_ns / hi * bar_w;
    fmt::print(out, "<rect class=\"bar quiet\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\"><title>alone: {} "
                    "ns</title></rect>",
               label_w, y + 4, qw, format_number(*p.quiet_ns));
    text(out, label_w + qw + 4, y + 15, "alone " + format_number(*p.quiet_ns) + " ns", "tick");
    fmt::print(out, "<rect class=\"bar noisy\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\"><title>with the "
                    "thrasher: {} ns</title></rect>",
               label_w, y + 21, nw, format_number(*p.noisy_ns));
    text(out, label_w + nw + 4, y + 32, "noisy " + format_number(*p.noisy_ns) + " ns", "tick");
    if (p.ratio) text(out, w - 4, y + 24, fmt::format("× {}", format_number(*p.ratio)), "ratio", "end");
  }
  text(out, label_w, h - 6, "lower is better; the ratio noisy/alone shows how much a neighbour's cache use costs",
       "tick");
  out << "</svg>\n";
}

// ---- Wake-up lateness --------------------------------------------------------------

void write_wakeup_svg(std::ostream& out, const std::vector<WakeupResult>& wakeups) {
  std::vector<const WakeupResult*> ok;
  for (const WakeupResult& w : wakeups)
    if (w.p50_us && ok.size() < kWakeupMaxRows) ok.push_back(&w);
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const WakeupResult* w : ok) {
    lo = std::min(lo, std::max(*w->p50_us, 0.1));
    hi = std::max(hi, w->max_us.value_or(w->p99_us.value_or(*w->p50_us)));
  }
  const double row_h = ok.size() > 24 ? 12 : 18, label_w = 64, plot_w = 460, right = 210, top = 8, axis = 36;
  const double w = label_w + plot_w + right, h = top + row_h * std::max<std::size_t>(ok.size(), 1) + axis;
  open_svg(out, "wakeup", w, h, "Wake-up lateness per CPU: p50, p99 and maximum, microseconds");
  if (ok.empty()) {
    text(out, w / 2, h / 2, "no wake-up results", "tick", "middle");
    out << "</svg>\n";
    return;
  }
  double x0 = std::pow(10, std::floor(std::log10(lo))), x1 = std::pow(10, std::ceil(std::log10(hi * 1.05)));
  if (x1 <= x0) x1 = x0 * 10;
  auto X = [&](double us) {
    return label_w + (std::log10(std::max(us, x0)) - std::log10(x0)) / (std::log10(x1) - std::log10(x0)) * plot_w;
  };
  double plot_bottom = top + row_h * ok.size();
  for (double t : log_ticks(x0, x1)) {
    fmt::print(out, "<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", X(t), X(t), top,
               plot_bottom);
    text(out, X(t), plot_bottom + 14, format_tick(t), "tick", "middle");
  }
  text(out, label_w + plot_w / 2, h - 4, "µs late (log scale): p50 bar, p99 lighter, max tick", "axis-title", "middle");
  const bool small = row_h < 18;
  for (std::size_t i = 0; i < ok.size(); ++i) {
    const WakeupResult& r = *ok[i];
    double y = top + row_h * i, bh = row_h - 5;
    text(out, label_w - 6, y + bh * 0.85, fmt::format("CPU {}", r.cpu), small ? "tick small" : "tick", "end");
    if (r.p99_us)
      fmt::print(out, "<rect class=\"bar p99\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>", label_w, y,
                 X(*r.p99_us) - label_w, bh);
    fmt::print(out, "<rect class=\"bar p50\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>CPU {}: "
                    "p50 {} µs{}{}</title></rect>",
               label_w, y, X(*r.p50_us) - label_w, bh, r.cpu, format_number(*r.p50_us),
               r.p99_us ? ", p99 " + format_number(*r.p99_us) + " µs" : "",
               r.max_us ? ", max " + format_number(*r.max_us) + " µs" : "");
    if (r.max_us)
      fmt::print(out, "<line class=\"max-tick\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", X(*r.max_us),
                 X(*r.max_us), y - 1, y + bh + 1);
    text(out, label_w + plot_w + 8, y + bh * 0.85,
         fmt::format("p50 {} · p99 {} · max {}", format_number(*r.p50_us),
                     r.p99_us ? format_number(*r.p99_us) : "n/a", r.max_us ? format_number(*r.max_us) : "n/a"),
         small ? "tick small" : "tick");
    out << '\n';
  }
  out << "</svg>\n";
}

// ---- Before / after ------------------------------------------------------------------

void write_comparison_svg(std::ostream& out, const Comparison& comparison, const std::vector<std::size_t>& rows) {
  const double label_w = 290, bar_w = 340, right = 140, row_h = 50, top = 8;
  const double w = label_w + bar_w + right, h = top + row_h * std::max<std::size_t>(rows.size(), 1) + 26;
  open_svg(out, "comparison", w, h, "Before and after: medians, 95% interval of the change, verdicts");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const ComparisonRow& row = comparison.rows[rows[k]];
    double y = top + row_h * k;
    // Bold 12px: about 7.3px a glyph; long names take two lines.
    std::size_t fits = static_cast<std::size_t>((label_w - 12) / 7.3);
    std::string first = row.metric, second;
    if (first.size() > fits) {
      auto cut = first.rfind(' ', fits);
      if (cut == std::string::npos || cut == 0) cut = fits;
      second = first.substr(cut + (first[cut] == ' ' ? 1 : 0));
      first.resize(cut);
    }
    text(out, 0, y + 14, first, "row-label");
    if (!second.empty()) text(out, 0, y + 28, second, "row-label");
    text(out, 0, y + (second.empty() ? 30 : 42), fmt::format("n = {} / {}", row.n_before, row.n_after), "tick");
    if (!row.median_before || !row.median_after) {
      text(out, label_w, y + 20, "n/a: " + row.reason, "tick");
      continue;
    }
    double b = *row.median_before, a = *row.median_after;
    double hi = std::max(a, b);
    if (row.ci_low && row.ci_high) hi = std::max(hi, b + *row.ci_high);
    double scale = hi > 0 ? (bar_w - 115) / hi : 1;  // room for "before 0.990 ns" after the longest bar
    fmt::print(out, "<rect class=\"bar before\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\"><title>before: "
                    "median {} {}</title></rect>",
               label_w, y + 4, b * scale, format_number(b), html_escape(row.unit));
    text(out, label_w + b * scale + 4, y + 15, "before " + format_number(b) + " " + row.unit, "tick");
    std::string verdict(to_string(row.verdict));
    std::string cls = row.verdict == Verdict::Better        ? "better"
                      : row.verdict == Verdict::Worse       ? "worse"
                      : row.verdict == Verdict::WithinNoise ? "noise"
                                                            : "na";
    fmt::print(out, "<rect class=\"bar after {}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\"><title>after: "
                    "median {} {}; {}</title></rect>",
               cls, label_w, y + 22, a * scale, format_number(a), html_escape(row.unit), html_escape(row.reason));
    double label_x = label_w + a * scale + 4;
    if (row.ci_low && row.ci_high) {
      double l = label_w + std::max(0.0, b + *row.ci_low) * scale, r = label_w + std::max(0.0, b + *row.ci_high) * scale;
      double cy = y + 29;
      fmt::print(out, "<g class=\"whisker\"><title>95% interval of the change: {} to {} {}</title><line x1=\"{:.1f}\" "
                      "x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/><line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" "
                      "y2=\"{:.1f}\"/><line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/></g>",
                 format_number(*row.ci_low), format_number(*row.ci_high), html_escape(row.unit), l, r, cy, cy, l, l,
                 cy - 5, cy + 5, r, r, cy - 5, cy + 5);
      label_x = std::max(label_x, r + 4);
    }
    text(out, label_x, y + 33, "after " + format_number(a) + " " + row.unit, "tick");
    const auto changed = format_change(row);
    std::string change = changed ? fmt::format(" {}", *changed) : std::string();
    text(out, w - 4, y + 20, verdict + change, ("verdict " + cls).c_str(), "end");
    if (row.p_value) text(out, w - 4, y + 35, format_p(*row.p_value), "tick", "end");
  }
  text(out, 0, h - 6, "Medians, lower is better. Whisker (files without rounds): 95% bootstrap interval of the change, "
                      "drawn around the after bar.",
       "tick");
  out << "</svg>\n";
}

}  // namespace vpt::report_detail
