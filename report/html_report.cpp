// The HTML writer: one self-contained HTML5 page. Inline CSS and SVG; the only
// script is the copy button (the page is complete without it). A Content
// Security Policy forbids every fetch, so even a missed escape could load
// nothing and run no other script.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "bench/statistics.hpp"
#include "report/escape.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"

namespace vpt {

namespace {

using report_detail::html_escape;

// Shows hidden copy buttons and copies the <pre> they point at. The CSP
// below allows this exact text only (its SHA-256); tests check the hash.
constexpr std::string_view kScript =
    "document.querySelectorAll('button.copy').forEach(function(b){b.hidden=false;"
    "b.addEventListener('click',function(){var p=document.getElementById(b.getAttribute('data-target'));"
    "function done(t){b.textContent=t;setTimeout(function(){b.textContent='Copy';},1500);}"
    "function select(){var r=document.createRange();r.selectNodeContents(p);var s=window.getSelection();"
    "s.removeAllRanges();s.addRange(r);done('Selected: press Ctrl+C');}"
    "if(navigator.clipboard){navigator.clipboard.writeText(p.textContent).then(function(){done('Copied');},select);}"
    "else{select();}});});";
constexpr std::string_view kScriptSha256 = "sha256-1+gEDBglUINN1z0qvZlczeKUIGcUjc7t5HY3Ri73kjg=";

constexpr std::string_view kCss = R"CSS(
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--good:#1a7f37;--bad:#cf222e;--warn:#9a6700;
--g0:#2563eb;--g1:#7c3aed;--g2:#0e7490;--g3:#be185d;--g4:#4d7c0f;--g5:#b45309;--emu:#f97316;--io:#facc15;--host:#d0d7de}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
main,header,footer,nav{max-width:1180px;margin:0 auto;padding:0 16px}
header{padding-top:20px}
h1{font-size:1.55rem;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:18px 0 6px}
p{margin:6px 0}
.sub,.note,figcaption{color:var(--muted);font-size:.9rem}
nav{font-size:.9rem;margin:8px auto;display:flex;flex-wrap:wrap;gap:2px 14px}
nav a{color:var(--g0);text-decoration:none;white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line);overflow-wrap:break-word}
th{background:var(--soft);font-weight:600}
table.facts th{width:28%;background:none;color:var(--muted);font-weight:500}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--soft)}
.card h3{margin:0 0 4px}
.chip{display:inline-block;border-radius:999px;padding:0 9px;font-size:.8rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.chip.private,.chip.better{color:var(--good)}.chip.shared,.chip.worse{color:var(--bad)}
.chip.unknown,.chip.noise,.chip.na{color:var(--muted)}
ul.warnings li{color:var(--warn)}
.chip.error{color:var(--bad)}.chip.warning{color:var(--warn)}.chip.info{color:var(--muted)}
.finding{border-left:3px solid var(--line);padding:2px 0 2px 12px;margin:12px 0}
.finding.error{border-color:var(--bad)}.finding.warning{border-color:var(--warn)}
.finding h4{margin:0 0 4px;font-size:.98rem}.finding p{margin:3px 0}
figure{margin:12px 0}
svg.chart{width:100%;height:auto}
svg{max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0;font-size:.88rem;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:16px;height:16px;border-radius:3px;border:1px solid #6e7781}
.codebox{position:relative}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;max-height:32em;font-size:.85rem;line-height:1.4}
button.copy{position:absolute;top:6px;right:6px;font:inherit;font-size:.8rem;padding:2px 10px;border:1px solid var(--line);border-radius:6px;background:var(--bg);cursor:pointer}
details{margin:8px 0}summary{cursor:pointer;color:var(--g0)}
footer{margin:32px auto 24px;color:var(--muted);font-size:.85rem}
/* topology picture */
svg.topology .box rect{stroke:#8c959f;stroke-width:1}
svg.topology .box-package rect,svg.topology .box-machine rect{fill:#eef1f4}
svg.topology .box-numa rect{fill:#e6eefb}
svg.topology .box-l3 rect{fill:#fbfbfc}
svg.topology .box-l2 rect{fill:#f1f3f5}
svg.topology .box-core rect{fill:#fff;stroke:#afb8c1}
svg.topology .box-label{font-size:11px;fill:#424a53;font-weight:600}
svg.topology .cpu rect{stroke:#57606a;stroke-width:1}
svg.topology .cpu text{text-anchor:middle;pointer-events:none}
svg.topology .cpu-num{font-size:11px;font-weight:700}
svg.topology .cpu-role{font-size:9.5px}
svg.topology .cpu:hover rect{stroke:#000;stroke-width:2.5}
.role-vcpu rect,.swatch.role-vcpu{fill:var(--g0);background:var(--g0)}
.guest-1 rect,.swatch.guest-1{fill:var(--g1);background:var(--g1)}
.guest-2 rect,.swatch.guest-2{fill:var(--g2);background:var(--g2)}
.guest-3 rect,.swatch.guest-3{fill:var(--g3);background:var(--g3)}
.guest-4 rect,.swatch.guest-4{fill:var(--g4);background:var(--g4)}
.guest-5 rect,.swatch.guest-5{fill:var(--g5);background:var(--g5)}
svg .role-vcpu text{fill:#fff}
.role-emulator rect,.swatch.role-emulator{fill:var(--emu);background:var(--emu)}
.role-iothread rect,.swatch.role-iothread{fill:var(--io);background:var(--io)}
.role-host rect,.swatch.role-host{fill:var(--host);background:var(--host)}
.role-unused rect{fill:#fff;stroke-dasharray:3 2}.swatch.role-unused{background:#fff;border-style:dashed}
svg .on-host rect{stroke:#24292f;stroke-width:2}
/* charts */
svg.chart text{font-size:11px;fill:#424a53}
svg.chart .axis-title{font-size:11px;fill:#59636e}
svg.chart .row-label{font-size:12px;font-weight:600;fill:#1f2328}
svg.chart .tick.small{font-size:9px}
svg.chart .cell{font-size:10px;fill:#1f2328}svg.chart .cell.on-dark{fill:#fff}
svg.chart rect.na{fill:#eaeef2}
svg.chart .plot{fill:#fff;stroke:#afb8c1}
svg.chart .grid{stroke:#eaeef2}
svg.chart .cache-mark{stroke:#9a6700;stroke-dasharray:4 3}
svg.chart .cache-label{fill:#9a6700;font-weight:600}
svg.chart .series{fill:none;stroke:#2563eb;stroke-width:2}
svg.chart .point{fill:#2563eb;stroke:#fff}
svg.chart .bar.quiet,svg.chart .bar.before{fill:#afb8c1}
svg.chart .bar.noisy{fill:#cf222e}
svg.chart .bar.p50{fill:#2563eb}svg.chart .bar.p99{fill:#9ec5fe}
svg.chart .max-tick{stroke:#1f2328;stroke-width:2}
svg.chart .bar.after.better{fill:#1a7f37}svg.chart .bar.after.worse{fill:#cf222e}
svg.chart .bar.after.noise,svg.chart .bar.after.na{fill:#6e7781}
svg.chart .whisker line{stroke:#1f2328;stroke-width:1.5}
svg.chart .verdict{font-size:12px;font-weight:700}
svg.chart .verdict.better{fill:#1a7f37}svg.chart .verdict.worse{fill:#cf222e}
svg.chart .ratio{font-size:14px;font-weight:700;fill:#1f2328}
@media (max-width:640px){body{font-size:14px}table.facts th{width:38%}h1{font-size:1.3rem}}
@media print{
nav,button.copy{display:none!important}
body{font-size:10.5pt}
main,header,footer{max-width:none;padding:0}
section,figure,.card,tr{break-inside:avoid}
h2{break-after:avoid}
pre{max-height:none;white-space:pre-wrap;overflow:visible}
.scroll{overflow:visible}
svg{min-width:0!important;max-width:100%!important}
a{color:inherit;text-decoration:none}
details>*{display:block}
}
)CSS";

std::string e(std::string_view s) { return html_escape(s); }

void facts_table(std::ostream& out, const std::vector<Fact>& facts) {
  out << "<div class=\"scroll\"><table class=\"facts\">\n";
  for (const Fact& f : facts) fmt::print(out, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n", e(f.name), e(f.value));
  out << "</table></div>\n";
}

void list(std::ostream& out, const std::vector<std::string>& items, const char* cls = nullptr) {
  if (items.empty()) return;
  out << (cls ? fmt::format("<ul class=\"{}\">\n", cls) : "<ul>\n");
  for (const std::string& s : items) fmt::print(out, "<li>{}</li>\n", e(s));
  out << "</ul>\n";
}

std::string verdict_class(Verdict v) {
  switch (v) {
    case Verdict::Better: return "better";
    case Verdict::Worse: return "worse";
    case Verdict::WithinNoise: return "noise";
    case Verdict::NotAvailable: return "na";
  }
  return "na";
}

std::string value(const std::optional<double>& v, const std::string& unit) {
  return v ? report_detail::format_number(*v) + " " + unit : "n/a";
}

void summary_section(std::ostream& out, const Report& r) {
  out << "<section id=\"summary\"><h2>At a glance</h2>\n<div class=\"cards\">\n";
  for (const GuestSummary& g : r.guests) {
    fmt::print(out, "<div class=\"card\"><h3>Guest '{}': {} vCPU{}</h3><p>CPUs {} — {}; presented as {}.</p><p>", e(g.name),
               g.vcpus, g.vcpus == 1 ? "" : "s", e(g.cpus), e(g.cores), e(g.presented));
    for (const CacheVerdict& v : g.caches)
      fmt::print(out, "<span class=\"chip {}\" title=\"{}\">{} {}</span> ", to_string(v.sharing), e(v.text), e(v.level),
                 to_string(v.sharing));
    out << "</p></div>\n";
  }
  if (r.no_plan.empty())
    fmt::print(out, "<div class=\"card\"><h3>The host keeps</h3><p>{}</p></div>\n", e(r.host_keeps));
  else
    fmt::print(out, "<div class=\"card\"><h3>No plan</h3><p>{}</p></div>\n", e(r.no_plan));
  if (r.comparison && !r.comparison->headline.empty()) {
    const Comparison& c = r.comparison->comparison;
    // One run a side cannot tell a change from a disturbance between runs:
    // its verdicts are drawn without colour, and the summary says so.
    const bool tentative = c.runs_before < 2 || c.runs_after < 2;
    fmt::print(out, "<div class=\"card\"><h3>Before → after</h3><p class=\"note\">{}</p><p>", e(verdict_summary(c)));
    for (std::size_t i : r.comparison->headline) {
      const ComparisonRow& row = c.rows[i];
      const auto change = report_detail::format_change(row);
      fmt::print(out, "{}: <span class=\"chip {}\">{}{}</span><br>\n", e(row.metric),
                 tentative ? std::string("noise") : verdict_class(row.verdict), e(std::string(to_string(row.verdict))),
                 change ? fmt::format(" {}", e(*change)) : std::string());
    }
    out << "</p></div>\n";
  }
  out << "</div>\n";
  if (!r.warnings.empty())
    fmt::print(out, "<p class=\"note\">{} warning{}: see <a href=\"#advice\">warnings and advice</a>.</p>\n",
               r.warnings.size(), r.warnings.size() > 1 ? "s" : "");
  if (r.review)
    fmt::print(out, "<p class=\"note\">Review of the domain: {} (see <a href=\"#review\">review</a>).</p>\n",
               e(r.review->counts));
  out << "</section>\n";
}

void picture_section(std::ostream& out, const Report& r) {
  out << "<section id=\"picture\"><h2>Where everything runs</h2>\n"
         "<p class=\"note\">Each box is a logical CPU, named by the number libvirt's cpuset= uses, drawn inside its "
         "core, L2, L3, NUMA node and package as lstopo draws them. Hover a box for details.</p>\n"
         "<ul class=\"legend\">\n";
  for (const LegendEntry& l : r.layout.legend)
    fmt::print(out, "<li><span class=\"swatch role-{}{}\"></span><b>{}</b> {}</li>\n", to_string(l.role),
               l.guest ? fmt::format(" guest-{}", *l.guest % 6) : "", l.count, e(l.text));
  out << "</ul>\n<figure><div class=\"scroll\">\n";
  report_detail::write_topology_svg(out, r.layout);
  out << "</div>\n";
  if (!r.layout.notes.empty()) {
    out << "<figcaption>";
    for (const std::string& n : r.layout.notes) fmt::print(out, "{} ", e(n));
    out << "</figcaption>\n";
  }
  out << "</figure>\n</section>\n";
}

void sharing_section(std::ostream& out, const Report& r) {
  if (!r.no_plan.empty()) return;
  out << "<section id=\"sharing\"><h2>The plan and what each guest shares</h2>\n";
  for (std::size_t i = 0; i < r.guests.size(); ++i) {
    const GuestSummary& g = r.guests[i];
    fmt::print(out, "<h3>Guest '{}'</h3>\n", e(g.name));
    facts_table(out, {{"vCPUs", fmt::format("{} on CPU{} {} ({})", g.vcpus, g.vcpus == 1 ? "" : "s", g.cpus, g.cores)},
                      {"Presented to the guest", g.presented},
                      {"Emulator thread", g.emulator},
                      {"I/O threads", g.iothreads},
                      {"Memory", g.memory}});
    out << "<div class=\"scroll\"><table><tr><th>Level</th><th>Verdict</th><th>What the guest shares</th></tr>\n";
    for (const CacheVerdict& v : g.caches)
      fmt::print(out, "<tr><td>{}</td><td><span class=\"chip {}\">{}</span></td><td>{}</td></tr>\n", e(v.level),
                 to_string(v.sharing), to_string(v.sharing), e(v.text));
    out << "</table></div>\n";
  }
  fmt::print(out, "<p>The host keeps {}.</p>\n", e(r.host_keeps));
  if (!r.explanation.empty()) {
    out << "<details><summary>Why this plan</summary>\n";
    list(out, r.explanation);
    out << "</details>\n";
  }
  out << "</section>\n";
}

void xml_section(std::ostream& out, const Report& r) {
  if (!r.no_plan.empty()) return;
  out << "<section id=\"xml\"><h2>libvirt XML</h2>\n<p class=\"note\">Paste into <code>virsh edit</code>, replacing "
         "these elements.</p>\n";
  for (std::size_t i = 0; i < r.guests.size(); ++i) {
    if (r.guests[i].xml.empty()) continue;  // left as defined
    if (r.guests.size() > 1) fmt::print(out, "<h3>Guest '{}'</h3>\n", e(r.guests[i].name));
    fmt::print(out,
               "<div class=\"codebox\"><button class=\"copy\" type=\"button\" data-target=\"xml-{0}\" hidden>Copy"
               "</button><pre id=\"xml-{0}\"><code>{1}</code></pre></div>\n",
               i, e(r.guests[i].xml));
  }
  out << "</section>\n";
}

void domain_section(std::ostream& out, const Report& r) {
  if (r.domain.empty()) return;
  out << "<section id=\"domain\"><h2>The domain as defined now</h2>\n";
  facts_table(out, r.domain);
  out << "</section>\n";
}

void bench_section(std::ostream& out, const Report& r) {
  if (!r.bench) return;
  const BenchSection& b = *r.bench;
  const Results& res = b.results;
  out << "<section id=\"bench\"><h2>Measurements</h2>\n";
  facts_table(out, b.facts);
  if (res.core_to_core) {
    const CoreToCore& c = *res.core_to_core;
    out << "<h3>Core-to-core latency</h3>\n<figure><div class=\"scroll\">\n";
    report_detail::write_heatmap_svg(out, c);
    out << "</div><figcaption>Median one-way latency (round trip / 2) between each pair of measured CPUs. SMT "
           "siblings and CPUs sharing an L2 or L3 answer fastest.";
    if (c.cpus.size() > report_detail::kHeatmapMaxCpus)
      fmt::print(out, " Showing the first {} of {} measured CPUs; the results file has them all.",
                 report_detail::kHeatmapMaxCpus, c.cpus.size());
    out << "</figcaption></figure>\n";
    std::vector<std::string> errors;
    for (const CoreToCorePair& p : c.pairs)
      if (!p.error.empty()) errors.push_back(fmt::format("CPU {} → {}: {}", p.from_cpu, p.to_cpu, p.error));
    if (errors.size() > 8) errors.resize(8);
    list(out, errors, "warnings");
  }
  if (res.memory_latency && !res.memory_latency->points.empty()) {
    const MemoryLatency& m = *res.memory_latency;
    out << "<h3>Memory latency</h3>\n<figure><div class=\"scroll\">\n";
    report_detail::write_memory_curve_svg(out, m.points, b.cache_marks);
    fmt::print(out, "</div><figcaption>ns per dependent load over a random cycle of the working set, on CPU {}. "
                    "Dashed lines: cache sizes of one instance.</figcaption></figure>\n",
               m.method.cpu);
    std::vector<std::string> errors;
    for (const LatencyPoint& p : m.points)
      if (!p.error.empty()) errors.push_back(fmt::format("{}: {}", p.bytes, p.error));
    list(out, errors, "warnings");
  }
  if (res.interference && !res.interference->points.empty()) {
    out << "<h3>Interference</h3>\n<figure><div class=\"scroll\">\n";
    report_detail::write_interference_svg(out, res.interference->points);
    out << "</div><figcaption>The same pointer chase alone and while another CPU thrashes a cache-sized buffer: a "
           "ratio near 1 means the neighbour does not reach this CPU's caches.</figcaption></figure>\n";
    std::vector<std::string> errors;
    for (const InterferencePoint& p : res.interference->points)
      if (!p.error.empty()) errors.push_back(p.error);
    list(out, errors, "warnings");
  }
  if (res.wakeup && !res.wakeup->cpus.empty()) {
    const Wakeup& w = *res.wakeup;
    out << "<h3>Wake-up lateness</h3>\n<figure><div class=\"scroll\">\n";
    report_detail::write_wakeup_svg(out, w.cpus);
    fmt::print(out, "</div><figcaption>How late a sleeping thread wakes up after its timer ({} wake-ups every {} µs, "
                    "{}). Long tails mean something else runs on that CPU.{}</figcaption></figure>\n",
               w.method.count, w.method.interval_us, e(w.method.policy),
               w.cpus.size() > report_detail::kWakeupMaxRows
                   ? fmt::format(" Showing the first {} CPUs.", report_detail::kWakeupMaxRows)
                   : "");
    std::vector<std::string> errors;
    for (const WakeupResult& row : w.cpus)
      if (!row.error.empty()) errors.push_back(fmt::format("CPU {}: {}", row.cpu, row.error));
    list(out, errors, "warnings");
  }
  if (res.steal && !res.steal->windows.empty()) {
    out << "<h3>Steal</h3>\n<div class=\"scroll\"><table><tr><th>Window</th><th>vCPU</th><th>Waited for a host "
           "CPU (median)</th><th>Ran (median)</th></tr>\n";
    for (const StealWindow& window : res.steal->windows)
      for (const VcpuSteal& v : window.vcpus) {
        auto pct = [](std::optional<double> x) { return x ? report_detail::format_number(*x) + "%" : "n/a"; };
        fmt::print(out, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", e(window.kind), v.vcpu,
                   pct(median(v.wait_percent.pooled())), pct(median(v.run_percent.pooled())));
      }
    out << "</table></div>\n<p class=\"note\">Each vCPU thread's time runnable but waiting on a host run queue, "
           "per second of wall time (/proc/PID/task/TID/schedstat): the steal the guest suffers. An idle vCPU does "
           "not run and cannot wait, so the quiet window says little about an idle guest; the in-guest probe's "
           "window keeps every vCPU busy.</p>\n";
  }
  out << "</section>\n";
}

void comparison_section(std::ostream& out, const Report& r) {
  if (!r.comparison) return;
  const Comparison& c = r.comparison->comparison;
  out << "<section id=\"compare\"><h2>Before and after</h2>\n";
  fmt::print(out, "<p class=\"note\">Before: {}; after: {}. A change counts when an exact Mann–Whitney test on the "
                  "values of the runs (several files a side) or of each run's interleaved rounds (one file a side) "
                  "gives p &lt; {} and the median moved by at least {:.0f}%. Files without rounds (schema bench/1) "
                  "use the samples' test, whose {:.0f}% bootstrap interval of the change must also exclude 0.</p>\n",
             e(c.before_name), e(c.after_name), report_detail::format_number(c.options.alpha),
             c.options.min_change * 100, c.options.confidence * 100);
  out << "<figure><div class=\"scroll\">\n";
  report_detail::write_comparison_svg(out, c, r.comparison->headline);
  out << "</div></figure>\n";
  fmt::print(out, "<details><summary>All {} rows</summary><div class=\"scroll\"><table>\n<tr><th>Metric</th><th>n</th>"
                  "<th>Before</th><th>After</th><th>Change</th><th>95% interval</th><th>Verdict</th></tr>\n",
             c.rows.size());
  for (const ComparisonRow& row : c.rows)
    fmt::print(out, "<tr><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"chip "
                    "{}\" title=\"{}\">{}</span></td></tr>\n",
               e(row.metric), row.n_before, row.n_after, e(value(row.median_before, row.unit)),
               e(value(row.median_after, row.unit)), e(report_detail::format_change(row).value_or("n/a")),
               row.ci_low && row.ci_high
                   ? e(fmt::format("{} to {} {}", report_detail::format_number(*row.ci_low),
                                   report_detail::format_number(*row.ci_high), row.unit))
                   : "n/a",
               verdict_class(row.verdict), e(row.reason), e(std::string(to_string(row.verdict))));
  out << "</table></div></details>\n</section>\n";
}

std::string fix_note(const Finding& f) {
  if (f.fix_kind == FixKind::HostCommands) return "on the host (vpt-tune never runs these)";
  if (f.auto_fix != AutoFix::No) return "vpt-tune check --fix applies it";
  if (!f.manual_reason.empty()) return "by hand: " + f.manual_reason;
  return "by hand";
}

void review_section(std::ostream& out, const Report& r) {
  if (!r.review) return;
  const ReviewSection& v = *r.review;
  fmt::print(out, "<section id=\"review\"><h2>Review of domain '{}' (vpt-tune check)</h2>\n<p>{}: {}.</p>\n", e(v.domain),
             e(v.summary), e(v.counts));
  std::optional<Severity> group;
  std::size_t n = 0;
  for (const Finding& f : v.findings) {
    if (group != f.severity) {
      group = f.severity;
      fmt::print(out, "<h3>{}</h3>\n", f.severity == Severity::Error     ? "Errors"
                                       : f.severity == Severity::Warning ? "Warnings"
                                                                         : "Notes");
    }
    const std::string sev(to_string(f.severity));
    fmt::print(out, "<div class=\"finding {0}\"><h4><span class=\"chip {0}\">{0}</span> <code>{1}</code> {2}</h4>\n"
                    "<p><strong>Found:</strong> {3}</p>\n<p class=\"note\">{4}</p>\n",
               sev, e(f.id), e(f.title), e(f.evidence), e(f.why));
    if (f.fix) {
      const std::string id = fmt::format("fix-{}", n++);
      fmt::print(out, "<details><summary>Fix ({})</summary><div class=\"codebox\"><button class=\"copy\" "
                      "type=\"button\" data-target=\"{}\" hidden>Copy</button><pre id=\"{}\">{}</pre></div></details>\n",
                 e(fix_note(f)), id, id, e(*f.fix));
    } else if (!f.manual_reason.empty()) {
      fmt::print(out, "<p class=\"note\">Fix: {}</p>\n", e(f.manual_reason));
    }
    out << "</div>\n";
  }
  if (!v.skipped.empty()) {
    out << "<h3>Not checked</h3>\n";
    list(out, v.skipped);
  }
  out << "</section>\n";
}

void advice_section(std::ostream& out, const Report& r) {
  out << "<section id=\"advice\"><h2>Warnings and advice</h2>\n";
  if (r.warnings.empty() && r.advice.empty()) out << "<p>Nothing to add.</p>\n";
  if (!r.warnings.empty()) {
    out << "<h3>Warnings</h3>\n";
    list(out, r.warnings, "warnings");
  }
  if (!r.advice.empty()) {
    out << "<h3>Advice</h3>\n";
    list(out, r.advice);
  }
  out << "</section>\n";
}

}  // namespace

void write_html_report(std::ostream& out, const Report& r) {
  fmt::print(out,
             "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
             "script-src '{}'; base-uri 'none'; form-action 'none'\">\n"
             "<meta name=\"generator\" content=\"vpt-tune {}\">\n"
             "<title>vpt-tune report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
             kScriptSha256, e(r.tool_version), e(r.title), kCss);
  fmt::print(out, "<header><h1>{}</h1><p class=\"sub\">CPU pinning report by vpt-tune {}{}</p></header>\n", e(r.title),
             e(r.tool_version), r.redacted ? "; host names, UUIDs, MAC addresses, serials and paths redacted" : "");
  out << "<nav><a href=\"#summary\">Summary</a><a href=\"#host\">Host</a><a href=\"#picture\">Picture</a>";
  if (r.no_plan.empty()) out << "<a href=\"#sharing\">Sharing</a><a href=\"#xml\">XML</a>";
  if (!r.domain.empty()) out << "<a href=\"#domain\">Domain</a>";
  if (r.review) out << "<a href=\"#review\">Review</a>";
  if (r.bench) out << "<a href=\"#bench\">Measurements</a>";
  if (r.comparison) out << "<a href=\"#compare\">Before/after</a>";
  out << "<a href=\"#advice\">Advice</a></nav>\n<main>\n";
  summary_section(out, r);
  out << "<section id=\"host\"><h2>Host</h2>\n";
  facts_table(out, r.host);
  out << "</section>\n";
  picture_section(out, r);
  sharing_section(out, r);
  xml_section(out, r);
  domain_section(out, r);
  review_section(out, r);
  comparison_section(out, r);
  bench_section(out, r);
  advice_section(out, r);
  out << "<section id=\"inputs\"><h2>Inputs</h2>\n";
  facts_table(out, r.inputs);
  out << "</section>\n</main>\n";
  fmt::print(out, "<footer>Made with vpt-tune {}. This page is self-contained: it loads nothing from the network.</footer>\n",
             e(r.tool_version));
  fmt::print(out, "<script>{}</script>\n</body>\n</html>\n", kScript);
}

}  // namespace vpt
