// Running the benchmarks and comparing two runs: the entry points the
// `bench` and `compare` commands call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/results.hpp"
#include "common/cpuset.hpp"
#include "probe/topology.hpp"
#include "virt/libvirt_connection.hpp"

namespace vpt {

// ---- A live domain ----------------------------------------------------------

// A QEMU process the caller knows itself (a Proxmox VM's PID file), and which
// of its threads are which I/O thread where thread names cannot tell:
// qemu-server's iothread ids ("iothread-virtioscsi0") are longer than the 15
// characters a thread name holds, so QEMU cannot name those threads.
struct QemuProcess {
  int pid = 0;
  std::map<int, unsigned> iothread_tids;  // thread id -> LivePins::iothreads id
};

// A running domain to measure: the connection it is on (libvirt in
// production, qemu_process_view() for a Proxmox VM, a fake in tests) and its
// name there.
struct MeasuredDomain {
  Hypervisor& connection;
  std::string name;
  std::optional<QemuProcess> process = std::nullopt;  // when the caller knows it; nullopt: found by name (find_qemu_pid)
};

// Looks NAME or UUID up on the connection and requires it to be running.
// Throws DomainInputError "cannot find domain 'X' on 'URI': ..." (bad input,
// as for suggest), BenchInputError "cannot measure domain 'X': it is not
// running", LibvirtError.
MeasuredDomain open_measured_domain(Hypervisor& connection, const std::string& name_or_uuid);

// A running QEMU process that libvirt does not manage (a Proxmox VM, whose
// PID comes from qemu-server's PID file) as a read-only Hypervisor holding one
// running domain, NAME, whose live pins are EXPECTED (the pins its hookscript
// sets): bench checks the process's threads against them. What needs libvirt
// (definitions, the guest agent's channel, live pinning) throws LibvirtError
// saying that this VM is not a libvirt domain.
std::unique_ptr<Hypervisor> qemu_process_view(std::string uri, std::string name, LivePins expected);

// ---- Running ----------------------------------------------------------------

struct BenchOptions {
  bool quick = false;
  std::optional<unsigned> rounds;  // interleaved rounds of every kernel; default default_rounds(quick)
  CpuSet cpus;             // core-to-core and wake-up CPUs; empty = the guest's CPUs, else all allowed
  CpuSet neighbour_cpus;   // interference thrashers; empty = chosen (see run_bench)
};

// 5 for --quick, 10 for a thorough run: an exact test of 5 rounds a side can
// reach p = 2/252 < 0.01.
unsigned default_rounds(bool quick);

// Called before each step that may take a while ("memory latency 64 MiB").
using ProgressFn = std::function<void(std::string_view step)>;

// Runs every kernel of the table (bench/kernel_table.hpp) on this host in
// interleaved rounds and returns their samples and statistics. `host` must be
// the live host's model (probe_live_host()). With a domain, the QEMU threads'
// affinity and counters are read from /proc, the kernels run on the CPUs the
// vCPUs may use, and the vCPU threads' steal is sampled in each round.
// CPU choice: core-to-core over options.cpus (default: guest CPUs if two or
// more, else all allowed online CPUs); memory latency on the first of them;
// interference chases on the first measured CPU with neighbours on
// options.neighbour_cpus (default: the emulator/iothread CPUs outside the
// guest's, else any allowed CPU outside the measured ones, else any other
// allowed CPU); wake-up on every measured CPU at once.
// Throws BenchInputError for unusable CPUs; a kernel failing on one pair or
// size is recorded as that row's error and the run goes on.
Results run_bench(const BenchOptions& options, const Topology& host, const MeasuredDomain* domain,
                  const ProgressFn& progress);

// Host fingerprint from /proc, /sys and the host model.
HostFingerprint read_host_fingerprint(const Topology& host);

// The cache level a working set of `bytes` fits in by the host model's sizes
// (sorted by level): "L1", "L2", "L3", then "L3-DRAM" below 4x L3 and "DRAM"
// from there; "beyond L2 (L3 unknown)" when the model has no L3.
std::string level_for_bytes(std::uint64_t bytes, const std::vector<CacheSize>& caches);

// ---- In the guest ---------------------------------------------------------------

// How the in-guest probe gets into the guest. Auto: the guest agent when the
// domain has its channel and the agent answers guest-ping, else the serial
// command channel, else none.
enum class GuestChannel { Auto, Agent, Serial, None };
std::string_view to_string(GuestChannel channel);  // "auto", "agent", "serial", "none"

struct GuestProbeOptions {
  bool quick = false;
  GuestChannel channel = GuestChannel::Auto;
  std::string command;                         // serial: the command line; "" = vpt-guest-probe [--quick] --rounds R
  std::string probe_dir;                       // agent: where vpt-guest-probe{,.exe} are; "" = found (guest/README.md)
  std::chrono::milliseconds timeout{0};        // the whole probe run; 0 = 60 s quick, 300 s thorough
  std::chrono::seconds agent_timeout{10};      // one guest agent command
};

// Runs the in-guest probe (guest/vpt-guest-probe.c) in the domain and stores
// what it printed as results.guest, with the vCPU threads' steal sampled while
// it runs. Through the guest agent: detects the guest's OS (guest-get-osinfo),
// copies the matching probe build into the guest's temporary directory, runs
// it with its output captured, deletes it. Through the serial channel (a
// <serial type='unix'> on target port 1 serving a shell): runs the probe found
// on the guest's PATH. No channel, an agent that is missing, outdated or
// stuck, a probe that fails: a warning says so, with what to do; never throws
// for those, and never waits past the timeouts.
void run_guest_probe(Results& results, const MeasuredDomain& domain, const GuestProbeOptions& options,
                     const ProgressFn& progress);

// ---- Comparing ----------------------------------------------------------------

enum class Verdict { Better, Worse, WithinNoise, NotAvailable };
std::string_view to_string(Verdict verdict);

struct CompareOptions {
  bool allow_different_hosts = false;  // compare results from different hosts anyway
  double alpha = 0.01;         // Mann-Whitney two-sided significance level
  double min_change = 0.05;    // |relative change of the median| below this is noise:
                               // the run-to-run spread measured on a quiet host
  double min_points = 1.0;     // for shares in % (steal): |difference| below this many
                               // percentage points is noise (0.1% -> 0.0% is not "-100%")
  double confidence = 0.95;    // bootstrap interval
};

// What one value of the test is: a whole run (several files a side), one
// round of a run (one file a side), or one sample (files without rounds).
enum class TestUnit { Runs, Rounds, Samples };

struct ComparisonRow {
  std::string metric;          // "core-to-core 0<->1", "memory 64 KiB (L1)", ...
  std::string unit;            // "ns", "us", "x", "%", "count"
  std::size_t runs_before = 0, runs_after = 0;  // files that had this metric
  std::size_t rounds_before = 0, rounds_after = 0;  // rounds with a value (round-level tests)
  std::size_t n_before = 0, n_after = 0;        // samples, all runs pooled
  TestUnit unit_of_test = TestUnit::Samples;
  // The tested statistic (median, p99, ratio, count), of the runs' values, of
  // the rounds' values, or of the pooled samples: the median of those.
  std::optional<double> median_before, median_after;
  std::optional<double> p99_before, p99_after;  // of the pooled samples
  std::optional<double> change;            // relative change of the median, after/before - 1
  // Mann-Whitney, two-sided: exact on the runs' or rounds' values, the normal
  // approximation on the samples.
  std::optional<double> p_value;
  std::optional<double> ci_low, ci_high;   // bootstrap CI (sample-level tests only)
  // Secondary: Mann-Whitney on the pooled samples of a round-level row. Not a
  // verdict: samples of one run are not independent replicates of a layout.
  std::optional<double> sample_p_value;
  Verdict verdict = Verdict::NotAvailable;
  std::string reason;                      // why n/a, or what the verdict rests on
};

struct Comparison {
  std::string before_name, after_name;     // file names, ", "-joined for several runs
  std::size_t runs_before = 1, runs_after = 1;
  CompareOptions options;
  std::vector<ComparisonRow> rows;
  std::vector<std::string> warnings;       // fingerprint differences, mode differences
};

// Lower is better for every metric. A verdict needs p < alpha and |change| >=
// min_change. With several files a side (5 a side can reach p < 0.01) the run
// is the unit, so the variation between runs of one configuration counts as
// noise, as it should. With one file a side the unit is the round: each run
// measures every kernel in interleaved rounds (5 in --quick), and the exact
// test on the rounds' medians sees disturbances that come and go within a
// run. Files without rounds (bench/1) fall back to the samples (and a
// bootstrap interval excluding 0), which see only within-run noise.
// Throws BenchInputError "cannot compare '<before>' with '<after>': they come
// from different hosts (...); use --allow-different-hosts to compare anyway" unless
// options.allow_different_hosts,
// and for an empty side.
Comparison compare_results(const std::vector<Results>& before, const std::vector<Results>& after,
                           const std::vector<std::string>& before_names, const std::vector<std::string>& after_names,
                           const CompareOptions& options);
Comparison compare_results(const Results& before, const Results& after, const std::string& before_name,
                           const std::string& after_name, const CompareOptions& options);

// A share in % (steal per vCPU): its change is a difference in percentage
// points, not a ratio (a ratio of shares near zero means nothing).
bool change_in_points(const ComparisonRow& row);
// The row's change as its writers print it: "+5.0%", "-0.1 pp", "n/a".
std::string change_text(const ComparisonRow& row);

// How many rows have each verdict.
struct VerdictCounts {
  std::size_t better = 0, worse = 0, within_noise = 0, not_available = 0;
};
VerdictCounts count_verdicts(const Comparison& comparison);
// The comparison in one line, first in every writer: "2 metrics better, 0
// worse, 14 within noise, 1 without a test", and with one run a side that its
// verdicts see only the disturbances within a run.
std::string verdict_summary(const Comparison& comparison);

// ---- Writers ------------------------------------------------------------------

void write_results_text(std::ostream& out, const Results& results);
// The summary, the rule of the verdicts and one row per metric in 100 columns;
// `detail` adds each row's p99s, p-values and the reason for its verdict.
void write_comparison_text(std::ostream& out, const Comparison& comparison, bool detail = false);

}  // namespace vpt
