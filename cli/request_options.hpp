// The request options `suggest` and `report` share, and the one function that
// turns them into a Request.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/App.hpp>

#include "optimizer/existing_pins.hpp"
#include "optimizer/request.hpp"
#include "probe/topology.hpp"
#include "virt/domain.hpp"

namespace vpt::cli {

// The --weight-* options' heading in --help and the man pages: what the
// numbers are and where the reasons for each default are written down.
inline constexpr const char* kWeightsGroup =
    "Cost-model weights (points charged per pair of threads; only their ratios matter; why each default: "
    "docs/optimizer-notes.md; the package installs it in /usr/share/doc/vpt-tune/docs)";

struct RequestOptions {
  std::string name = "guest";
  std::string vcpus;                      // N or auto; "" = auto
  std::string memory;                     // "16G": sizes the guest's NUMA cells; "" = unknown
  std::string reserve;                    // "" = the default rule
  unsigned iothreads = 1;
  std::string helpers = "shared";         // shared | dedicated
  std::string prefer = "performance";     // performance | efficiency | vcache
  std::string gpu;
  std::string cpus, exclude;
  std::string isolated;                   // --isolated LIST: the kernel's isolcpus= of an offline host
  std::vector<std::string> guests;        // name:vcpus, repeated
  bool replan = false;                    // --replan: plan a domain's clean existing pins anew
  bool explain = false;                   // --explain: the score term by term
  Weights weights;
};

void add_request_options(CLI::App& command, RequestOptions& options);
// Throws RequestError for values CLI11 cannot check alone (malformed --guest, CPU lists).
Request make_request(const RequestOptions& options);
// The same, with the domain's settings (name, vCPUs, iothreads, a GPU the host
// lists) filling what the user did not say on `command`'s line. One guest only.
// Clean existing vCPU pins (optimizer/existing_pins.hpp) become the plan's only
// CPUs unless --replan, --cpus, --exclude or another --vcpus count says otherwise.
Request make_request(const RequestOptions& options, const CLI::App& command, const Domain& domain,
                     const Topology& topo, bool keep_pins = true);
// The review of a domain's existing vCPU pins for a guest `guest` planned with
// `options`, or nullopt when the pins are not the user's word: none, --replan,
// or --cpus/--exclude given.
std::optional<PinsReview> review_domain_pins(const RequestOptions& options, const CLI::App& command,
                                             const Domain& domain, const Topology& topo, const GuestRequest& guest,
                                             const CpuSet& isolated);
// The same from a guest's settings read elsewhere (a Proxmox config's
// request_defaults_from): `from_domain`'s GPU is used only if the host lists it.
Request make_request(const RequestOptions& options, const CLI::App& command, const GuestRequest& from_domain,
                     const Topology& topo);

}  // namespace vpt::cli
