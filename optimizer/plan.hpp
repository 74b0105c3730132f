// Plan: the optimizer's answer, everything a writer (text, JSON, libvirt XML,
// report) needs without recomputing anything.
#pragma once

#include <string>
#include <vector>

#include "probe/cpuset.hpp"

namespace vpt {

// The CPU topology presented to the guest (<cpu><topology .../>).
struct GuestTopology {
  unsigned sockets = 1, dies = 1, cores = 1, threads = 1;
  unsigned vcpus() const { return sockets * dies * cores * threads; }
};

struct GuestPlan {
  std::string name;
  // vcpus[i] = host CPU of vCPU i. With threads=2, vCPUs 2k and 2k+1 are SMT
  // siblings on the host, the order QEMU enumerates guest threads in.
  std::vector<unsigned> vcpus;
  CpuSet emulator;                     // <emulatorpin cpuset=...>
  std::vector<CpuSet> iothreads;       // <iothreadpin iothread=i+1 cpuset=...>
  GuestTopology topology;
  CpuSet memory_nodes;                 // <numatune><memory nodeset=...>; empty = no numatune
  bool cache_passthrough = true;       // <cache mode='passthrough'/>
  bool require_topoext = false;        // AMD hosts: <feature policy='require' name='topoext'/>

  CpuSet vcpu_cpus() const {
    CpuSet set;
    for (unsigned cpu : vcpus) set.insert(cpu);
    return set;
  }
};

// One term of the objective, so a user sees why a plan wins.
struct ScoreTerm {
  std::string name;          // "host_guest_sharing", "guest_split_l3", ...
  double value = 0.0;
  std::string explanation;   // "guest 'win11' shares L3 #0 with host CPUs 16-27"
};

struct Score {
  double total = 0.0;
  std::vector<ScoreTerm> terms;  // every term of the objective, zeros included
};

struct Plan {
  std::vector<GuestPlan> guests;
  CpuSet host;                         // CPUs the host keeps (also for shared helpers)
  CpuSet isolate;                      // CPUs to take from the host: isolcpus= / AllowedCPUs complement
  CpuSet irq_affinity;                 // where to steer IRQs (= host)
  Score score;
  bool optimal = false;                // true when the search proved optimality under the model
  std::string search;                  // "exact" or "heuristic", with what was searched
  std::vector<std::string> explanation;  // short sentences: which CPUs, why
  std::vector<std::string> warnings;     // forced sharing, odd vCPU counts, ...
  std::vector<std::string> advice;       // hugepages, isolation, ...
};

}  // namespace vpt
