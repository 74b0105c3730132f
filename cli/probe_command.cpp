#include "cli/probe_command.hpp"

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/host_options.hpp"
#include "probe/topology_writers.hpp"

namespace vpt::cli {

namespace {

struct ProbeOptions {
  HostOptions host;
  bool json = false;
};

void run_probe(const ProbeOptions& options) {
  Topology topo = load_host(options.host);
  if (options.json) {
    // Names from an hwloc export or lscpu text may not be UTF-8: replaced, not a failure.
    std::cout << topology_to_json(topo).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  write_topology_text(std::cout, topo);
}

}  // namespace

void setup_probe(CLI::App& app) {
  auto options = std::make_shared<ProbeOptions>();
  CLI::App* probe = app.add_subcommand(
      "probe", "Show the host's CPU topology: packages, NUMA nodes, cores, threads, caches, core kinds, GPUs");
  probe->footer(
      "Examples:\n"
      "  vpt-tune probe                               this host\n"
      "  vpt-tune probe --topology other-host.xml     an hwloc XML export\n"
      "  lscpu -e | vpt-tune probe --lscpu -          a pasted `lscpu -e` listing\n"
      "  vpt-tune probe --json                        the model as JSON (schema vpt-tune/topology/1)");
  add_host_options(*probe, options->host);
  probe->add_flag("--json", options->json, "Print the model as a JSON document");
  probe->callback([options] { run_probe(*options); });
}

}  // namespace vpt::cli
