// The kernel table's entry for the in-guest probe's run: its section of the
// results file, the metrics compare tests, and its console lines. The probe
// is run by guest_runner.cpp (after the host kernels, which would disturb it).
#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

namespace {

RoundSamples scaled(const RoundSamples& in, double factor) {
  RoundSamples out = in;
  for (auto& round : out.rounds)
    for (double& x : round) x *= factor;
  return out;
}

void write(const Results& results, Json& doc) {
  if (!results.guest) {
    doc["guest"] = nullptr;
    return;
  }
  const GuestResults& g = *results.guest;
  const GuestProbeOutput& o = g.output;
  Json c2c = Json::array();
  for (const GuestC2c& c : o.c2c) {
    std::vector<double> all = c.samples_ns.pooled();
    Json row = {{"cpus", {c.cpu_a, c.cpu_b}},
                {"round_trips_per_sample", c.round_trips_per_sample},
                {"median_ns", json_or_null(median(all))},
                {"p99_ns", json_or_null(quantile(all, 0.99))},
                {"samples_ns", round_samples_json(c.samples_ns)}};
    put_error(row, c.error);
    c2c.push_back(std::move(row));
  }
  Json chase = Json::array();
  for (const GuestChase& c : o.chase) {
    Json row = {{"cpu", c.cpu},
                {"bytes", c.bytes},
                {"loads_per_sample", c.loads_per_sample},
                {"median_ns", json_or_null(median(c.samples_ns.pooled()))},
                {"samples_ns", round_samples_json(c.samples_ns)}};
    put_error(row, c.error);
    chase.push_back(std::move(row));
  }
  Json wakeup = Json::array();
  for (const GuestWakeup& w : o.wakeup) {
    std::vector<double> all = w.samples_us.pooled();
    Json row = {{"cpu", w.cpu},
                {"interval_us", w.interval_us},
                {"timer", w.timer},
                {"p50_us", json_or_null(quantile(all, 0.5))},
                {"p99_us", json_or_null(quantile(all, 0.99))},
                {"max_us", json_or_null(maximum(all))},
                {"samples_us", round_samples_json(w.samples_us)}};
    put_error(row, w.error);
    wakeup.push_back(std::move(row));
  }
  Json section = {{"channel", g.channel},
                  {"via", g.via},
                  {"command", g.command},
                  {"os", json_or_null(g.os)},
                  {"exit_code", json_or_null(g.exit_code)},
                  {"duration_s", g.duration_s},
                  {"probe", "vpt-guest-probe"},
                  {"probe_version", json_or_null(o.version)},
                  {"probe_os", json_or_null(o.os)},
                  {"online_cpus", json_or_null(o.online_cpus)},
                  {"timer_ns", json_or_null(o.timer_ns)},
                  {"rounds", o.rounds},
                  {"c2c_unit", "round trip"},
                  {"c2c", std::move(c2c)},
                  {"chase", std::move(chase)},
                  {"wakeup", std::move(wakeup)},
                  {"complete", o.complete},
                  {"problems", o.problems}};
  put_error(section, g.error);
  doc["guest"] = std::move(section);
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  const Json* section = r.find(doc, "guest");
  if (!section) return;
  const std::string p = "guest";
  const Json& j = *section;
  GuestResults g;
  GuestProbeOutput& o = g.output;
  if (r.version1()) {
    // bench/1 had only the serial channel, and called its socket "channel".
    g.channel = "serial";
    g.via = r.text_or_empty(j, "channel", p);
  } else {
    g.channel = r.field<std::string>(j, "channel", p);
    g.via = r.text_or_empty(j, "via", p);
    g.os = r.optional<std::string>(j, "os", p);
    o.os = r.optional<std::string>(j, "probe_os", p);
    o.rounds = r.field<unsigned>(j, "rounds", p);
    o.complete = r.field<bool>(j, "complete", p);
  }
  g.command = r.text_or_empty(j, "command", p);
  g.exit_code = r.optional<int>(j, "exit_code", p);
  g.duration_s = r.optional<double>(j, "duration_s", p).value_or(0);
  g.error = r.text_or_empty(j, "error", p);
  o.version = r.optional<unsigned>(j, "probe_version", p);
  o.online_cpus = r.optional<unsigned>(j, "online_cpus", p);
  o.timer_ns = r.optional<double>(j, "timer_ns", p);
  if (r.version1()) o.complete = o.version.has_value();
  if (const Json* problems = r.find(j, "problems")) o.problems = r.get<std::vector<std::string>>(*problems, p + ".problems");
  if (const Json* c2c = r.find(j, "c2c")) {
    if (!c2c->is_array()) r.fail(p + ".c2c", "expected an array");
    for (std::size_t i = 0; i < c2c->size(); ++i) {
      const std::string cp = ResultsReader::index(p + ".c2c", i);
      const Json& row = (*c2c)[i];
      std::vector<unsigned> cpus = r.cpu_numbers(row, "cpus", cp);
      if (cpus.size() != 2) r.fail(cp + ".cpus", "expected two vCPUs");
      GuestC2c c;
      c.cpu_a = cpus[0];
      c.cpu_b = cpus[1];
      c.round_trips_per_sample = r.field<unsigned>(row, "round_trips_per_sample", cp);
      c.samples_ns = r.round_samples(row, "samples_ns", cp);
      c.error = r.text_or_empty(row, "error", cp);
      o.c2c.push_back(std::move(c));
    }
  }
  if (const Json* chase = r.find(j, "chase")) {
    if (!chase->is_array()) r.fail(p + ".chase", "expected an array");
    for (std::size_t i = 0; i < chase->size(); ++i) {
      const std::string cp = ResultsReader::index(p + ".chase", i);
      const Json& row = (*chase)[i];
      GuestChase c;
      c.cpu = r.cpu(row, "cpu", cp);
      c.bytes = r.field<std::uint64_t>(row, "bytes", cp);
      c.loads_per_sample = r.field<std::uint64_t>(row, "loads_per_sample", cp);
      c.samples_ns = r.round_samples(row, "samples_ns", cp);
      c.error = r.text_or_empty(row, "error", cp);
      o.chase.push_back(std::move(c));
    }
  }
  if (const Json* wakeup = r.find(j, "wakeup")) {
    if (!wakeup->is_array()) r.fail(p + ".wakeup", "expected an array");
    for (std::size_t i = 0; i < wakeup->size(); ++i) {
      const std::string wp = ResultsReader::index(p + ".wakeup", i);
      const Json& row = (*wakeup)[i];
      GuestWakeup w;
      w.cpu = r.cpu(row, "cpu", wp);
      w.interval_us = r.field<unsigned>(row, "interval_us", wp);
      w.timer = r.text_or_empty(row, "timer", wp);
      w.samples_us = r.round_samples(row, "samples_us", wp);
      w.error = r.text_or_empty(row, "error", wp);
      o.wakeup.push_back(std::move(w));
    }
  }
  results.guest = std::move(g);
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.guest) return;
  const GuestProbeOutput& o = results.guest->output;
  for (const GuestC2c& c : o.c2c)
    out.push_back({fmt::format("guest_c2c vCPU {} <-> {}, round trip", c.cpu_a, c.cpu_b), "us",
                   Series::Statistic::Median, scaled(c.samples_ns, 1e-3), {}, 0});
  for (const GuestChase& c : o.chase)
    out.push_back({fmt::format("guest_chase {} on vCPU {}", format_bytes(c.bytes), c.cpu), "ns",
                   Series::Statistic::Median, c.samples_ns, {}, 0});
  RoundSamples all;
  for (const GuestWakeup& w : o.wakeup) {
    out.push_back({fmt::format("guest_wakeup vCPU {}", w.cpu), "us", Series::Statistic::Median, w.samples_us, {}, 0});
    all.append(w.samples_us);
  }
  // The tail: what a player feels as stutter.
  if (!o.wakeup.empty())
    out.push_back({"guest_wakeup p99, all vCPUs", "us", Series::Statistic::P99, std::move(all), {}, 0});
}

