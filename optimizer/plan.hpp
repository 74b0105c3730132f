// Plan: the optimizer's answer, everything a writer (text, JSON, a libvirt
// definition, a Proxmox config and hookscript, the report) needs without
// recomputing anything. It says where each thread runs and what the guest is
// shown; how a target spells that is the target's (virt/domain_xml.cpp for
// libvirt, pve/ for Proxmox).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/cpuset.hpp"

namespace vpt {

// The CPU topology presented to the guest: sockets x dies x cores x threads.
struct GuestTopology {
  unsigned sockets = 1, dies = 1, cores = 1, threads = 1;
  unsigned vcpus() const { return sockets * dies * cores * threads; }
};

// One guest NUMA cell, backed by one host node (its memory bound there). A
// guest that spans several host nodes gets one cell per node, so its kernel
// places memory and threads the way the host has them.
struct NumaCell {
  unsigned cell = 0;                   // the cell's number in the guest
  CpuSet vcpus;                        // guest vCPU numbers in the cell
  unsigned host_node = 0;              // the host NUMA node it runs on and takes memory from
  std::optional<std::uint64_t> memory_bytes;  // nullopt when the guest's memory is unknown
};

// Splits a guest's memory over its cells by their vCPU counts, in whole MiB;
// the last cell takes the rest, so the cells add up to the guest's memory.
inline void size_numa_cells(std::vector<NumaCell>& cells, std::uint64_t memory_bytes) {
  constexpr std::uint64_t kMiB = 1 << 20;
  std::uint64_t vcpus = 0, given = 0;
  for (const NumaCell& cell : cells) vcpus += cell.vcpus.size();
  for (std::size_t c = 0; c < cells.size(); ++c) {
    const std::uint64_t share = vcpus ? memory_bytes / kMiB * cells[c].vcpus.size() / vcpus * kMiB : 0;
    cells[c].memory_bytes = c + 1 == cells.size() ? memory_bytes - given : share;
    given += share;
  }
}

struct GuestPlan {
  std::string name;
  // vcpus[i] = host CPU of vCPU i. With threads=2, vCPUs 2k and 2k+1 are SMT
  // siblings on the host, the order QEMU enumerates guest threads in.
  std::vector<unsigned> vcpus;
  CpuSet emulator;                     // where QEMU's emulator thread runs
  std::vector<CpuSet> iothreads;       // where I/O thread i+1 runs
  GuestTopology topology;
  CpuSet memory_nodes;                 // host nodes the guest's memory is bound to; empty = not bound
  std::vector<NumaCell> numa_cells;    // empty = one host node, no guest NUMA topology
  bool cache_passthrough = true;       // the guest sees the host's cache sizes and sharing
  bool require_topoext = false;        // AMD hosts: the guest needs topoext to see SMT siblings

  CpuSet vcpu_cpus() const {
    CpuSet set;
    for (unsigned cpu : vcpus) set.insert(cpu);
    return set;
  }
  // Where QEMU's emulator and I/O threads may run.
  CpuSet helper_cpus() const {
    CpuSet set = emulator;
    for (const CpuSet& io : iothreads) set |= io;
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
