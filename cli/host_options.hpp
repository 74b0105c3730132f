// Where the host model comes from: the options `probe`, `suggest` and
// `report` share, and the one function that turns them into a Topology.
#pragma once

#include <string>

#include <CLI/App.hpp>

#include "probe/topology.hpp"

namespace vpt::cli {

struct HostOptions {
  std::string topology_xml;  // --topology FILE.xml
  std::string lscpu_text;    // --lscpu FILE|-
};

void add_host_options(CLI::App& command, HostOptions& options);
Topology load_host(const HostOptions& options);

}  // namespace vpt::cli
