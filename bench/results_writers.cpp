// Console writers: one for a run's Results, one for a Comparison. They only
// format; every number comes from the value.
#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "bench/bench.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

std::string num(std::optional<double> v, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

std::string na_with_n(std::optional<double> v, std::size_t n, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : fmt::format("n/a (n={})", n);
}

}  // namespace

void write_results_text(std::ostream& out, const Results& r) {
  const HostFingerprint& h = r.host;
  fmt::print(out, "vpt-tune bench ({}), {:.1f} s, {}\n", r.mode, r.duration_s, r.created);
  fmt::print(out, "Host: {} ({}), kernel {}, microcode {}, BIOS {}\n", h.cpu_model, h.hostname, h.kernel,
             h.microcode.value_or("unknown"), h.bios_version.value_or("unknown"));
  fmt::print(out, "Measured CPUs: {} (allowed: {})\n", r.measured_cpus, h.allowed_cpus);

  if (r.domain) {
    const DomainInForce& d = *r.domain;
    fmt::print(out, "\nDomain '{}' ({}), QEMU PID {}\n", d.name, d.uri,
               d.qemu_pid ? std::to_string(*d.qemu_pid) : "not found");
    for (std::size_t i = 0; i < d.pins.vcpus.size(); ++i)
      fmt::print(out, "  vCPU {} pinned to {}\n", i, d.pins.vcpus[i]);
    fmt::print(out, "  emulator pinned to {}\n", d.pins.emulator);
    for (const auto& [id, cpus] : d.pins.iothreads) fmt::print(out, "  iothread {} pinned to {}\n", id, cpus);
    if (!d.threads.empty()) {
      fmt::print(out, "  {:>8}  {:<18} {:<10} {:<10} {:<6} {:>10} {:>12}\n", "tid", "thread", "pinned", "actual",
                 "match", "migrations", "involuntary");
      for (const ThreadCheck& t : d.threads)
        fmt::print(out, "  {:>8}  {:<18} {:<10} {:<10} {:<6} {:>10} {:>12}\n", t.tid, t.comm,
                   t.pinned ? t.pinned->to_string() : "?", t.actual ? t.actual->to_string() : "?",
                   t.matches ? (*t.matches ? "yes" : "NO") : "?",
                   t.migrations ? std::to_string(*t.migrations) : "?",
                   t.nonvoluntary_switches ? std::to_string(*t.nonvoluntary_switches) : "?");
      fmt::print(out, "  (migrations and involuntary context switches counted over the run)\n");
    }
  }

  if (r.core_to_core) {
    const CoreToCore& c = *r.core_to_core;
    std::size_t n = 0;
    for (const auto& p : c.pairs) n = std::max(n, p.samples_ns.size());
    fmt::print(out, "\nCore-to-core latency: median one-way, ns, n={} per direction ({} warm-up samples discarded)\n",
               n, c.warmup_samples_discarded);
    fmt::print(out, "  {:>8}", "from\\to");
    for (unsigned cpu : c.cpus) fmt::print(out, " {:>8}", fmt::format("CPU {}", cpu));
    fmt::print(out, "\n");
    for (std::size_t i = 0; i < c.cpus.size(); ++i) {
      fmt::print(out, "  {:>8}", fmt::format("CPU {}", c.cpus[i]));
      for (std::size_t j = 0; j < c.cpus.size(); ++j)
        fmt::print(out, " {:>8}", i == j ? "-" : num(c.median_ns[i][j]));
      fmt::print(out, "\n");
    }
    for (const auto& p : c.pairs) {
      if (!p.error.empty()) fmt::print(out, "  CPU {} -> {}: {}\n", p.from_cpu, p.to_cpu, p.error);
      else if (p.samples_ns.size() < r.method.c2c_samples)
        fmt::print(out, "  CPU {} -> {}: {} of {} samples within the time budget ({} round trips each)\n", p.from_cpu,
                   p.to_cpu, p.samples_ns.size(), r.method.c2c_samples, p.round_trips_per_sample);
    }
  }

  if (!r.memory_latency.empty()) {
    fmt::print(out, "\nMemory latency on CPU {}: median ns per dependent load, n={}, random cycle over {}-byte lines\n",
               r.method.chase_cpu, r.method.chase_samples, r.method.line_bytes);
    for (const LatencyPoint& p : r.memory_latency) {
      fmt::print(out, "  {:>10} {:>10}  {:<24} MAD {}\n", format_bytes(p.bytes), na_with_n(p.ns, p.samples_ns.size()),
                 p.level, num(mad(p.samples_ns), 2));
      if (!p.error.empty()) fmt::print(out, "             {}\n", p.error);
    }
  }

  if (!r.interference.empty()) {
    fmt::print(out, "\nInterference: median ns per load, quiet vs cache-thrashing neighbour, n={} per condition\n",
               r.method.interference_samples);
    for (const InterferencePoint& p : r.interference) {
      fmt::print(out, "  {:>10} ({}) on CPU {}, neighbour on {}: ", format_bytes(p.bytes), p.sized_to, p.cpu,
                 p.neighbour_cpus.empty() ? "none" : p.neighbour_cpus.to_string());
      if (!p.error.empty()) {
        fmt::print(out, "{}\n", p.error);
        continue;
      }
      fmt::print(out, "quiet {} ns, noisy {} ns, ratio {}\n", num(p.quiet_ns), num(p.noisy_ns), num(p.ratio, 2));
    }
  }

  if (!r.wakeup.empty()) {
    fmt::print(out, "\nWake-up lateness ({}, {} us period, {} wake-ups per CPU): us\n", r.method.wakeup_policy,
               r.method.wakeup_interval_us, r.method.wakeup_count);
    for (const WakeupResult& w : r.wakeup) {
      if (!w.error.empty()) {
        fmt::print(out, "  CPU {}: {}\n", w.cpu, w.error);
        continue;
      }
      fmt::print(out, "  CPU {:<4} p50 {:>8}  p99 {:>8}  max {:>8}\n", w.cpu, na_with_n(w.p50_us, w.samples_us.size()),
                 na_with_n(w.p99_us, w.samples_us.size()), num(w.max_us));
    }
  }

  write_guest_text(out, r);

  if (!r.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const auto& w : r.warnings) fmt::print(out, "  ! {}\n", w);
  }
}

