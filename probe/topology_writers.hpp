// Writers for a Topology, the readable listing and the JSON document
// ("schema": "vpt-tune/topology/1", documented in the README), and the reader
// of that document.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "probe/topology.hpp"

namespace vpt {

inline constexpr const char* kTopologySchema = "vpt-tune/topology/1";

nlohmann::json topology_to_json(const Topology& topo);
// The inverse of topology_to_json: topology_from_json(topology_to_json(t)) == t.
// Derived indices are recomputed and the model checked (finish_topology).
// Throws TopologyInputError "cannot read topology '<name>': <field>: <problem>".
Topology topology_from_json(const nlohmann::json& doc, const std::string& name);
void write_topology_text(std::ostream& out, const Topology& topo);

// "48 KiB", "1.25 MiB", "32 MiB", "unknown size"
std::string format_bytes(std::optional<std::uint64_t> bytes);

}  // namespace vpt
