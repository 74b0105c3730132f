// Checking plans against facts found without vpt-tune: the .facts files that
// scripts/gen-corpus-facts.sh writes from hwloc-calc (XML) and from the
// listings' own columns with awk (lscpu), read by tests/probe/corpus_facts.hpp.
// Every property an expert checks is computed here from those lists alone.
#pragma once

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "optimizer/plan.hpp"
#include "probe/probe.hpp"
#include "tests/probe/corpus_facts.hpp"

namespace vpt::test {

// A machine of the expert cases: "lscpu/x.txt" or "hwloc/x.xml" below
// tests/corpus, or "machines/x.txt" below tests/optimizer (listings built from
// published layouts, see tests/optimizer/machines/README.md).
struct Machine {
  std::string name;
  std::filesystem::path file, facts;
};

inline Machine machine(const std::string& name) {
  const std::filesystem::path stem = std::filesystem::path(name).stem();
  if (name.starts_with("machines/")) {
    const std::filesystem::path dir = std::filesystem::path(VPT_OPTIMIZER_TEST_DIR) / "machines";
    return {name, dir / (stem.string() + ".txt"), dir / "facts" / (stem.string() + ".facts")};
  }
  return {name, corpus_dir() / name, corpus_dir() / "facts" / (stem.string() + ".facts")};
}

inline Topology load(const Machine& m) {
  return m.file.extension() == ".txt" ? load_lscpu_file(m.file.string()) : load_hwloc_xml_file(m.file.string());
}

using CpuFacts = std::set<unsigned>;

inline CpuFacts to_set(const CpuList& list) { return {list.begin(), list.end()}; }
inline CpuFacts to_set(const CpuSet& cpus) {
  CpuFacts s;
  for (unsigned c : cpus) s.insert(c);
  return s;
}
inline bool meets(const CpuFacts& a, const CpuList& b) {
  return std::any_of(b.begin(), b.end(), [&](unsigned c) { return a.count(c) > 0; });
}
inline bool within(const CpuList& a, const CpuFacts& b) {
  return std::all_of(a.begin(), a.end(), [&](unsigned c) { return b.count(c) > 0; });
}

// The NUMA node (os index) of a CPU from the facts; -1 when none lists it.
inline int node_of(const CorpusFacts& f, unsigned cpu) {
  for (const auto& [node, cpus] : f.numa)
    if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) return static_cast<int>(node);
  return -1;
}

inline std::set<int> nodes_of(const CorpusFacts& f, const CpuFacts& cpus) {
  std::set<int> nodes;
  for (unsigned c : cpus) nodes.insert(node_of(f, c));
  return nodes;
}

inline const CpuList* core_of(const CorpusFacts& f, unsigned cpu) {
  for (const CpuList& core : f.cores)
    if (std::find(core.begin(), core.end(), cpu) != core.end()) return &core;
  return nullptr;
}

// The most performant CPUs: the highest MAXMHZ and those within 5% of it
// (lscpu), or hwloc's last cpukind (the same 5% rule where all kinds give a
// max frequency); every CPU when the source names no kinds.
inline CpuFacts fastest_cpus(const CorpusFacts& f) {
  CpuFacts fast;
  if (!f.maxmhz.empty()) {
    const double top = f.maxmhz.rbegin()->first;
    for (const auto& [mhz, cpus] : f.maxmhz)
      if (mhz >= top * 0.95) fast.insert(cpus.begin(), cpus.end());
    return fast;
  }
  if (f.kinds.empty()) {
    for (const auto& [node, cpus] : f.packages) fast.insert(cpus.begin(), cpus.end());
    return fast;
  }
  bool all_freq = std::all_of(f.kinds.begin(), f.kinds.end(),
                              [](const CorpusFacts::Kind& k) { return k.infos.count("FrequencyMaxMHz") > 0; });
  if (!all_freq) return to_set(f.kinds.back().cpus);
  double top = 0;
  for (const auto& k : f.kinds) top = std::max(top, std::stod(k.infos.at("FrequencyMaxMHz")));
  for (const auto& k : f.kinds)
    if (std::stod(k.infos.at("FrequencyMaxMHz")) >= top * 0.95) fast.insert(k.cpus.begin(), k.cpus.end());
  return fast;
}

