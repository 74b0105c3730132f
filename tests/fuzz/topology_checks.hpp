// What must hold for any topology a source accepted (lscpu, hwloc XML, the
// topology JSON): its writers work, its JSON reads back equal, and planning
// on it (up to 64 CPUs) fails only with RequestError (an impossible request).
// The request comes from the input's hash, so that the inputs cover every
// kind of request.
#pragma once

#include <sstream>

#include <nlohmann/json.hpp>

#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/topology_writers.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace vpt::fuzz {

// One guest: --vcpus auto one time in eight, else 1-7 vCPUs (auto searches
// every clean count: a second on some irregular 29-CPU listings, while the
// lscpu target is there to fuzz the reader), 0-2 I/O threads, shared or
// dedicated helpers, any core-kind preference.
inline Request request_from_hash(std::uint32_t hash) {
  GuestRequest guest;
  if (hash % 8 != 0) guest.vcpus = hash % 8;
  guest.iothreads = (hash >> 3) % 3;
  guest.helpers = (hash >> 5) & 1 ? HelperPlacement::Dedicated : HelperPlacement::Shared;
  constexpr Preference kPreferences[] = {Preference::Performance, Preference::Efficiency, Preference::VCache};
  guest.prefer = kPreferences[(hash >> 6) % 3];
  Request request;
  request.guests.push_back(guest);
  return request;
}

inline void check_topology(const Topology& topo, std::uint32_t hash) {
  std::ostringstream text;
  write_topology_text(text, topo);
  nlohmann::json doc = topology_to_json(topo);
  Topology back = topology_from_json(doc, "the topology's own JSON");
  FUZZ_CHECK(back == topo, "the JSON document does not read back equal:\n" + doc.dump(1));

  // Planning a 384-CPU export takes ~100 ms under ASan: hosts up to 64 CPUs
  // are planned (every lscpu listing of the corpus, most exports), so that the
  // search gets many inputs a second.
  if (topo.cpus.size() > 64) return;
  try {
    Plan plan = make_plan(topo, request_from_hash(hash));
    std::ostringstream out;
    write_plan_text(out, plan);
    plan_from_json(plan_to_json(plan), "t.json");
  } catch (const RequestError&) {
  }
}

}  // namespace vpt::fuzz
