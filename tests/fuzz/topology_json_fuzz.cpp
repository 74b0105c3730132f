// The topology JSON reader (probe/topology_writers.hpp), which the report's
// redaction reads every host model back with.
#include <nlohmann/json.hpp>

#include "probe/probe.hpp"
#include "tests/fuzz/topology_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json doc = nlohmann::json::parse(vpt::fuzz::text_of(data, size), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  vpt::Topology topo;
  try {
    topo = vpt::topology_from_json(doc, "fuzz");
  } catch (const vpt::TopologyInputError&) {
    return 0;
  }
  vpt::fuzz::check_topology(topo, vpt::fuzz::input_hash(data, size));
  return 0;
}
