// Core-to-core latency: one cache line bounced between two pinned threads.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "bench/kernels.hpp"

namespace vpt {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kStop = ~std::uint64_t{0};
// One sample should last long enough that reading the clock (~20-50 ns) is
// noise, and short enough that a preempted vCPU spoils only a few samples.
constexpr double kTargetSampleNs = 50'000;
constexpr unsigned kCalibrationRoundTrips = 16;
constexpr unsigned kCalibrationBatches = 5;

struct Shared {
  std::atomic<int> pinned{0};
  std::atomic<bool> abort{false};
  std::atomic<std::atomic<std::uint64_t>*> line{nullptr};
};

// Spins until `pred()` or until `timeout` passes (checked every 64k spins so
// the clock stays out of the hot loop). Returns false on timeout or abort.
template <typename Pred>
bool spin_until(Pred pred, const Shared& shared, std::chrono::duration<double> timeout) {
  auto start = Clock::now();
  for (std::uint64_t spins = 1;; ++spins) {
    if (pred()) return true;
    if ((spins & 0xFFFF) == 0) {
      if (shared.abort.load(std::memory_order_relaxed)) return false;
      if (Clock::now() - start > timeout) return false;
    }
  }
}

}  // namespace

CoreToCoreSamples measure_core_to_core(unsigned from_cpu, unsigned to_cpu, const CoreToCoreConfig& config) {
  if (from_cpu == to_cpu)
    throw std::invalid_argument(fmt::format("cannot measure core-to-core latency from CPU {} to itself", from_cpu));
  require_usable_cpus(CpuSet{from_cpu, to_cpu});

  Shared shared;
  std::exception_ptr from_error, to_error;
  CoreToCoreSamples out;
  const auto page_bytes = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* page = MAP_FAILED;

  std::thread responder([&] {
    try {
      pin_this_thread(to_cpu);
      shared.pinned.fetch_add(1);
      std::atomic<std::uint64_t>* line = nullptr;
      if (!spin_until([&] { return (line = shared.line.load(std::memory_order_acquire)) != nullptr; }, shared,
                      config.timeout))
        return;
      std::uint64_t expect = 1;
      for (;;) {
        std::uint64_t seen = 0;
        // No pause instruction: it would add its own latency to every answer.
        bool ok = spin_until(
            [&] {
              seen = line->load(std::memory_order_acquire);
              return seen == expect || seen == kStop;
            },
            shared, config.timeout);
        if (!ok || seen == kStop) return;
        line->store(expect + 1, std::memory_order_release);
        expect += 2;
      }
    } catch (...) {
      to_error = std::current_exception();
      shared.abort = true;
    }
  });

  std::thread initiator([&] {
    std::atomic<std::uint64_t>* line = nullptr;
    try {
      pin_this_thread(from_cpu);
      shared.pinned.fetch_add(1);
      if (!spin_until([&] { return shared.pinned.load() == 2; }, shared, config.timeout)) {
        if (!shared.abort) throw std::runtime_error(fmt::format("CPU {} never started", to_cpu));
        return;
      }
      // Fresh page, first touched here after pinning: local NUMA node, and the
      // line is in no third CPU's cache.
      page = mmap(nullptr, page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "cannot map a page");
      line = new (page) std::atomic<std::uint64_t>(0);
      shared.line.store(line, std::memory_order_release);

      std::uint64_t next = 1;
      auto round_trips = [&](unsigned count) {
        for (unsigned i = 0; i < count; ++i) {
          line->store(next, std::memory_order_release);
          const std::uint64_t want = next + 1;
          if (!spin_until([&] { return line->load(std::memory_order_acquire) == want; }, shared, config.timeout))
            throw std::runtime_error(fmt::format("CPU {} did not answer CPU {} within {:.1f} s", to_cpu, from_cpu,
                                                 config.timeout.count()));
          next += 2;
        }
      };
      auto timed = [&](unsigned count) {
        auto t0 = Clock::now();
        round_trips(count);
        return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      };

      // Size samples: a round trip across sockets is ~0.2-0.5 µs, but vCPUs
      // sharing one host CPU take milliseconds. The fastest of a few batches,
      // so that one preemption does not shrink every sample.
      double calib_ns = timed(kCalibrationRoundTrips) / kCalibrationRoundTrips;
      for (unsigned b = 1; b < kCalibrationBatches; ++b)
        calib_ns = std::min(calib_ns, timed(kCalibrationRoundTrips) / kCalibrationRoundTrips);
      unsigned per_sample = config.round_trips_per_sample;
      if (calib_ns > 0)
        per_sample = static_cast<unsigned>(std::clamp(kTargetSampleNs / calib_ns, 1.0, double(per_sample)));
      out.round_trips_per_sample = per_sample;

      auto start = Clock::now();
      for (unsigned i = 0; i < config.warmup_samples; ++i) timed(per_sample);
      out.one_way_ns.reserve(config.samples);
      for (unsigned i = 0; i < config.samples; ++i) {
        out.one_way_ns.push_back(timed(per_sample) / per_sample / 2);
        if (Clock::now() - start > config.budget) break;
      }
      line->store(kStop, std::memory_order_release);
    } catch (...) {
      from_error = std::current_exception();
      shared.abort = true;
      if (line) line->store(kStop, std::memory_order_release);
    }
  });

  initiator.join();
  responder.join();
  if (page != MAP_FAILED) munmap(page, page_bytes);
  if (from_error) std::rethrow_exception(from_error);
  if (to_error) std::rethrow_exception(to_error);
  return out;
}

}  // namespace vpt
