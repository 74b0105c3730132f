// Steal seen from the host: how long each vCPU thread of a running QEMU waited
// on a run queue for a host CPU, from /proc/PID/task/TID/schedstat. Works on
// any running guest, whatever its OS, without its cooperation. Internal to
// bench/ (the steal kernel, and the in-guest runner, which samples it while
// the probe keeps the vCPUs busy).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/domain_threads.hpp"
#include "bench/results.hpp"

namespace vpt {

// /proc/PID/task/TID/schedstat: "run_ns wait_ns timeslices" (sched_info,
// always kept by Debian kernels; unlike the wait_sum of `sched`, it needs no
// kernel.sched_schedstats). nullopt when the thread is gone or the file is odd.
struct SchedStat {
  std::uint64_t run_ns = 0;         // time on a CPU
  std::uint64_t wait_ns = 0;        // time runnable but waiting on a run queue
  std::uint64_t timeslices = 0;     // times it was put on a CPU
};
std::optional<SchedStat> read_schedstat(int pid, int tid, const ProcPaths& paths);

// One reading of every vCPU thread, with the time it was taken.
struct StealReading {
  std::chrono::steady_clock::time_point when;
  std::vector<std::optional<SchedStat>> threads;  // as the sampler's vCPU list
};

// Samples the vCPU threads of `pid` every `interval`. Either call sample()
// yourself (between two readings nothing of vpt-tune's may run, for a quiet
// window), or start() a background thread and stop() it.
class StealSampler {
 public:
  StealSampler(int pid, std::vector<QemuThread> vcpu_threads, std::chrono::milliseconds interval,
               ProcPaths paths = {});
  ~StealSampler();
  StealSampler(const StealSampler&) = delete;
  StealSampler& operator=(const StealSampler&) = delete;

  // One interval: sleeps `interval` between two readings and appends their
  // difference as one sample per vCPU to the current round.
  void sample();
  void start_round();                       // later samples go to a new round
  void start();                             // samples on a thread until stop()
  void stop();
  // What was sampled, as one window. Samples taken on the thread are split
  // into `rounds` rounds of consecutive samples (start_round() was not used).
  StealWindow window(std::string kind, std::string chosen, unsigned rounds) const;
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  StealReading read() const;
  void add_sample(const StealReading& before, const StealReading& after);

  int pid_;
  std::vector<QemuThread> threads_;
  std::chrono::milliseconds interval_;
  ProcPaths paths_;
  mutable std::mutex mutex_;
  std::vector<VcpuSteal> vcpus_;            // samples so far, rounds as start_round() made them
  std::vector<std::uint64_t> first_timeslices_;
  std::vector<std::optional<SchedStat>> last_;
  bool on_thread_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vpt