void write_comparison_text(std::ostream& out, const Comparison& c) {
  auto runs = [](std::size_t n) { return n == 1 ? std::string("1 run") : fmt::format("{} runs", n); };
  fmt::print(out, "Before: {} ({})\nAfter:  {} ({})\n", c.before_name, runs(c.runs_before), c.after_name,
             runs(c.runs_after));
  if (c.runs_before >= 2 && c.runs_after >= 2)
    fmt::print(out,
               "Verdict: better/worse needs an exact Mann-Whitney test on the runs' medians with p < {:.2g} and a "
               "change of at least {:.0f}%; otherwise within noise. Medians are medians of the runs' medians. "
               "Lower is better.\n\n",
               c.options.alpha, c.options.min_change * 100);
  else
    fmt::print(out,
               "Verdict: better/worse needs Mann-Whitney p < {:.2g} on the samples, a {:.0f}% bootstrap interval of "
               "the median difference excluding 0, and a change of at least {:.0f}%; otherwise within noise. "
               "Lower is better.\n\n",
               c.options.alpha, c.options.confidence * 100, c.options.min_change * 100);
  std::size_t width = 6;
  for (const auto& row : c.rows) width = std::max(width, row.metric.size());
  fmt::print(out, "{:<{}}  {:>4} {:>10} {:>10} {:>8} {:>10} {:>10}  {}\n", "metric", width, "unit", "before", "after",
             "change", "p99 before", "p99 after", "verdict");
  for (const auto& row : c.rows) {
    std::string change = row.change ? fmt::format("{:+.1f}%", *row.change * 100) : "n/a";
    int decimals = row.unit == "x" ? 3 : 1;
    fmt::print(out, "{:<{}}  {:>4} {:>10} {:>10} {:>8} {:>10} {:>10}  {} ({})\n", row.metric, width, row.unit,
               na_with_n(row.median_before, row.n_before, decimals), na_with_n(row.median_after, row.n_after, decimals),
               change, num(row.p99_before), num(row.p99_after), to_string(row.verdict), row.reason);
  }
  if (!c.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const auto& w : c.warnings) fmt::print(out, "  ! {}\n", w);
  }
}

}  // namespace vpt
