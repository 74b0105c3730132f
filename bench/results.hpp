// Results: what one `vpt-tune bench` run measured, with the raw samples beside
// the statistics, the host fingerprint and the pins that were in force.
//
// A plain value. results_to_json / results_from_json are its only file form
// ("schema": "vpt-tune/bench/1", documented in docs/bench-notes.md); every
// writer (console, compare, report/) reads this value, never the kernels.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "probe/cpuset.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {

inline constexpr std::string_view kBenchSchema = "vpt-tune/bench/1";

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

// ---- Kernels' results -----------------------------------------------------

// One ordered pair: `from` owns the line (first touch) and times round trips.
struct CoreToCorePair {
  unsigned from_cpu = 0;
  unsigned to_cpu = 0;
  std::vector<double> samples_ns;            // one-way = round trip / 2, warm-up dropped
  unsigned round_trips_per_sample = 0;
  std::string error;                         // "" when measured; the reason otherwise
  friend bool operator==(const CoreToCorePair&, const CoreToCorePair&) = default;
};

struct CoreToCore {
  std::vector<unsigned> cpus;
  // median_ns[i][j]: median one-way latency from cpus[i] to cpus[j];
  // nullopt on the diagonal and where the pair failed or had too few samples.
  std::vector<std::vector<std::optional<double>>> median_ns;
  std::vector<CoreToCorePair> pairs;
  unsigned warmup_samples_discarded = 0;
  friend bool operator==(const CoreToCore&, const CoreToCore&) = default;
};

struct LatencyPoint {
  std::uint64_t bytes = 0;
  std::optional<double> ns;                  // median ns per load
  std::string level;                         // "L1", "L2", "L3", "DRAM", "L2-L3", "beyond L2", ...
  std::vector<double> samples_ns;
  std::string error;
  friend bool operator==(const LatencyPoint&, const LatencyPoint&) = default;
};

struct InterferencePoint {
  std::uint64_t bytes = 0;
  std::string sized_to;                      // "L2", "L3", or why another size was taken
  unsigned cpu = 0;                          // where the pointer chase ran
  CpuSet neighbour_cpus;                     // where the cache thrasher ran
  std::optional<double> quiet_ns, noisy_ns, ratio;   // medians; ratio = noisy / quiet
  std::vector<double> quiet_samples_ns, noisy_samples_ns;
  std::string error;
  friend bool operator==(const InterferencePoint&, const InterferencePoint&) = default;
};

struct WakeupResult {
  unsigned cpu = 0;
  std::optional<double> p50_us, p99_us, max_us;
  std::vector<double> samples_us;            // lateness of each wake-up, warm-up dropped
  std::string error;
  friend bool operator==(const WakeupResult&, const WakeupResult&) = default;
};

// How the kernels were run, so that a reader can judge the numbers.
struct Method {
  unsigned c2c_samples = 0, c2c_round_trips = 0, c2c_warmup = 0;
  double c2c_budget_s = 0;                   // per ordered pair
  unsigned chase_cpu = 0;
  unsigned chase_samples = 0, chase_warmup = 0;
  std::uint64_t chase_loads_per_sample = 0;
  unsigned line_bytes = 64;
  unsigned interference_samples = 0, interference_rounds = 0;
  std::uint64_t thrash_bytes = 0;
  unsigned wakeup_count = 0, wakeup_warmup = 0;
  unsigned wakeup_interval_us = 0;
  std::string wakeup_policy;                 // "SCHED_OTHER"
  friend bool operator==(const Method&, const Method&) = default;
};

struct Results {
  std::string schema{kBenchSchema};
  std::string tool_version;
  std::string created;                       // UTC, ISO 8601
  std::string mode;                          // "quick" or "thorough"
  double duration_s = 0;
  HostFingerprint host;
  CpuSet measured_cpus;
  std::optional<DomainInForce> domain;       // --domain runs only
  Method method;
  std::optional<CoreToCore> core_to_core;    // nullopt: fewer than 2 CPUs to measure
  std::vector<LatencyPoint> memory_latency;
  std::vector<InterferencePoint> interference;
  std::vector<WakeupResult> wakeup;          // JSON "wakeup" = the first; "wakeup_by_cpu" = all
  // In-guest measurements (issue 7): kept verbatim as JSON text until that
  // section gets its own type, so files written by a newer tool round-trip.
  std::optional<std::string> guest_json;
  std::vector<std::string> warnings;
  friend bool operator==(const Results&, const Results&) = default;
};

// ---- File form ------------------------------------------------------------

// JSON text (pretty-printed). Never throws for a well-formed value.
std::string results_to_json_text(const Results& results);
// Throws BenchInputError "cannot read results '<name>': <reason>" on malformed
// JSON, another schema, or a missing/ill-typed field.
Results results_from_json_text(std::string_view text, const std::string& name);

// Throws BenchInputError when the file cannot be read/written; write refuses
// to replace an existing file unless `overwrite`.
Results load_results_file(const std::string& path);
void save_results_file(const Results& results, const std::string& path, bool overwrite);

}  // namespace vpt
