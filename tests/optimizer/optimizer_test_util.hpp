// Shared helpers for optimizer tests: loading corpus fixtures and brute force.
#pragma once

#include <string>

#include "optimizer/optimizer.hpp"
#include "optimizer/search.hpp"
#include "probe/probe.hpp"

namespace vpt::test {

// A fixture below tests/corpus, or "machines/..." below tests/optimizer.
inline Topology corpus(const std::string& relative) {
  std::string path = (relative.starts_with("machines/") ? std::string(VPT_OPTIMIZER_TEST_DIR) : std::string(VPT_CORPUS_DIR)) +
                     "/" + relative;
  if (relative.ends_with(".txt")) return load_lscpu_file(path);
  return load_hwloc_xml_file(path);
}

// A guest with the request's defaults (1 I/O thread, shared helpers, performance).
inline GuestRequest guest_of(const std::string& name, std::optional<unsigned> vcpus) {
  GuestRequest guest;
  guest.name = name;
  guest.vcpus = vcpus;
  return guest;
}

inline Request one_guest_auto() {
  Request request;
  request.guests.push_back(guest_of("vm", std::nullopt));
  return request;
}

inline Request one_guest(unsigned vcpus) {
  Request request;
  request.guests.push_back(guest_of("vm", vcpus));
  return request;
}

inline CpuSet set_of(const std::vector<unsigned>& cpus) {
  CpuSet set;
  for (unsigned c : cpus) set.insert(c);
  return set;
}

}  // namespace vpt::test
