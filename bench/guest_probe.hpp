// The in-guest probe's side of bench (internal header; tests include it):
// finding the command channel in a domain's XML, talking to it, reading the
// probe's output lines, and the results' "guest" section built from them.
// The probe itself is tests/live/guest/vpt-guest-probe.c; its output format is
// described at the top of that file.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/results.hpp"

namespace vpt {

// ---- The command channel ----------------------------------------------------

// The unix socket of the domain's command channel: the <source path=...> of a
// <serial type='unix'> whose <target port='1'/> and <source mode='bind'> (QEMU
// listens). nullopt when the domain has none. Throws std::runtime_error on XML
// that does not parse.
std::optional<std::string> guest_channel_path(std::string_view domain_xml);

struct GuestReply {
  std::string output;  // what the command printed, '\r' dropped
  int exit_code = 0;
};

// Connects to the channel, writes one line
//   echo VPT-BEGIN-<nonce>; COMMAND; echo VPT-END-<nonce> rc=$?
// and returns what the guest printed between the two markers (stale output
// before the begin marker is skipped). Throws std::runtime_error "cannot run
// '<command>' in the guest through '<socket>': <reason>" when the socket
// refuses, the command has a line break, or the end marker does not come
// within `timeout`.
GuestReply run_guest_command(const std::string& socket_path, std::string_view command,
                             std::chrono::milliseconds timeout);

// ---- The probe's output -----------------------------------------------------

struct GuestC2c {
  unsigned cpu_a = 0, cpu_b = 0;              // guest CPU (vCPU) numbers
  unsigned round_trips_per_sample = 0;
  std::vector<double> samples_ns;             // round trip, ns, one per sample, warm-up dropped
  std::string error;
  friend bool operator==(const GuestC2c&, const GuestC2c&) = default;
};

struct GuestChase {
  unsigned cpu = 0;
  std::uint64_t bytes = 0;
  std::uint64_t loads_per_sample = 0;
  std::vector<double> samples_ns;             // ns per load, one per sample
  std::string error;
  friend bool operator==(const GuestChase&, const GuestChase&) = default;
};

struct GuestProbeOutput {
  std::optional<unsigned> version;            // from the "probe" line
  std::optional<unsigned> online_cpus;        // what the guest kernel brought up
  std::optional<double> timer_ns;
  std::vector<GuestC2c> c2c;
  std::vector<GuestChase> chase;
  bool complete = false;                      // the "end" line came
  std::vector<std::string> problems;          // malformed lines, samples without a summary, ...
  friend bool operator==(const GuestProbeOutput&, const GuestProbeOutput&) = default;
};

// Reads the probe's lines; other lines (a shell's messages) are ignored, a
// known record that does not parse is named in `problems`. Never throws.
GuestProbeOutput parse_guest_probe_output(std::string_view text);

// ---- The results' "guest" section -------------------------------------------

// One in-guest run: where and how it ran, and what came back.
struct GuestRun {
  std::string channel;                        // socket path
  std::string command;
  std::optional<int> exit_code;
  double duration_s = 0;
  std::string error;                          // the channel failed, or the probe did
  GuestProbeOutput output;
};

// JSON text of the section (medians and p99 recomputed from the samples by
// bench/statistics; nullopt below their sample counts).
std::string guest_section_json(const GuestRun& run);

// A metric compare tests: the in-guest ping-pong per vCPU pair ("guest_c2c
// vCPU 0 <-> 1, round trip", us) and the chase per size ("guest_chase 16 KiB
// on vCPU 0", ns per load). Empty when the file has no guest section or one
// this version cannot read (a newer tool's: its rows are simply not compared).
struct GuestSeries {
  std::string metric;
  std::string unit;
  std::vector<double> samples;
};
std::vector<GuestSeries> guest_series(const Results& results);

}  // namespace vpt