std::string num(std::optional<double> v, double scale, int decimals) {
  return v ? fmt::format("{:.{}f}", *v * scale, decimals) : std::string("n/a");
}

void write_text(std::ostream& out, const Results& results) {
  if (!results.guest) return;
  const GuestResults& g = *results.guest;
  const GuestProbeOutput& o = g.output;
  fmt::print(out, "\nIn the guest{} ({} CPUs online): '{}' through the {} channel ({}), {:.1f} s, {} rounds\n",
             g.os ? " '" + *g.os + "'" : std::string(),
             o.online_cpus ? std::to_string(*o.online_cpus) : std::string("?"), g.command, g.channel, g.via,
             g.duration_s, o.rounds);
  if (!g.error.empty()) fmt::print(out, "  {}\n", g.error);
  for (const GuestC2c& c : o.c2c) {
    if (!c.error.empty()) {
      fmt::print(out, "  ping-pong vCPU {} <-> {}: {}\n", c.cpu_a, c.cpu_b, c.error);
      continue;
    }
    std::vector<double> all = c.samples_ns.pooled();
    auto p99 = quantile(all, 0.99);
    fmt::print(out, "  ping-pong vCPU {} <-> {}: median {} us a round trip, {} (n={}, {} round trip{} a sample)\n",
               c.cpu_a, c.cpu_b, num(median(all), 1e-3, 2),
               p99 ? fmt::format("p99 {} us", num(p99, 1e-3, 2)) : std::string("p99 n/a (needs 100 samples)"),
               all.size(), c.round_trips_per_sample, c.round_trips_per_sample == 1 ? "" : "s");
  }
  for (const GuestChase& c : o.chase) {
    std::string what = fmt::format("pointer chase {} on vCPU {}", format_bytes(c.bytes), c.cpu);
    if (!c.error.empty()) fmt::print(out, "  {}: {}\n", what, c.error);
    else fmt::print(out, "  {}: median {} ns a load (n={})\n", what, num(median(c.samples_ns.pooled()), 1, 2),
                    c.samples_ns.count());
  }
  for (const GuestWakeup& w : o.wakeup) {
    if (!w.error.empty()) {
      fmt::print(out, "  wake-up vCPU {}: {}\n", w.cpu, w.error);
      continue;
    }
    std::vector<double> all = w.samples_us.pooled();
    fmt::print(out, "  wake-up vCPU {} ({}, every {} us): late by p50 {} us, p99 {} us, max {} us (n={})\n", w.cpu,
               w.timer, w.interval_us, num(quantile(all, 0.5), 1, 1), num(quantile(all, 0.99), 1, 1),
               num(maximum(all), 1, 1), all.size());
  }
}

}  // namespace

const Kernel kGuestKernel{
    "guest",
    "inside the guest (vpt-guest-probe through the guest agent or a serial shell): ping-pong between vCPU pairs, "
    "a pointer chase, and wake-up lateness (what players feel as stutter)",
    nullptr, write, read, series, write_text};

}  // namespace vpt
