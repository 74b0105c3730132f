// Interference: the pointer chase on one CPU, quiet and with cache-thrashing
// neighbours on other CPUs, alternating so that drift hits both conditions.
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/kernels.hpp"
#include "bench/pointer_chase.hpp"

namespace vpt {

namespace {

// Lets the neighbours evict what the chase had cached before noisy samples start.
constexpr auto kRampUp = std::chrono::milliseconds(5);

struct Neighbours {
  std::atomic<bool> active{false};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> ready{0};
};

// Streams read-modify-writes over its own buffer, one per 64-byte line, while
// `active`; blocks (futex wait, no CPU use) while not.
void thrash(unsigned cpu, std::size_t bytes, Neighbours& shared, std::exception_ptr& error) {
  void* memory = MAP_FAILED;
  try {
    pin_this_thread(cpu);
    memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "cannot map the thrash buffer");
    auto* lines = static_cast<volatile std::uint64_t*>(memory);
    const std::size_t stride = kLineBytes / sizeof(std::uint64_t), count = bytes / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < count; i += stride) lines[i] = i;  // first touch on its own node
    shared.ready.fetch_add(1);
    shared.ready.notify_all();
    auto running = [&] { return shared.active.load(std::memory_order_relaxed) && !shared.stop.load(std::memory_order_relaxed); };
    for (;;) {
      shared.active.wait(false);
      if (shared.stop.load()) break;
      // 4 KiB at a time between checks, so the neighbour stops promptly.
      while (running())
        for (std::size_t i = 0; i < count && running(); i += stride * 64)
          for (std::size_t j = i; j < i + stride * 64 && j < count; j += stride) lines[j] = lines[j] + 1;
    }
  } catch (...) {
    error = std::current_exception();
    shared.ready.fetch_add(1);
    shared.ready.notify_all();
  }
  if (memory != MAP_FAILED) munmap(memory, bytes);
}

}  // namespace

InterferenceSamples measure_interference(unsigned chase_cpu, const CpuSet& neighbour_cpus, std::size_t bytes,
                                         const InterferenceConfig& config) {
  if (neighbour_cpus.empty())
    throw std::invalid_argument("cannot measure interference: no CPU for the neighbour");
  if (neighbour_cpus.contains(chase_cpu))
    throw std::invalid_argument(
        fmt::format("cannot measure interference on CPU {}: the neighbour CPUs '{}' include it", chase_cpu,
                    neighbour_cpus));
  require_usable_cpus(neighbour_cpus | CpuSet{chase_cpu});

  Neighbours shared;
  std::vector<unsigned> cpus = neighbour_cpus.to_vector();
  std::vector<std::exception_ptr> errors(cpus.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    threads.emplace_back(thrash, cpus[i], config.thrash_bytes, std::ref(shared), std::ref(errors[i]));

  InterferenceSamples out;
  std::exception_ptr chase_error;
  std::thread chase([&] {
    try {
      pin_this_thread(chase_cpu);
      ChaseBuffer buffer(bytes, config.seed);
      for (unsigned seen; (seen = shared.ready.load()) < cpus.size();) shared.ready.wait(seen);
      for (auto& e : errors)
        if (e) return;
      for (unsigned i = 0; i < config.warmup_samples; ++i) buffer.ns_per_load(config.loads_per_sample);
      const unsigned rounds = std::max(1u, config.rounds);
      for (unsigned r = 0; r < rounds; ++r) {
        // Spread samples evenly; the first rounds take the remainder.
        unsigned n = config.samples / rounds + (r < config.samples % rounds ? 1 : 0);
        buffer.ns_per_load(config.loads_per_sample);  // re-warm after the noisy phase
        for (unsigned i = 0; i < n; ++i) out.quiet_ns.push_back(buffer.ns_per_load(config.loads_per_sample));
        shared.active = true;
        shared.active.notify_all();
        std::this_thread::sleep_for(kRampUp);
        for (unsigned i = 0; i < n; ++i) out.noisy_ns.push_back(buffer.ns_per_load(config.loads_per_sample));
        shared.active = false;
      }
    } catch (...) {
      chase_error = std::current_exception();
    }
  });
  chase.join();
  shared.stop = true;
  shared.active = true;  // wakes blocked neighbours so they see `stop`
  shared.active.notify_all();
  for (auto& t : threads) t.join();
  if (chase_error) std::rethrow_exception(chase_error);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace vpt
