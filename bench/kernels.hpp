// The measurement kernels. Each one runs its own threads, pins each of them to
// exactly the CPU it measures, and returns raw samples: no aggregation, no
// printing. The runner (runner.cpp) turns samples into Results.
//
// Every kernel first checks its CPUs with require_usable_cpus() and throws
// BenchInputError for a CPU that is offline or outside this process's affinity
// mask; a failure while running (pinning refused, the partner never answering)
// is a std::runtime_error naming the CPUs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "bench/results.hpp"
#include "common/cpuset.hpp"

namespace vpt {

// ---- CPUs -----------------------------------------------------------------

CpuSet online_cpus();                      // /sys/devices/system/cpu/online (sysconf count if unreadable)
CpuSet allowed_cpus();                     // sched_getaffinity of this process
// Throws BenchInputError: "cannot measure CPU '4095': not online (online CPUs: 0-1)"
// or "...: not in this process's CPU affinity (allowed CPUs: 0)".
void require_usable_cpus(const CpuSet& cpus);
// Pins the calling thread to one CPU. Throws std::system_error with errno.
void pin_this_thread(unsigned cpu);

// ---- 1. Core-to-core latency ----------------------------------------------

struct CoreToCoreConfig {
  unsigned samples = 300;                  // kept samples (after warm-up)
  unsigned round_trips_per_sample = 100;   // upper bound; fewer when one round trip is slow
  unsigned warmup_samples = 20;            // taken and discarded first
  std::chrono::duration<double> budget{0.5};  // stop early (fewer samples) past this
  std::chrono::duration<double> timeout{2.0}; // one round trip longer than this is a failure
  unsigned fixed_round_trips = 0;          // > 0: use this many a sample instead of calibrating
};

struct CoreToCoreSamples {
  std::vector<double> one_way_ns;          // per sample: elapsed / round trips / 2
  unsigned round_trips_per_sample = 0;
};

// A fresh page is mapped and first touched by the thread on `from_cpu` after
// pinning (so it sits on that CPU's NUMA node and in its cache, not on a CPU
// of an earlier pair), then a counter in its first line is bounced:
// `from` writes 2k+1, `to` answers 2k+2. The page is unmapped afterwards.
CoreToCoreSamples measure_core_to_core(unsigned from_cpu, unsigned to_cpu, const CoreToCoreConfig& config);

// ---- 2. Memory latency (pointer chase) ------------------------------------

inline constexpr std::size_t kLineBytes = 64;

struct PointerChaseConfig {
  unsigned samples = 15;
  unsigned warmup_samples = 1;
  std::uint64_t loads_per_sample = 1u << 18;
  std::uint64_t seed = 42;
};

// ns per dependent load over `bytes` of memory: one node per 64-byte line,
// linked in one random cycle (every line visited once per lap, in an order no
// prefetcher can follow). The buffer is allocated by the pinned thread.
std::vector<double> measure_pointer_chase(unsigned cpu, std::size_t bytes, const PointerChaseConfig& config);

// ---- 3. Interference --------------------------------------------------------

struct InterferenceConfig {
  unsigned samples = 30;                   // per condition, spread over `rounds`
  unsigned rounds = 3;                     // quiet, noisy, quiet, noisy, ... against drift
  unsigned warmup_samples = 2;
  std::uint64_t loads_per_sample = 1u << 17;
  std::size_t thrash_bytes = 64u << 20;    // each neighbour streams writes over this
  std::uint64_t seed = 42;
};

struct InterferenceSamples {
  std::vector<double> quiet_ns, noisy_ns;
};

// The pointer chase on `chase_cpu`, alternately with the neighbours idle
// (blocked) and with one cache-thrashing thread per CPU of `neighbour_cpus`.
// The neighbour set must not contain chase_cpu (that would measure time
// sharing, not cache interference): std::invalid_argument.
InterferenceSamples measure_interference(unsigned chase_cpu, const CpuSet& neighbour_cpus, std::size_t bytes,
                                         const InterferenceConfig& config);

class ChaseBuffer;
struct Neighbours;

// The same over several calls: the neighbours (blocked while quiet) and one
// chase buffer per size are set up once and kept until destruction.
class InterferenceSession {
 public:
  // Throws as measure_interference.
  InterferenceSession(unsigned chase_cpu, const CpuSet& neighbour_cpus, const std::vector<std::size_t>& sizes,
                      const InterferenceConfig& config);
  ~InterferenceSession();
  InterferenceSession(const InterferenceSession&) = delete;
  InterferenceSession& operator=(const InterferenceSession&) = delete;
  // `samples` per condition for sizes[which], in `phases` quiet/noisy alternations.
  InterferenceSamples measure(std::size_t which, unsigned samples, unsigned phases);
  // A new chase buffer (new pages, new cycle) for sizes[which], first touched
  // on the chasing CPU, so that separate calls do not repeat one allocation's
  // cache-set luck; the old one is kept until destruction, so the new one
  // cannot get its pages back. Throws std::system_error / std::bad_alloc.
  void renew_buffer(std::size_t which, std::uint64_t seed);

 private:
  void stop_neighbours();
  unsigned chase_cpu_;
  InterferenceConfig config_;
  std::vector<std::size_t> sizes_;
  std::unique_ptr<Neighbours> shared_;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<ChaseBuffer>> buffers_;
  std::vector<std::unique_ptr<ChaseBuffer>> retired_;  // replaced by renew_buffer
};

// ---- 4. Wake-up latency -----------------------------------------------------

struct WakeupConfig {
  unsigned count = 1000;
  unsigned warmup = 10;
  std::chrono::microseconds interval{1000};
};

// cyclictest-style: one SCHED_OTHER thread per CPU (timer slack 1 ns), all at once, each sleeping
// to absolute CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME) and
// recording how late it woke, in µs. result[i] belongs to cpus[i].
std::vector<std::vector<double>> measure_wakeup(const std::vector<unsigned>& cpus, const WakeupConfig& config);

}  // namespace vpt
