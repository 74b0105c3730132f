// What must hold for any topology a source accepted (lscpu, hwloc XML, the
// topology JSON): its writers work, its JSON reads back equal, and planning
// on it (up to 64 CPUs) fails only with RequestError (an impossible request).
#pragma once

#include <sstream>

#include <nlohmann/json.hpp>

#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/topology_writers.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace vpt::fuzz {

inline void check_topology(const Topology& topo) {
  std::ostringstream text;
  write_topology_text(text, topo);
  nlohmann::json doc = topology_to_json(topo);
  Topology back = topology_from_json(doc, "the topology's own JSON");
  FUZZ_CHECK(back == topo, "the JSON document does not read back equal:\n" + doc.dump(1));

  // Planning a 384-CPU export takes ~100 ms under ASan: hosts up to 64 CPUs
  // are planned (every lscpu listing of the corpus, most exports), so that the
  // search gets many inputs a second.
  if (topo.cpus.size() > 64) return;
  Request request;
  request.guests.push_back({});
  try {
    Plan plan = make_plan(topo, request);
    std::ostringstream out;
    write_plan_text(out, plan);
    plan_from_json(plan_to_json(plan));
  } catch (const RequestError&) {
  }
}

}  // namespace vpt::fuzz
