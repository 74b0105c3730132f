// Existing vCPU pins a plan keeps: what the user already decided is honoured
// (docs/whole-host.md, "Existing pins"). Pins that give each vCPU a CPU of its
// own on whole cores, away from the host's work, are what an expert would
// have chosen too; planning anew would only move a working guest. A plan then
// keeps those CPUs and fixes only the vCPUs' order and the presented topology.
#pragma once

#include <map>
#include <string>

#include "common/cpuset.hpp"
#include "probe/topology.hpp"

namespace vpt {

struct PinsReview {
  bool keep = false;
  CpuSet cpus;         // every CPU the pins name
  std::string reason;  // why they are kept, or why not ("vCPU 3 floats over CPUs 4-7")
};

// Keeps the pins when each of the `vcpus` vCPUs is pinned to one CPU, no CPU
// twice, the CPUs make whole cores, the host keeps a whole core, and the pins
// stay off the host's work: inside `isolated` when the host isolates CPUs
// (the user's kernel line decided), else off the core of the host's first CPU
// and, on a host with several L3s, off that CPU's L3.
PinsReview review_existing_pins(const Topology& topo, const std::map<unsigned, CpuSet>& pins, unsigned vcpus,
                                const CpuSet& isolated);

}  // namespace vpt
