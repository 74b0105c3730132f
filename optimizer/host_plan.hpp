// Whole-host planning: every VM of a host planned together, around what the
// user already decided.
//
// Only guests that need it get cores of their own (Dedicated: a passed-through
// device, or the user said so). Pinning every VM is what LXD and oVirt shipped
// and withdrew (docs/whole-host.md); the other guests share one pool of host
// cores (Shared, as OpenStack's cpu_shared_set), away from the dedicated
// guests' L3s where the host has room. A Kept guest's pins stay as they are
// and the others are planned around them. Guests that pass through the same
// device can never run at the same time, so they may get the same cores.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "optimizer/optimizer.hpp"
#include "optimizer/plan.hpp"
#include "optimizer/request.hpp"
#include "probe/topology.hpp"

namespace vpt {

enum class GuestRole {
  Dedicated,  // whole cores of its own, from the cost-model search
  Shared,     // floats over the shared pool with the other shared guests
  Kept,       // its current pins stay; no other guest gets their cores
};

const char* role_name(GuestRole role);

struct HostGuest {
  GuestRequest request;              // vcpus must be set
  GuestRole role = GuestRole::Shared;
  std::string role_reason;           // "passes through 0000:01:00.0", "--dedicated", ...
  std::vector<std::string> devices;  // passed-through PCI addresses ("0000:01:00.0")
  CpuSet kept_cpus;                  // Kept: every CPU its current vCPU pins name
  CpuSet kept_helper_cpus;           // Kept: its emulator and I/O thread pins (no other guest's vCPUs go there)
  // Dedicated: its current vCPU pins when they are clean (optimizer/existing_pins.hpp) and the
  // user did not say --replan. The plan keeps these CPUs and sets only order, topology and helpers.
  CpuSet clean_pins;
  std::string clean_pins_reason;     // review_existing_pins' reason
};

struct HostRequest {
  std::vector<HostGuest> guests;     // at least one, names unique
  std::optional<unsigned> reserve_cores;  // as Request::reserve_cores
  CpuSet excluded;                   // never any guest's (vCPUs, helpers, pool)
  CpuSet isolated;                   // as Request::isolated (the live host's own are added)
  Weights weights;
};

struct HostGuestPlan {
  std::string name;
  GuestRole role = GuestRole::Shared;
  std::string role_reason;
  unsigned vcpus = 0;
  std::optional<GuestPlan> plan;     // Dedicated: its pins, topology, cells
  CpuSet pool;                       // Shared: where its vCPUs and helpers float
  CpuSet kept_cpus;                  // Kept: the CPUs of its pins
  std::vector<std::string> same_cores_as;  // Dedicated guests it shares cores with (same device)
  bool kept_clean_pins = false;      // Dedicated: planned on its own clean pins (HostGuest::clean_pins)
};

struct HostPlan {
  std::vector<HostGuestPlan> guests;  // in request order
  // The search's plan for the dedicated guests (one per group of guests that
  // pass through the same device): score, explanation, warnings, advice.
  // Empty guests when no guest is dedicated. Guests that keep their clean
  // pins are planned on their own and are not in it.
  Plan dedicated;
  CpuSet shared_pool;                 // empty when no guest is shared
  CpuSet host;                        // CPUs the host's own work keeps
  std::vector<std::string> explanation;
  std::vector<std::string> warnings;
};

// Throws RequestError: empty or duplicate names, a kept guest without pins,
// pins that overlap, or dedicated guests that do not fit (one line naming
// which fit and what is short).
HostPlan plan_host(const Topology& topo, const HostRequest& request, const SearchLimits& limits = {});

// The whole host as one Plan, for the report's picture and rows: each
// dedicated guest's plan and each kept guest on the CPUs of its pins ("router
// (kept)"); the shared guests float over the host's CPUs, which the
// explanation names; the host, explanation and warnings of the whole-host plan.
Plan as_one_plan(const HostPlan& plan);

}  // namespace vpt
