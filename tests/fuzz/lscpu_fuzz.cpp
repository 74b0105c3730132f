// `lscpu -e` text, as users paste it from forum posts (probe --lscpu).
#include "probe/probe.hpp"
#include "tests/fuzz/topology_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vpt::Topology topo;
  try {
    topo = vpt::load_lscpu(vpt::fuzz::text_of(data, size), "fuzz");
  } catch (const vpt::TopologyInputError&) {
    return 0;
  }
  vpt::fuzz::check_topology(topo, vpt::fuzz::input_hash(data, size));
  return 0;
}
