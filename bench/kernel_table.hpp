// The kernel table: every kind of measurement bench makes, each described in
// one place (its own .cpp file): what it measures, how it runs in rounds with
// quick or thorough settings, how its section of the results file is written
// and read, what compare tests, and its lines in the console summary.
//
// run_bench (runner.cpp), the results file (results.cpp), compare
// (compare.cpp) and the console writer (results_writers.cpp) only walk this
// table. Adding a kernel: its file with a `Kernel` entry, one line in
// kernel_table.cpp, one section in Results. Internal to bench/.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "bench/bench.hpp"
#include "bench/domain_threads.hpp"
#include "bench/results.hpp"
#include "bench/results_json.hpp"
#include "probe/topology.hpp"

namespace vpt {

// What every kernel of one run shares, fixed before the first round.
struct RunContext {
  RunContext(const BenchOptions& run_options, const Topology& host_model) : options(run_options), host(host_model) {}
  const BenchOptions& options;
  const Topology& host;
  unsigned rounds = 1;
  CpuSet usable;                       // online and in this process's affinity
  CpuSet measured;                     // the run's CPUs (never empty)
  bool domain = false;                 // measuring a domain
  CpuSet guest_cpus, helper_cpus;      // its vCPUs' CPUs; its emulator and iothread CPUs
  std::optional<int> qemu_pid;         // its QEMU, when on this host
  std::vector<QemuThread> threads;     // QEMU's threads, sorted by tid
  ProgressFn progress;                 // never empty
};

// One kernel during one run: measures 1/rounds of its samples per round.
class KernelRun {
 public:
  virtual ~KernelRun() = default;
  // Round `index` of ctx.rounds. A failure of one pair or size is recorded as
  // that row's error; only BenchInputError escapes.
  virtual void round(unsigned index) = 0;
  // Statistics from the samples, into the kernel's section of `results`.
  virtual void finish(Results& results) = 0;
};

// What compare tests for one metric of one file.
struct Series {
  enum class Statistic {
    Median,      // of `samples` (per round, per run)
    P99,         // the tail of `samples`: what a latency-sensitive guest feels
    Ratio,       // median(noisy) / median(quiet)
    PerRun,      // one counter value a run (`value`)
  };
  std::string metric;                  // "core-to-core CPU 0 <-> 1", the row name
  std::string unit;                    // "ns", "us", "x", "%", "count"
  Statistic statistic = Statistic::Median;
  RoundSamples samples;                // Median, P99; Ratio: the quiet samples
  RoundSamples noisy;                  // Ratio only
  double value = 0;                    // PerRun only
};

struct Kernel {
  std::string_view key;                // its section in the results file: "core_to_core"
  std::string_view measures;           // one sentence for --help and the docs
  // Starts the kernel on this host for one run (it chooses its CPUs, sizes and
  // quick/thorough settings and records them as its method), or nullptr when
  // it does not run here (a warning in `results` says why, when that is news).
  // Null for kernels not run by run_bench (the in-guest probe's).
  std::unique_ptr<KernelRun> (*start)(const RunContext& ctx, Results& results) = nullptr;
  // Its section of the results file, written into `doc`, and read back from a
  // bench/2 or bench/1 document.
  void (*write)(const Results& results, Json& doc) = nullptr;
  void (*read)(const ResultsReader& reader, const Json& doc, Results& results) = nullptr;
  // The metrics compare tests, in the order rows are printed.
  void (*series)(const Results& results, std::vector<Series>& out) = nullptr;
  // Its part of the console summary (nothing when its section is absent).
  void (*write_text)(std::ostream& out, const Results& results) = nullptr;
};

// In run order: host kernels first, then steal and the in-guest section.
const std::vector<const Kernel*>& kernel_table();

extern const Kernel kCoreToCoreKernel;     // core_to_core.cpp
extern const Kernel kMemoryLatencyKernel;  // memory_latency.cpp
extern const Kernel kInterferenceKernel;   // interference.cpp
extern const Kernel kWakeupKernel;         // wakeup.cpp
extern const Kernel kStealKernel;          // steal.cpp
extern const Kernel kGuestKernel;          // guest_results.cpp: the in-guest probe's section

// Samples `total` split over `rounds` as evenly as possible: round `index`'s share.
unsigned share_of_round(unsigned total, unsigned rounds, unsigned index);

}  // namespace vpt
