// Weights of the cost model: THE place to change how much each kind of
// sharing costs. Every number says why it has its value; all of them can be
// overridden from the config file ([weights] keys of the same names).
//
// Units are arbitrary "interference points" per pair of CPUs; only ratios
// matter. Published core-to-core figures (docs/optimizer-notes.md) order
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
  // Sharing between two guests' vCPUs counts this many times sharing with
  // the host: a dedicated guest runs busy by design (a game, a build, a NAS
  // scrub), while most of the host's CPUs sit idle. Above 2, a guest beside
  // another guest costs more than a guest beside twice as many host CPUs, so
  // two guests get separate L3s wherever the host has them, which is what a
  // VFIO helper posts ("the gaming VM gets its own CCX, the NAS goes with the
  // host"): on a 7965WX a 4-vCPU NAS and an 8-vCPU gaming VM land on
  // different CCDs, not both on CCD 1.
  double guest_neighbour_factor = 3.0;

  // Per pair of vCPUs of two different guests on one NUMA node: they share
  // its memory controllers and bandwidth. Small, so it only spreads guests
  // over nodes whose cores are otherwise as good (2x EPYC 9654, eight 16-vCPU
  // guests: four a socket, not eight on socket 0 bound to its memory); the
  // core swaps leave it out, the block swaps and the exact search weigh it.
  double share_node = 0.05;

  // --- Emulator / I/O threads ("helpers") ---
  // They belong to the guest, so they hurt less than a foreign party: scale.
  // Counted per helper thread (a thread runs on one CPU of its pin at a time).
  double helper_share_factor = 0.5;
  // Per pair (helper thread, vCPU of its guest) whose nearest helper CPU is
  // on another NUMA node, times (distance/10 - 1) as for split_numa: the
  // emulator and I/O threads touch the guest's memory and its devices, which
  // live on the vCPUs' node (docs/optimizer-notes.md). Above
  // helper_share_factor * share_l3 (2 per pair), so a helper on the guest's
  // node that shares its L3 still costs less than one next door.
  double helper_off_node = 6.0;
  // Per pair of helper threads (of one guest or several) pinned to a common
  // core: they take turns on it while other host cores sit idle. Small: a
  // helper still stacks rather than go to another node or share a core or L2
  // with vCPUs. 0 lets helpers share a core (they then pack onto the best one).
  double stack_helpers = 4.0;

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
  // Per pair of a guest's vCPUs that the presented <topology> puts in one
  // die (one L3) while they sit on different host L3s, or in one socket while
  // they sit on different host packages: the guest's scheduler then believes
  // they share a cache and treats their traffic as cheap. Equal to split_l3:
  // the same cross-L3 traffic, this time unseen by the guest.
  double topology_mismatch = 2.0;

  // --- Capacity: what each vCPU gets ---
  // Per vCPU whose core kind is not the preferred one (--prefer), scaled by
  // how far from the preferred kind it is (rank distance / (kinds - 1)). Such
  // a vCPU is charged mix_kinds once per other vCPU of its guest on top, the
  // most mixing it can cause: a guest larger than its kind takes the whole
  // kind first and only the rest elsewhere (the fastest cores there are),
  // never a slower kind whole just to avoid mixing.
  double wrong_kind = 40.0;
  // Per vCPU placed off the 3D V-Cache L3s when --prefer vcache: half of
  // wrong_kind, as the V-Cache CCD is the same core design with 3x the L3.
  double small_l3 = 20.0;
  // Per vCPU outside the NUMA node of the guest's GPU (--gpu).
  double off_gpu_node = 25.0;
  // Per GiB of guest memory bound (strict) to a NUMA node beyond what the
  // node has: a plan must never do that, so this outweighs everything else;
  // a plan left with any is refused.
  double node_memory_overflow = 10000.0;
  // Per vCPU on the core of CPU 0, the boot CPU: the kernel keeps it for
  // timekeeping and drops it from nohz_full= and isolcpus=, and guides leave
  // core 0 to the host; the rest of CPU 0's L3 costs a quarter of it on hosts
  // with several L3s. Smaller than every other weight: it only breaks ties.
  double boot_cpu = 0.5;
};

// Every weight by name, for the config file, the command line and JSON.
struct WeightField {
  const char* name;
  double Weights::*member;
  const char* meaning;  // one line for --help: what one unit of it is charged for
};
inline constexpr WeightField kWeightFields[] = {
    {"share_core", &Weights::share_core, "a guest sharing a core (SMT siblings) with another party"},
    {"share_l2", &Weights::share_l2, "sharing an L2 cluster, without the core"},
    {"share_l3", &Weights::share_l3, "sharing an L3 (CCX/CCD)"},
    {"guest_neighbour_factor", &Weights::guest_neighbour_factor, "times the above when the other party is another guest"},
    {"share_node", &Weights::share_node, "two guests' vCPUs on one NUMA node (its memory bandwidth)"},
    {"helper_share_factor", &Weights::helper_share_factor, "times the above for QEMU's emulator and I/O threads"},
    {"helper_off_node", &Weights::helper_off_node, "a helper thread on another NUMA node than its vCPUs"},
    {"stack_helpers", &Weights::stack_helpers, "two helper threads on one core"},
    {"split_l3", &Weights::split_l3, "two vCPUs of a guest on different L3s"},
    {"split_numa", &Weights::split_numa, "two vCPUs of a guest on different NUMA nodes"},
    {"mix_kinds", &Weights::mix_kinds, "two vCPUs of a guest on different core kinds (P/E)"},
    {"hidden_smt", &Weights::hidden_smt, "SMT siblings the guest is not told about"},
    {"topology_mismatch", &Weights::topology_mismatch, "vCPUs the presented topology puts in one L3 or socket when they are not"},
    {"wrong_kind", &Weights::wrong_kind, "a vCPU on a core kind other than --prefer's"},
    {"small_l3", &Weights::small_l3, "a vCPU off the V-Cache L3s with --prefer vcache"},
    {"off_gpu_node", &Weights::off_gpu_node, "a vCPU off its GPU's NUMA node"},
    {"node_memory_overflow", &Weights::node_memory_overflow, "a GiB of guest memory bound to a node beyond its size"},
    {"boot_cpu", &Weights::boot_cpu, "a vCPU on CPU 0's core"},
};

}  // namespace vpt
