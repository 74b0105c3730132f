// Results: what one `vpt-tune bench` run measured, with the raw samples beside
// the statistics, the host fingerprint and the pins that were in force.
//
// A plain value. results_to_json / results_from_json are its only file form
// ("schema": "vpt-tune/bench/2", documented in docs/bench-notes.md; bench/1
// files are still read); every writer (console, compare, report/) reads this
// value, never the kernels.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/cpuset.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {

inline constexpr std::string_view kBenchSchema = "vpt-tune/bench/2";
// Still read: one round a kernel, the method of every kernel in one "method" object.
inline constexpr std::string_view kBenchSchema1 = "vpt-tune/bench/1";

// Bad input to bench or compare: CPUs that cannot be measured, unreadable or
// foreign results files, results from different hosts. One line for the user,
// "cannot <verb> <thing> '<name>': <reason>"; main() exits with 2.
class BenchInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CacheSize {
  int level = 0;                 // data or unified cache of that level
  std::uint64_t size_bytes = 0;  // of one instance
  friend bool operator==(const CacheSize&, const CacheSize&) = default;
};

// What the numbers depend on besides the pinning. Unknown is nullopt.
struct HostFingerprint {
  std::string hostname;
  std::string cpu_model;                     // /proc/cpuinfo "model name"
  std::string cpu_vendor;
  std::optional<std::string> microcode;      // /proc/cpuinfo "microcode" (VMs often hide it)
  std::string kernel;                        // uname release
  std::optional<std::string> bios_version;   // /sys/class/dmi/id/bios_version
  std::optional<std::string> bios_date;
  unsigned online_cpus = 0;
  CpuSet allowed_cpus;                       // the run's sched_getaffinity mask
  std::optional<std::string> governor;       // cpufreq scaling_governor ("mixed: ..." when CPUs differ)
  std::optional<bool> smt_active;
  CpuSet isolcpus;
  CpuSet nohz_full;
  bool hypervisor = false;                   // "hypervisor" CPU flag: this host is itself a VM
  std::optional<std::string> transparent_hugepage;  // the [selected] mode
  std::vector<CacheSize> caches;             // L1d, L2, L3 as the host model knows them
  friend bool operator==(const HostFingerprint&, const HostFingerprint&) = default;
};

// ---- What was in force ----------------------------------------------------

enum class ThreadKind { Vcpu, Emulator, IoThread, Other };
std::string_view to_string(ThreadKind kind);

// One QEMU thread: where libvirt says it is pinned, where the kernel lets it run.
struct ThreadCheck {
  ThreadKind kind = ThreadKind::Other;
  std::optional<unsigned> index;             // vCPU number or iothread id
  int tid = 0;
  std::string comm;                          // "CPU 0/TCG", "IO iothread1", ...
  std::optional<CpuSet> pinned;              // the domain's pin (emulator pin for Other)
  std::optional<CpuSet> actual;              // Cpus_allowed_list at the start of the run
  std::optional<bool> matches;               // actual == pinned
  // Over the run; nullopt when the thread ended or /proc did not say.
  std::optional<std::uint64_t> migrations;               // se.nr_migrations
  std::optional<std::uint64_t> nonvoluntary_switches;    // nonvoluntary_ctxt_switches
  friend bool operator==(const ThreadCheck&, const ThreadCheck&) = default;
};

struct DomainInForce {
  std::string uri;
  std::string name;
  std::optional<int> qemu_pid;               // nullopt: no QEMU process found (test driver, remote host)
  LivePins pins;                             // libvirt's live pins at the start of the run
  std::vector<ThreadCheck> threads;
  friend bool operator==(const DomainInForce&, const DomainInForce&) = default;
};

// ---- Samples in rounds -----------------------------------------------------

// A metric's samples in the rounds that took them. A run measures every kernel
// in several interleaved rounds (Results::rounds), so that compare can test the
// rounds' medians: a disturbance that lasts a second moves one round, not the
// verdict. Files of schema bench/1 had no rounds: they read as one round.
struct RoundSamples {
  std::vector<std::vector<double>> rounds;
  // `samples` in `rounds` rounds of consecutive samples, as equal as can be.
  static RoundSamples split(const std::vector<double>& samples, unsigned rounds);
  std::vector<double> pooled() const;        // every sample, in the order taken
  void append(const RoundSamples& other);    // round r of `other` joins round r of this
  std::size_t count() const;                 // samples in all rounds
  bool empty() const { return count() == 0; }
  friend bool operator==(const RoundSamples&, const RoundSamples&) = default;
};

// ---- Kernels' results -----------------------------------------------------
// One struct per kernel, with how it was run (`method`) beside what it
// measured. The kernel table (bench/kernel_table.hpp) reads and writes each.

