// A running QEMU's threads as /proc shows them. Internal to bench/; paths are
// parameters so tests read a fixture tree instead of the live /proc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench.hpp"
#include "bench/results.hpp"

namespace vpt {

struct ProcPaths {
  std::string proc = "/proc";
  std::string libvirt_run = "/run/libvirt/qemu";  // NAME.pid and status XML NAME.xml
};

// The QEMU process of domain `name`: libvirt's pid file, else the process
// whose command line has "-name guest=NAME". nullopt when there is none here.
std::optional<int> find_qemu_pid(const std::string& name, const ProcPaths& paths);

// Kind and index from a QEMU thread name: "CPU 3/KVM" → vCPU 3, "IO iothread2"
// → iothread 2; the main thread (tid == pid) is the emulator; anything else
// ("IO mon_iothread", "worker", "call_rcu") is Other, pinned like the emulator.
std::pair<ThreadKind, std::optional<unsigned>> classify_qemu_thread(std::string_view comm, int tid, int pid);

struct QemuThread {
  int tid = 0;
  std::string comm;
  ThreadKind kind = ThreadKind::Other;
  std::optional<unsigned> index;
};
// Threads of `pid`, sorted by tid. When QEMU runs without debug-threads (no
// "CPU n/" names), vCPU thread ids come from libvirt's status XML.
std::vector<QemuThread> list_qemu_threads(int pid, const std::string& domain_name, const ProcPaths& paths);

// Marks the threads `iothread_tids` names as I/O threads with those ids
// (threads QEMU could not name, see QemuProcess).
void mark_iothreads(std::vector<QemuThread>& threads, const std::map<int, unsigned>& iothread_tids);

struct ThreadCounters {
  std::optional<CpuSet> cpus_allowed;              // status: Cpus_allowed_list
  std::optional<std::uint64_t> nonvoluntary_switches;  // status: nonvoluntary_ctxt_switches
  std::optional<std::uint64_t> migrations;          // sched: se.nr_migrations
};
// Empty fields when the thread is gone or the file lacks the line.
ThreadCounters read_thread_counters(int pid, int tid, const ProcPaths& paths);

// Joins libvirt's pins with the threads' actual affinity at the start of the
// run and their counters' growth over it (before → after).
std::vector<ThreadCheck> check_threads(const LivePins& pins, const std::vector<QemuThread>& threads,
                                       const std::vector<ThreadCounters>& before,
                                       const std::vector<ThreadCounters>& after);

}  // namespace vpt
