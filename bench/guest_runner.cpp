// `bench --domain`: the in-guest probe run through the domain's command
// channel, stored as the results' "guest" section, and its console lines.
#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/guest_probe.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

void run_guest_probe(Results& results, const MeasuredDomain& domain, const GuestProbeOptions& options,
                     const ProgressFn& progress) {
  std::optional<std::string> channel;
  try {
    channel = guest_channel_path(domain.connection.live_xml(domain.name));
  } catch (const std::exception& e) {
    results.warnings.push_back(fmt::format("in-guest probe not run: domain '{}': {}", domain.name, e.what()));
    return;
  }
  if (!channel) {
    results.warnings.push_back(fmt::format(
        "in-guest probe not run: domain '{}' has no command channel (a <serial type='unix'> with <source "
        "mode='bind'> on <target port='1'/> serving a shell, as tests/live/guest/init does)",
        domain.name));
    return;
  }
  GuestRun run;
  run.channel = *channel;
  run.command = options.command.empty() ? (options.quick ? "vpt-guest-probe --quick" : "vpt-guest-probe")
                                        : options.command;
  if (progress) progress(fmt::format("in-guest probe '{}' through {}", run.command, run.channel));
  const auto start = std::chrono::steady_clock::now();
  try {
    GuestReply reply = run_guest_command(run.channel, run.command, options.timeout);
    run.exit_code = reply.exit_code;
    run.output = parse_guest_probe_output(reply.output);
    if (reply.exit_code != 0)
      run.error = fmt::format("'{}' exited with {} in the guest", run.command, reply.exit_code);
  } catch (const std::exception& e) {
    run.error = e.what();
  }
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string who = fmt::format("in-guest probe of domain '{}'", domain.name);
  if (!run.error.empty()) results.warnings.push_back(fmt::format("{}: {}", who, run.error));
  for (const std::string& p : run.output.problems) results.warnings.push_back(fmt::format("{}: {}", who, p));
  for (const GuestC2c& c : run.output.c2c)
    if (!c.error.empty())
      results.warnings.push_back(fmt::format("{}: ping-pong vCPU {} <-> {}: {}", who, c.cpu_a, c.cpu_b, c.error));
  if (run.output.online_cpus && *run.output.online_cpus < 2)
    results.warnings.push_back(fmt::format(
        "{}: the guest brought up {} CPU (a TCG guest without <features><acpi/><apic/></features> sees one)", who,
        *run.output.online_cpus));
  results.guest_json = guest_section_json(run);
}

void write_guest_text(std::ostream& out, const Results& results) {
  if (!results.guest_json) return;
  using nlohmann::json;
  json g = json::parse(*results.guest_json, nullptr, false);
  if (!g.is_object()) return;
  auto str = [](const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  auto num = [](const json& j, const char* key, double scale, int decimals) {
    return j.contains(key) && j[key].is_number() ? fmt::format("{:.{}f}", j[key].get<double>() * scale, decimals)
                                                  : std::string("n/a");
  };
  auto count = [](const json& j) { return j.contains("samples_ns") && j["samples_ns"].is_array() ? j["samples_ns"].size() : 0; };
  fmt::print(out, "\nIn the guest ({} CPUs online): '{}' through {}, {} s\n",
             g.contains("online_cpus") && g["online_cpus"].is_number() ? g["online_cpus"].dump() : "?",
             str(g, "command"), str(g, "channel"), num(g, "duration_s", 1, 1));
  if (!str(g, "error").empty()) fmt::print(out, "  {}\n", str(g, "error"));
  if (g.contains("c2c") && g["c2c"].is_array())
    for (const json& c : g["c2c"]) {
      std::string pair = c.contains("cpus") && c["cpus"].is_array() && c["cpus"].size() == 2
                             ? fmt::format("vCPU {} <-> {}", c["cpus"][0].dump(), c["cpus"][1].dump())
                             : std::string("?");
      if (!str(c, "error").empty()) {
        fmt::print(out, "  ping-pong {}: {}\n", pair, str(c, "error"));
        continue;
      }
      std::string p99 = c.contains("p99_ns") && c["p99_ns"].is_number()
                            ? fmt::format("p99 {} us", num(c, "p99_ns", 1e-3, 2))
                            : std::string("p99 n/a (needs 100 samples)");
      unsigned k = c.contains("round_trips_per_sample") && c["round_trips_per_sample"].is_number_unsigned()
                       ? c["round_trips_per_sample"].get<unsigned>()
                       : 0;
      fmt::print(out, "  ping-pong {}: median {} us a round trip, {} (n={}, {} round trip{} a sample)\n", pair,
                 num(c, "median_ns", 1e-3, 2), p99, count(c), k, k == 1 ? "" : "s");
    }
  if (g.contains("chase") && g["chase"].is_array())
    for (const json& c : g["chase"]) {
      std::string what = fmt::format(
          "pointer chase {} on vCPU {}",
          c.contains("bytes") && c["bytes"].is_number_unsigned() ? format_bytes(c["bytes"].get<std::uint64_t>()) : "?",
          c.contains("cpu") && c["cpu"].is_number_unsigned() ? c["cpu"].dump() : "?");
      if (!str(c, "error").empty()) fmt::print(out, "  {}: {}\n", what, str(c, "error"));
      else fmt::print(out, "  {}: median {} ns a load (n={})\n", what, num(c, "median_ns", 1, 2), count(c));
    }
}

}  // namespace vpt
