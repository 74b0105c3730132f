// Building a Topology from each source. Consumers cannot tell the sources
// apart except by Topology::source.
#pragma once

#include <stdexcept>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "probe/topology.hpp"

namespace vpt {

// Bad or unreadable topology input. what() is one line for the user:
// "cannot read topology 'FILE': <problem>".
class TopologyInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The machine this runs on, through hwloc, plus kernel state (isolcpus,
// nohz_full, SMT, hugepages) and PCI IOMMU groups. Throws std::runtime_error.
Topology probe_live_host();

// An hwloc XML export (`lstopo file.xml` on another machine), hwloc format 1 or 2.
Topology load_hwloc_xml_file(const std::string& path);
Topology load_hwloc_xml(std::string_view xml, const std::string& name);

// Text of `lscpu -e` (or `lscpu --all --extended`) with the L1d:L1i:L2:L3
// column; "-" reads standard input.
Topology load_lscpu_file(const std::string& path);
Topology load_lscpu(std::string_view text, const std::string& name);

// Reads a whole file ("-" = stdin). Throws TopologyInputError when it cannot.
std::string read_input_file(const std::string& path);

namespace detail {
// Shared by the sources before finish_topology(): warns about missing cache
// information and drops cache levels the source reports as nonsense (such as
// a virtual CPU's "private 508 MB L3 per core"), so that no sharing is invented.
void check_cache_plausibility(Topology& topo);
// Gives kinds their user-facing names and merges kinds that differ only by a
// few percent of max frequency (frequency noise on one core design).
void name_and_merge_kinds(Topology& topo);
// The feature flags of lscpu's "Flags:" or /proc/cpuinfo's "flags :" value,
// sorted and unique; words that are no flag name are left out and the list is
// bounded, since the text may come from anyone.
std::vector<std::string> parse_cpu_flags(std::string_view value);
// lscpu's "CPU family:" or hwloc's CPUFamilyNumber ("25"); nullopt unless a
// plain number below 4096.
std::optional<unsigned> parse_cpu_family(std::string_view value);
}  // namespace detail

}  // namespace vpt
