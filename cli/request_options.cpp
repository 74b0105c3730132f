#include "cli/request_options.hpp"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "common/text.hpp"
#include "optimizer/optimizer.hpp"

namespace vpt::cli {

namespace {

std::string kebab(std::string name) {
  for (char& c : name)
    if (c == '_') c = '-';
  return name;
}

CpuSet parse_cpus(const std::string& text, const char* option) {
  try {
    return CpuSet::parse(text);
  } catch (const std::invalid_argument& e) {
    throw RequestError(fmt::format("cannot read {} '{}': {}", option, text, e.what()));
  }
}

unsigned parse_count(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    unsigned long value = std::stoul(text, &used);
    if (used == text.size() && value < 100000) return static_cast<unsigned>(value);
  } catch (const std::exception&) {
  }
  throw RequestError(fmt::format("cannot read {} '{}': expected a whole number", what, text));
}

// "16G", "16GiB", "512M", "1T", "4096" (bytes): binary units, as libvirt's.
std::uint64_t parse_size(const std::string& text, const char* option) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  const std::string units = "KMGT";
  std::uint64_t factor = 1;
  if (unit.size() == 1 && units.find(unit[0]) != std::string::npos)
    for (std::size_t i = 0; i <= units.find(unit[0]); ++i) factor *= 1024;
  else if (!unit.empty()) used = 0;
  if (used == 0 || value == 0 || value > (std::uint64_t{1} << 50) / factor)
    throw RequestError(fmt::format("cannot read {} '{}': expected a size like 16G, 16384M or 512MiB", option, text));
  return value * factor;
}

}  // namespace