// One ordered pair: `from` owns the line (first touch) and times round trips.
struct CoreToCorePair {
  unsigned from_cpu = 0;
  unsigned to_cpu = 0;
  RoundSamples samples_ns;                   // one-way = round trip / 2, warm-up dropped
  unsigned round_trips_per_sample = 0;       // calibrated in the first round, kept for the others
  std::string error;                         // "" when measured; the reason otherwise
  friend bool operator==(const CoreToCorePair&, const CoreToCorePair&) = default;
};

struct CoreToCoreMethod {
  unsigned samples = 0;                      // per pair, all rounds
  unsigned round_trips_per_sample = 0;       // upper bound
  unsigned warmup_per_round = 0;             // samples taken and dropped, per pair and round
  double budget_s_per_pair = 0;              // all rounds
  friend bool operator==(const CoreToCoreMethod&, const CoreToCoreMethod&) = default;
};

struct CoreToCore {
  CoreToCoreMethod method;
  std::vector<unsigned> cpus;
  // median_ns[i][j]: median one-way latency from cpus[i] to cpus[j];
  // nullopt on the diagonal and where the pair failed or had too few samples.
  std::vector<std::vector<std::optional<double>>> median_ns;
  std::vector<CoreToCorePair> pairs;
  friend bool operator==(const CoreToCore&, const CoreToCore&) = default;
};

struct LatencyPoint {
  std::uint64_t bytes = 0;
  std::optional<double> ns;                  // median ns per load
  std::string level;                         // "L1", "L2", "L3", "DRAM", "L2-L3", "beyond L2", ...
  std::uint64_t loads_per_sample = 0;        // fewer than the method's where one load is slow
  RoundSamples samples_ns;
  std::string error;
  friend bool operator==(const LatencyPoint&, const LatencyPoint&) = default;
};

struct MemoryLatencyMethod {
  unsigned cpu = 0;                          // where every size ran
  unsigned samples = 0;                      // per size, all rounds
  unsigned warmup_per_round = 0;             // samples taken and dropped, per size and round
  std::uint64_t loads_per_sample = 0;        // at most; fewer where a sample would last over max_sample_ms
  double max_sample_ms = 0;
  unsigned line_bytes = 64;
  friend bool operator==(const MemoryLatencyMethod&, const MemoryLatencyMethod&) = default;
};

struct MemoryLatency {
  MemoryLatencyMethod method;
  std::vector<LatencyPoint> points;
  friend bool operator==(const MemoryLatency&, const MemoryLatency&) = default;
};

struct InterferencePoint {
  std::uint64_t bytes = 0;
  std::string sized_to;                      // "L2", "L3", or why another size was taken
  unsigned cpu = 0;                          // where the pointer chase ran
  CpuSet neighbour_cpus;                     // where the cache thrasher ran
  std::optional<double> quiet_ns, noisy_ns, ratio;   // medians; ratio = noisy / quiet
  RoundSamples quiet_samples_ns, noisy_samples_ns;
  std::string error;
  friend bool operator==(const InterferencePoint&, const InterferencePoint&) = default;
};

struct InterferenceMethod {
  unsigned samples_per_condition = 0;        // all rounds
  unsigned phases_per_round = 0;             // quiet/noisy alternations inside a round
  std::uint64_t thrash_bytes = 0;
  friend bool operator==(const InterferenceMethod&, const InterferenceMethod&) = default;
};

struct Interference {
  InterferenceMethod method;
  std::vector<InterferencePoint> points;
  friend bool operator==(const Interference&, const Interference&) = default;
};

struct WakeupResult {
  unsigned cpu = 0;
  std::optional<double> p50_us, p99_us, max_us;
  RoundSamples samples_us;                   // lateness of each wake-up, warm-up dropped
  std::string error;
  friend bool operator==(const WakeupResult&, const WakeupResult&) = default;
};

struct WakeupMethod {
  unsigned count = 0;                        // per CPU, all rounds
  unsigned warmup_per_round = 0;             // wake-ups dropped, per CPU and round
  unsigned interval_us = 0;
  std::string policy;                        // "SCHED_OTHER, timer slack 1 ns"
  friend bool operator==(const WakeupMethod&, const WakeupMethod&) = default;
};

struct Wakeup {
  WakeupMethod method;
  std::vector<WakeupResult> cpus;            // one per measured CPU
  friend bool operator==(const Wakeup&, const Wakeup&) = default;
};

// ---- Steal: what the guest's vCPU threads waited for a host CPU -----------

// One vCPU thread over one kind of window. A sample is one short interval:
// run-queue wait / wall time (the steal the guest suffers) and run time / wall
// time (how much the vCPU wanted to run: an idle vCPU cannot suffer steal).
struct VcpuSteal {
  unsigned vcpu = 0;
  int tid = 0;
  RoundSamples wait_percent;                 // /proc/PID/task/TID/schedstat field 2, per wall time
  RoundSamples run_percent;                  // field 1, per wall time
  std::uint64_t timeslices = 0;              // field 3, growth over the window
  std::string error;                         // the thread ended, or /proc did not say
  friend bool operator==(const VcpuSteal&, const VcpuSteal&) = default;
};

