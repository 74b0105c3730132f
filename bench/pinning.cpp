// Which CPUs a kernel may use, and pinning a thread to one of them.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "bench/kernels.hpp"

namespace vpt {

namespace {

// Large enough for any machine libvirt describes; CPU_ALLOC sizes the mask.
constexpr unsigned kMaxCpus = 8192;

struct CpuMask {
  explicit CpuMask(unsigned cpus) : size(CPU_ALLOC_SIZE(cpus)), set(CPU_ALLOC(cpus), &cpu_set_free) {
    CPU_ZERO_S(size, set.get());
  }
  static void cpu_set_free(cpu_set_t* s) { CPU_FREE(s); }
  std::size_t size;
  std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set;
};

std::string plural_cpus(const CpuSet& cpus) { return cpus.size() == 1 ? "CPU" : "CPUs"; }

}  // namespace

CpuSet online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  if (std::getline(in, text)) {
    try {
      return CpuSet::parse(text);
    } catch (const std::invalid_argument&) {
    }
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? CpuSet::range(0, static_cast<unsigned>(n) - 1) : CpuSet{};
}

CpuSet allowed_cpus() {
  CpuMask mask(kMaxCpus);
  if (sched_getaffinity(0, mask.size, mask.set.get()) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot read CPU affinity of this process");
  CpuSet cpus;
  for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
    if (CPU_ISSET_S(cpu, mask.size, mask.set.get())) cpus.insert(cpu);
  return cpus;
}

void require_usable_cpus(const CpuSet& cpus) {
  CpuSet online = online_cpus();
  CpuSet offline = cpus - online;
  if (!offline.empty())
    throw BenchInputError(fmt::format("cannot measure {} '{}': not online (online CPUs: {})", plural_cpus(offline),
                                      offline, online));
  CpuSet allowed = allowed_cpus();
  CpuSet forbidden = cpus - allowed;
  if (!forbidden.empty())
    throw BenchInputError(fmt::format(
        "cannot measure {} '{}': not in this process's CPU affinity (allowed CPUs: {}; see taskset or the cgroup cpuset)",
        plural_cpus(forbidden), forbidden, allowed));
}

void pin_this_thread(unsigned cpu) {
  if (cpu >= kMaxCpus)
    throw std::system_error(EINVAL, std::generic_category(), fmt::format("cannot pin thread to CPU '{}'", cpu));
  CpuMask mask(kMaxCpus);
  CPU_SET_S(cpu, mask.size, mask.set.get());
  int err = pthread_setaffinity_np(pthread_self(), mask.size, mask.set.get());
  if (err != 0) throw std::system_error(err, std::generic_category(), fmt::format("cannot pin thread to CPU '{}'", cpu));
}

}  // namespace vpt
