// Memory latency: dependent loads over a random cycle, one size per call.
#include <exception>
#include <thread>

#include "bench/kernels.hpp"
#include "bench/pointer_chase.hpp"

namespace vpt {

std::vector<double> measure_pointer_chase(unsigned cpu, std::size_t bytes, const PointerChaseConfig& config) {
  require_usable_cpus(CpuSet{cpu});
  std::vector<double> samples;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      pin_this_thread(cpu);
      ChaseBuffer buffer(bytes, config.seed);
      for (unsigned i = 0; i < config.warmup_samples; ++i) buffer.ns_per_load(config.loads_per_sample);
      samples.reserve(config.samples);
      for (unsigned i = 0; i < config.samples; ++i) samples.push_back(buffer.ns_per_load(config.loads_per_sample));
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return samples;
}

}  // namespace vpt