struct StealWindow {
  std::string kind;                          // "quiet" or "guest probe"
  std::string chosen;                        // how the window was chosen, for the reader
  double sample_s = 0;                       // length of one sample
  double total_s = 0;                        // all samples
  std::vector<VcpuSteal> vcpus;
  friend bool operator==(const StealWindow&, const StealWindow&) = default;
};

struct Steal {
  std::vector<StealWindow> windows;
  friend bool operator==(const Steal&, const Steal&) = default;
};

// ---- In the guest -----------------------------------------------------------

struct GuestC2c {
  unsigned cpu_a = 0, cpu_b = 0;             // guest CPU (vCPU) numbers
  unsigned round_trips_per_sample = 0;
  RoundSamples samples_ns;                   // round trip, ns, one per sample, warm-up dropped
  std::string error;
  friend bool operator==(const GuestC2c&, const GuestC2c&) = default;
};

struct GuestChase {
  unsigned cpu = 0;
  std::uint64_t bytes = 0;
  std::uint64_t loads_per_sample = 0;
  RoundSamples samples_ns;                   // ns per load, one per sample
  std::string error;
  friend bool operator==(const GuestChase&, const GuestChase&) = default;
};

struct GuestWakeup {
  unsigned cpu = 0;
  unsigned interval_us = 0;
  std::string timer;                         // "clock_nanosleep", "high-resolution waitable timer", ...
  RoundSamples samples_us;                   // lateness of each wake-up
  std::string error;
  friend bool operator==(const GuestWakeup&, const GuestWakeup&) = default;
};

// What vpt-guest-probe printed (its line protocol: guest/README.md), read by
// parse_guest_probe_output (bench/guest_probe.hpp).
struct GuestProbeOutput {
  std::optional<unsigned> version;           // from the "probe" line
  std::optional<std::string> os;             // "linux", "windows" (version 2)
  std::optional<unsigned> online_cpus;       // what the guest kernel brought up
  std::optional<double> timer_ns;            // cost of one clock read
  unsigned rounds = 1;                       // interleaved rounds of the probe's kernels
  std::vector<GuestC2c> c2c;
  std::vector<GuestChase> chase;
  std::vector<GuestWakeup> wakeup;
  bool complete = false;                     // the "end" line came
  std::vector<std::string> problems;         // malformed lines, samples without a summary, ...
  friend bool operator==(const GuestProbeOutput&, const GuestProbeOutput&) = default;
};

// One run of vpt-guest-probe inside the guest: how it got there, and what came back.
struct GuestResults {
  std::string channel;                       // "agent" or "serial"
  std::string via;                           // the serial socket, or "qemu-ga <version>"
  std::string command;                       // as run in the guest
  std::optional<std::string> os;             // guest-get-osinfo's pretty-name (agent only)
  std::optional<int> exit_code;
  double duration_s = 0;
  std::string error;                         // the channel failed, or the probe did
  GuestProbeOutput output;
  friend bool operator==(const GuestResults&, const GuestResults&) = default;
};

struct Results {
  std::string schema{kBenchSchema};
  std::string tool_version;
  std::string created;                       // UTC, ISO 8601
  std::string mode;                          // "quick" or "thorough"
  double duration_s = 0;
  unsigned rounds = 1;                       // interleaved rounds of every kernel
  HostFingerprint host;
  CpuSet measured_cpus;
  std::optional<DomainInForce> domain;       // --domain runs only
  // A kernel's section is nullopt when it did not run.
  std::optional<CoreToCore> core_to_core;    // fewer than 2 CPUs to measure: not run
  std::optional<MemoryLatency> memory_latency;
  std::optional<Interference> interference;
  std::optional<Wakeup> wakeup;
  std::optional<Steal> steal;                // --domain with its QEMU on this host
  std::optional<GuestResults> guest;         // --domain with a guest channel
  std::vector<std::string> warnings;
  friend bool operator==(const Results&, const Results&) = default;
};

// ---- File form ------------------------------------------------------------

// JSON text (pretty-printed). Never throws for a well-formed value.
std::string results_to_json_text(const Results& results);
// Throws BenchInputError "cannot read results '<name>': <reason>" on malformed
// JSON, another schema, or a missing/ill-typed field. Reads bench/2 and bench/1.
Results results_from_json_text(std::string_view text, const std::string& name);

// load throws BenchInputError when the file cannot be read. save refuses to
// replace an existing file unless `overwrite` (BenchInputError) and writes
// with write_file_atomically (FileWriteError when the disk or directory fails).
Results load_results_file(const std::string& path);
void save_results_file(const Results& results, const std::string& path, bool overwrite);

}  // namespace vpt
