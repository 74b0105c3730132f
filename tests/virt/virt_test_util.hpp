// Helpers shared by the virt tests: sample files and plans written by hand.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "optimizer/plan.hpp"

namespace vpt::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string sample(const std::string& name) {
  return read_file(std::string(VPT_DATA_DIR) + "/domains/" + name);
}

#ifdef VPT_CORPUS_DIR
// A domain of tests/corpus/domains (realistic definitions; facts in its README).
inline std::string corpus_domain(const std::string& name) {
  return read_file(std::string(VPT_CORPUS_DIR) + "/domains/" + name);
}
#endif

// vCPU i on host CPU first_cpu + i, emulator and iothreads on the CPUs given.
inline GuestPlan make_plan(unsigned vcpus, unsigned first_cpu, CpuSet emulator, std::vector<CpuSet> iothreads,
                           GuestTopology topology) {
  GuestPlan plan;
  plan.name = "guest";
  for (unsigned i = 0; i < vcpus; ++i) plan.vcpus.push_back(first_cpu + i);
  plan.emulator = std::move(emulator);
  plan.iothreads = std::move(iothreads);
  plan.topology = topology;
  return plan;
}

}  // namespace vpt::test