void add_request_options(CLI::App& command, RequestOptions& o) {
  command.add_option("--name", o.name, "Guest name used in the plan (default: the domain's name, else 'guest')")
      ->option_text("NAME");
  command.add_option("--vcpus", o.vcpus,
                     "vCPUs for the guest: a number, or 'auto' for the largest guest that shares no L3 with the host "
                     "(default: the VM's own count with --domain, --xml, --vmid or --pve-config, else auto)")
      ->option_text("N|auto");
  command.add_option("--memory", o.memory,
                     "The guest's memory (16G, 16384M, 17179869184), to size the NUMA cells of a guest that spans "
                     "host nodes (default: the domain's <memory>)")
      ->option_text("SIZE");
  command.add_option("--reserve", o.reserve,
                     "Whole cores the host keeps (default: at least 2, and never less than one whole L2 group; 0 "
                     "lets the host share the guests' CPUs)")
      ->option_text("CORES");
  command.add_option("--iothreads", o.iothreads,
                     "I/O threads per guest (default: 1; with --domain/--xml the domain's count, at least 1 and at "
                     "most one per virtio disk or virtio-scsi controller, to which they are attached)")
      ->option_text("N")
      ->check(CLI::Range(0, 64));
  command.add_option("--emulator", o.helpers, "Where QEMU's emulator and I/O threads run: on the host's CPUs (shared) "
                                              "or on a core of their own (dedicated)")
      ->capture_default_str()
      ->check(CLI::IsMember({"shared", "dedicated"}));
  command.add_option("--prefer", o.prefer, "Which cores the guest gets: performance (P-cores), efficiency "
                                           "(E-cores) or vcache (the 3D V-Cache CCD of an X3D CPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"performance", "efficiency", "vcache"}));
  command.add_option("--gpu", o.gpu, "PCI address of the passed-through GPU: keep the guest on its NUMA node")
      ->option_text("ADDRESS");
  command.add_option("--cpus", o.cpus, "Only these host CPUs may run vCPUs (list like 0-7,16-23)")->option_text("LIST");
  command.add_option("--exclude", o.exclude, "Never give these host CPUs to a guest (vCPUs nor QEMU's threads)")
      ->option_text("LIST");
  command.add_option("--isolated", o.isolated,
                     "CPUs the host's kernel isolates (isolcpus=/nohz_full=; read from the live host): vCPUs go "
                     "inside, the host and QEMU's helper threads outside")
      ->option_text("LIST");
  command.add_flag("--replan", o.replan,
                   "Plan a domain's vCPUs anew even when its pins are clean (one CPU per vCPU on whole cores, off the "
                   "host's core and L3, or inside the isolated CPUs): without it those pins are kept and only their "
                   "order and the guest's topology change");
  command.add_option("--guest", o.guests, "Plan several guests at once, each isolated from the host and the others "
                                          "(repeat: --guest web:8 --guest db:16:64G); MEMORY sizes its NUMA cells "
                                          "and keeps each node's bound memory within what the node has")
      ->option_text("NAME:VCPUS[:MEMORY]");
  for (const WeightField& field : kWeightFields)
    command.add_option("--weight-" + kebab(field.name), o.weights.*field.member, field.meaning)
        ->option_text("W")
        ->group(kWeightsGroup)
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
}

Request make_request(const RequestOptions& o) {
  Request request;
  GuestRequest base;
  base.name = o.name;
  if (!o.vcpus.empty() && o.vcpus != "auto") base.vcpus = parse_count(o.vcpus, "--vcpus");
  if (!o.memory.empty()) base.memory_bytes = parse_size(o.memory, "--memory");
  if (!o.guests.empty() && !o.vcpus.empty())
    throw RequestError(fmt::format("cannot use --vcpus {} with --guest: give each guest its count as --guest "
                                   "NAME:VCPUS (e.g. --guest {})",
                                   o.vcpus, o.guests.front()));
  base.iothreads = o.iothreads;
  base.helpers = o.helpers == "dedicated" ? HelperPlacement::Dedicated : HelperPlacement::Shared;
  base.prefer = o.prefer == "efficiency" ? Preference::Efficiency
                : o.prefer == "vcache"   ? Preference::VCache
                                         : Preference::Performance;
  if (!o.gpu.empty()) base.gpu = o.gpu;
  if (o.guests.empty()) {
    request.guests.push_back(base);
  } else {
    for (const std::string& spec : o.guests) {
      const auto bad = [&] {
        return RequestError(fmt::format("cannot read --guest '{}': expected NAME:VCPUS or NAME:VCPUS:MEMORY, like "
                                        "web:8 or db:16:64G",
                                        printable(spec, 80)));
      };
      std::string rest = spec;
      GuestRequest guest = base;
      // NAME:VCPUS:MEMORY: a last part with a unit (64G, 16384M) is the memory.
      auto colon = rest.rfind(':');
      if (colon == std::string::npos || colon == 0) throw bad();
      std::string last = rest.substr(colon + 1);
      if (!last.empty() && std::isalpha(static_cast<unsigned char>(last.back())) && last != "auto") {
        guest.memory_bytes = parse_size(last, "--guest memory");
        rest = rest.substr(0, colon);
        colon = rest.rfind(':');
        if (colon == std::string::npos || colon == 0) throw bad();
      }
      guest.name = rest.substr(0, colon);
      std::string count = rest.substr(colon + 1);
      guest.vcpus = count == "auto" ? std::nullopt : std::optional(parse_count(count, "--guest vCPU count"));
      request.guests.push_back(guest);
    }
  }
  if (!o.reserve.empty()) request.reserve_cores = parse_count(o.reserve, "--reserve");
  if (!o.cpus.empty()) request.allowed = parse_cpus(o.cpus, "--cpus");
  if (!o.exclude.empty()) request.excluded = parse_cpus(o.exclude, "--exclude");
  if (!o.isolated.empty()) request.isolated = parse_cpus(o.isolated, "--isolated");
  request.weights = o.weights;
  return request;
}

std::optional<PinsReview> review_domain_pins(const RequestOptions& options, const CLI::App& command,
                                             const Domain& domain, const Topology& topo, const GuestRequest& guest,
                                             const CpuSet& isolated) {
  if (domain.vcpupins.empty() || !guest.vcpus || options.replan) return std::nullopt;
  if (command.count("--cpus") != 0 || command.count("--exclude") != 0) return std::nullopt;  // the user chose
  return review_existing_pins(topo, domain.vcpupins, *guest.vcpus, isolated_cpus(topo, isolated));
}

Request make_request(const RequestOptions& options, const CLI::App& command, const Domain& domain,
                     const Topology& topo, bool keep_pins) {
  Request request = make_request(options, command, request_defaults_from(domain, &topo), topo);
  GuestRequest& guest = request.guests.front();
  // The user's count, but none that no device of the domain could use.
  if (command.count("--iothreads") != 0) guest.iothreads = iothreads_for(domain, guest.iothreads, guest.notes);
  if (!keep_pins) return request;
  if (options.replan && !domain.vcpupins.empty()) guest.notes.push_back("--replan: the vCPUs' current pins are planned anew");
  const auto review = review_domain_pins(options, command, domain, topo, guest, request.isolated);
  if (!review) return request;
  if (!review->keep) {
    guest.notes.push_back(fmt::format("the current vCPU pins are planned anew: {}", review->reason));
  } else {
    request.allowed = review->cpus;
    guest.notes.push_back(fmt::format("keeps the current vCPU pins, CPUs {} ({}): only the vCPUs' order and the "
                                      "guest's topology are set; --replan plans them anew",
                                      review->cpus, review->reason));
  }
  return request;
}

Request make_request(const RequestOptions& options, const CLI::App& command, const GuestRequest& from_domain,
                     const Topology& topo) {
  Request request = make_request(options);
  if (request.guests.size() != 1)
    throw RequestError(
        "cannot plan several guests (--guest) for one VM: drop --guest, or --domain/--xml/--vmid/--pve-config");
  GuestRequest& guest = request.guests.front();
  if (command.count("--name") == 0) guest.name = from_domain.name;
  if (command.count("--vcpus") == 0) guest.vcpus = from_domain.vcpus;
  if (command.count("--iothreads") == 0) {
    guest.iothreads = from_domain.iothreads;
    guest.notes = from_domain.notes;
  }
  if (command.count("--memory") == 0) guest.memory_bytes = from_domain.memory_bytes;
  guest.hugepages = from_domain.hugepages;
  if (command.count("--gpu") == 0 && from_domain.gpu) {
    bool known = false;
    for (const PciDevice& dev : topo.pci) known |= dev.address == *from_domain.gpu;
    if (known) guest.gpu = from_domain.gpu;
  }
  return request;
}

}  // namespace vpt::cli
