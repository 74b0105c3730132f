// Writers for a Topology: the readable listing and the JSON document
// ("schema": "vpt-tune/topology/1", documented in the README).
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "probe/topology.hpp"

namespace vpt {

inline constexpr const char* kTopologySchema = "vpt-tune/topology/1";

nlohmann::json topology_to_json(const Topology& topo);
void write_topology_text(std::ostream& out, const Topology& topo);

// "48 KiB", "1.25 MiB", "32 MiB", "unknown size"
std::string format_bytes(std::optional<std::uint64_t> bytes);

}  // namespace vpt
