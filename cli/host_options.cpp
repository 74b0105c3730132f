#include "cli/host_options.hpp"

#include "probe/probe.hpp"

namespace vpt::cli {

void add_host_options(CLI::App& command, HostOptions& options) {
  auto* xml = command.add_option("--topology", options.topology_xml,
                                 "Read the host from an hwloc XML export (`lstopo host.xml` on that machine)")
                  ->option_text("FILE.xml");
  auto* lscpu = command.add_option("--lscpu", options.lscpu_text,
                                   "Read the host from the text of `lscpu -e` ('-' reads standard input)")
                    ->option_text("FILE");
  xml->excludes(lscpu);
}

Topology load_host(const HostOptions& options) {
  if (!options.topology_xml.empty()) return load_hwloc_xml_file(options.topology_xml);
  if (!options.lscpu_text.empty()) return load_lscpu_file(options.lscpu_text);
  return probe_live_host();
}

}  // namespace vpt::cli
