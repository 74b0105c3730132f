// Weights of the cost model: THE place to change how much each kind of
// sharing costs. Every number says why it has its value; all of them can be
// overridden from the config file ([weights] keys of the same names).
//
// Units are arbitrary "interference points" per pair of CPUs; only ratios
// matter. Published core-to-core figures (shared/notes/architecture.md) order
// the harm of sharing as: same core (L1/L2, SMT) >> same L2 cluster > same L3
// > same NUMA node, and the cost of splitting one guest's own threads as
// cross-L3 (~75-100 ns) < cross-socket (~200 ns).
#pragma once

namespace vpt {

struct Weights {
  // --- Sharing between two different parties (host↔guest, guest↔guest) ---
  // SMT siblings share L1, L2 and the core's execution units: the worst case.
  double share_core = 100.0;
  // Same L2 without the same core (Intel E-core clusters, Bulldozer modules,
  // KNL tiles): L2 evictions plus shared L2 bandwidth.
  double share_l2 = 30.0;
  // Same L3 (same CCX/CCD on AMD, the whole ring on Intel client parts):
  // evictions and L3 bandwidth. Kubernetes reports ~18% on TPROC-C from
  // keeping a workload inside one L3.
  double share_l3 = 4.0;

  // --- Emulator / I/O threads next to the guest's vCPUs ---
  // They belong to the guest, so they hurt less than a foreign party: scale.
  double helper_share_factor = 0.5;

  // --- Splitting one guest (its own threads talk to each other) ---
  // Per pair of the guest's vCPUs on different L3s: cross-CCD latency is
  // ~5x same-CCD (18 vs 85 ns on a 5950X).
  double split_l3 = 2.0;
  // Per pair of vCPUs on different NUMA nodes, times (distance/10 - 1):
  // cross-socket traffic ~200 ns plus remote memory.
  double split_numa = 6.0;
  // Per pair of vCPUs on different core kinds: the guest scheduler assumes
  // symmetric cores, so mixed kinds make a slow vCPU hold the fast ones back.
  double mix_kinds = 8.0;
  // vCPU pairs in the same guest that are SMT siblings on the host but not
  // presented as such to the guest (odd counts): the guest cannot schedule
  // around the shared core.
  double hidden_smt = 1.0;

  // --- Capacity: what each vCPU gets ---
  // Per vCPU whose core kind is not the preferred one (--prefer), scaled by
  // how far from the preferred kind it is (rank distance / (kinds - 1)).
  double wrong_kind = 40.0;
  // Per vCPU placed on an L3 smaller than the largest one when --prefer vcache.
  double small_l3 = 20.0;
  // Per vCPU outside the NUMA node of the guest's GPU (--gpu).
  double off_gpu_node = 25.0;
};

// Every weight by name, for the config file, the command line and JSON.
struct WeightField {
  const char* name;
  double Weights::*member;
};
inline constexpr WeightField kWeightFields[] = {
    {"share_core", &Weights::share_core},
    {"share_l2", &Weights::share_l2},
    {"share_l3", &Weights::share_l3},
    {"helper_share_factor", &Weights::helper_share_factor},
    {"split_l3", &Weights::split_l3},
    {"split_numa", &Weights::split_numa},
    {"mix_kinds", &Weights::mix_kinds},
    {"hidden_smt", &Weights::hidden_smt},
    {"wrong_kind", &Weights::wrong_kind},
    {"small_l3", &Weights::small_l3},
    {"off_gpu_node", &Weights::off_gpu_node},
};

}  // namespace vpt