// The default reserve as the README states it: at least 2 cores, and never
// less than the cores of the largest L2 shared by several cores.
inline unsigned default_reserve(const CorpusFacts& f) {
  unsigned reserve = 2;
  for (const CpuList& l2 : f.l2) {
    std::set<const CpuList*> cores;
    for (unsigned cpu : l2) cores.insert(core_of(f, cpu));
    reserve = std::max<unsigned>(reserve, static_cast<unsigned>(cores.size()));
  }
  return reserve;
}

// L3s a guest could have to itself: every CPU of the L3 is of the fastest
// kind, on one NUMA node, and taking it leaves the host its reserve.
inline std::vector<CpuList> clean_l3s(const CorpusFacts& f) {
  std::vector<CpuList> out;
  const CpuFacts fast = fastest_cpus(f);
  const unsigned reserve = default_reserve(f);
  for (const CpuList& l3 : f.l3) {
    std::set<const CpuList*> cores;
    for (unsigned cpu : l3) cores.insert(core_of(f, cpu));
    if (!within(l3, fast) || nodes_of(f, to_set(l3)).size() != 1) continue;
    if (f.cores.size() < reserve + cores.size()) continue;
    out.push_back(l3);
  }
  return out;
}

// The guest shares no L3 with the host: every L3 it touches holds no host CPU.
inline bool l3_clean(const CorpusFacts& f, const GuestPlan& guest, const CpuSet& host) {
  const CpuFacts vcpus = to_set(guest.vcpu_cpus()), host_cpus = to_set(host);
  for (const CpuList& l3 : f.l3)
    if (meets(vcpus, l3) && meets(host_cpus, l3)) return false;
  return true;
}

// A host core on `node` that shares no core and no L2 with the vCPUs: room
// for an emulator or I/O thread next to the guest's memory.
inline bool node_has_room(const CorpusFacts& f, int node, const CpuFacts& vcpus, const CpuSet& host) {
  const CpuFacts host_cpus = to_set(host);
  for (const CpuList& core : f.cores) {
    if (!within(core, host_cpus) || node_of(f, core.front()) != node) continue;
    bool shares_l2 = false;
    for (const CpuList& l2 : f.l2)
      if (meets(to_set(core), l2) && meets(vcpus, l2)) shares_l2 = true;
    if (!shares_l2) return true;
  }
  return false;
}

// Helper threads off the node of the vCPUs they serve although that node has
// room: the emulator serves every node of the guest, I/O thread i the guest's
// i-th node (mod the count), as the README says. Returns what is wrong.
inline std::vector<std::string> helpers_off_node_with_room(const CorpusFacts& f, const GuestPlan& g,
                                                           const CpuSet& host) {
  std::vector<std::string> wrong;
  std::vector<int> nodes;  // in vCPU order
  for (unsigned cpu : g.vcpus)
    if (std::find(nodes.begin(), nodes.end(), node_of(f, cpu)) == nodes.end()) nodes.push_back(node_of(f, cpu));
  const CpuFacts vcpus = to_set(g.vcpu_cpus());
  auto check = [&](const CpuSet& thread, int node, const std::string& what) {
    if (node < 0 || nodes_of(f, to_set(thread)).count(node)) return;
    if (node_has_room(f, node, vcpus, host))
      wrong.push_back(what + " on CPUs " + thread.to_string() + ", off node " + std::to_string(node));
  };
  for (int node : nodes) check(g.emulator, node, "emulator");
  for (std::size_t i = 0; i < g.iothreads.size(); ++i)
    check(g.iothreads[i], nodes[i % nodes.size()], "I/O thread " + std::to_string(i + 1));
  return wrong;
}

}  // namespace vpt::test
