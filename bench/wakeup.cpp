// Wake-up latency, cyclictest-style: how late a thread wakes from an absolute
// deadline on the CPU under test.
#include <sys/prctl.h>
#include <time.h>

#include <cerrno>
#include <exception>
#include <system_error>
#include <thread>

#include "bench/kernels.hpp"

namespace vpt {

namespace {

constexpr long kNsPerSec = 1'000'000'000;

void add_ns(timespec& t, long ns) {
  t.tv_nsec += ns;
  while (t.tv_nsec >= kNsPerSec) {
    t.tv_nsec -= kNsPerSec;
    ++t.tv_sec;
  }
}

double diff_us(const timespec& later, const timespec& earlier) {
  return static_cast<double>(later.tv_sec - earlier.tv_sec) * 1e6 +
         static_cast<double>(later.tv_nsec - earlier.tv_nsec) / 1e3;
}

std::vector<double> wake_loop(unsigned cpu, const WakeupConfig& config) {
  pin_this_thread(cpu);
  // SCHED_OTHER threads get 50 us of timer slack by default; that would be
  // measured as lateness. RT threads (cyclictest -p) have none.
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot set timer slack");
  const long interval_ns = static_cast<long>(config.interval.count()) * 1000;
  std::vector<double> lateness;
  lateness.reserve(config.count);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  add_ns(deadline, interval_ns);
  for (unsigned i = 0; i < config.warmup + config.count; ++i) {
    int err;
    while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr)) == EINTR) {
    }
    if (err != 0) throw std::system_error(err, std::generic_category(), "cannot sleep with clock_nanosleep");
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (i >= config.warmup) lateness.push_back(diff_us(now, deadline));
    add_ns(deadline, interval_ns);
    // Woke later than the next deadline: skip the missed ones, as cyclictest does.
    while (diff_us(now, deadline) > 0) add_ns(deadline, interval_ns);
  }
  return lateness;
}

}  // namespace

std::vector<std::vector<double>> measure_wakeup(const std::vector<unsigned>& cpus, const WakeupConfig& config) {
  CpuSet set;
  for (unsigned cpu : cpus) set.insert(cpu);
  require_usable_cpus(set);
  std::vector<std::vector<double>> results(cpus.size());
  std::vector<std::exception_ptr> errors(cpus.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        results[i] = wake_loop(cpus[i], config);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace vpt
