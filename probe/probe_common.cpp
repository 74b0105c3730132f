// Checks and naming shared by all topology sources.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "common/input_file.hpp"
#include "probe/probe.hpp"

namespace vpt {

std::string read_input_file(const std::string& path) {
  try {
    return read_input_file_text(path);
  } catch (const InputFileError& e) {
    throw TopologyInputError(fmt::format("cannot read topology '{}': {}", path, e.what()));
  }
}

namespace detail {

namespace {

// No real CPU has a private cache this large for a single core: the largest
// per-CCD L3 (EPYC 9684X, 3D V-Cache) is 96 MiB shared by 8 cores.
constexpr std::uint64_t kImplausiblePrivateCacheBytes = 64ull << 20;

std::string size_text(std::uint64_t bytes) {
  if (bytes >= (1ull << 20)) return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} KiB", bytes >> 10);
}

}  // namespace

void check_cache_plausibility(Topology& topo) {
  if (topo.caches.empty()) {
    topo.warnings.push_back(
        "no cache information: which CPUs share L1/L2/L3 is unknown, so plans can only keep SMT "
        "siblings and NUMA nodes together");
    return;
  }
  if (topo.cores.size() < 2) return;
  std::map<int, std::vector<const Cache*>> by_level;
  for (const Cache& cache : topo.caches)
    if (cache.level >= 2) by_level[cache.level].push_back(&cache);
  for (auto& [level, caches] : by_level) {
    std::uint64_t biggest = 0;
    bool all_private = true;
    for (const Cache* cache : caches) {
      biggest = std::max(biggest, cache->size_bytes.value_or(0));
      // Private = within one core.
      for (const Core& core : topo.cores)
        if (core.cpus.contains(cache->cpus.first()) && !core.cpus.contains(cache->cpus)) all_private = false;
    }
    if (!(all_private && caches.size() > 1 && biggest >= kImplausiblePrivateCacheBytes)) continue;
    topo.warnings.push_back(fmt::format(
        "the source reports a private {} L{} for every core, which no real CPU has (a virtual "
        "machine's made-up cache): L{} sharing is treated as unknown",
        size_text(biggest), level, level));
    int drop = level;
    std::erase_if(topo.caches, [drop](const Cache& c) { return c.level == drop; });
  }
}

namespace {

std::string arm_part_name(const std::string& part) {
  static const std::map<std::string, std::string> names = {
      {"0xd03", "Cortex-A53"},   {"0xd04", "Cortex-A35"},   {"0xd05", "Cortex-A55"},
      {"0xd07", "Cortex-A57"},   {"0xd08", "Cortex-A72"},   {"0xd09", "Cortex-A73"},
      {"0xd0a", "Cortex-A75"},   {"0xd0b", "Cortex-A76"},   {"0xd0c", "Neoverse-N1"},
      {"0xd0d", "Cortex-A77"},   {"0xd40", "Neoverse-V1"},  {"0xd41", "Cortex-A78"},
      {"0xd44", "Cortex-X1"},    {"0xd46", "Cortex-A510"},  {"0xd47", "Cortex-A710"},
      {"0xd48", "Cortex-X2"},    {"0xd49", "Neoverse-N2"},  {"0xd4d", "Cortex-A715"},
      {"0xd4e", "Cortex-X3"},    {"0xd4f", "Neoverse-V2"},  {"0xd80", "Cortex-A520"},
      {"0xd81", "Cortex-A720"},  {"0xd82", "Cortex-X4"},    {"0xd84", "Neoverse-V3"},
      {"0xd85", "Cortex-X925"},  {"0xd87", "Cortex-A725"},
  };
  auto it = names.find(part);
  return it == names.end() ? "" : it->second;
}

bool same_design(const CoreKind& a, const CoreKind& b) {
  if (a.core_type != b.core_type) return false;
  if (a.linux_capacity && b.linux_capacity && *a.linux_capacity != *b.linux_capacity) {
    auto lo = std::min(*a.linux_capacity, *b.linux_capacity), hi = std::max(*a.linux_capacity, *b.linux_capacity);
    if (hi > lo + lo / 20) return false;
  }
  if (a.max_mhz.has_value() != b.max_mhz.has_value()) return false;
  if (!a.max_mhz) return true;
  auto lo = std::min(*a.max_mhz, *b.max_mhz), hi = std::max(*a.max_mhz, *b.max_mhz);
  // Within 5%: GH200's "kinds" span 3438-3474 MHz (1%); Intel favoured cores
  // differ by 100 MHz (2%); real P/E or big/LITTLE differ by 20% and more.
  return hi * 100 <= lo * 105;
}

// The Zen generation of the only AMD families with compact cores: family 25
// (0x19) is Zen 3 and Zen 4, and only Zen 4 has a "c" core; family 26 (0x1A) Zen 5.
std::optional<unsigned> amd_generation(const Topology& topo) {
  if (topo.cpu_family == 25u) return 4;
  if (topo.cpu_family == 26u) return 5;
  return std::nullopt;
}

// Every core of the kind runs two or more threads.
bool all_smt(const Topology& topo, const CoreKind& kind) {
  return std::all_of(topo.cores.begin(), topo.cores.end(),
                     [&](const Core& core) { return !core.cpus.intersects(kind.cpus) || core.cpus.size() > 1; });
}

// All of the kind's CPUs sit on L3s with stacked V-Cache.
bool on_vcache(const Topology& topo, const CoreKind& kind) {
  CpuSet covered;
  for (const Cache* l3 : vcache_l3s(topo)) covered |= l3->cpus;
  return !kind.cpus.empty() && covered.contains(kind.cpus);
}

// AMD's desktop and server parts have one core design per die type, and its
// clocks differ within a design: a V-Cache CCD boosts 5-10% lower than its
// sibling (7950X3D: 5.25 vs 5.76 GHz) and preferred cores differ by a few per
// cent, while a compact Zen 4c/5c core clocks 30% and more lower (Ryzen AI 9
// HX 370: 3.3 vs 5.16 GHz). So on AMD, and where both kinds run SMT on every
// core (no Intel E-core does), kinds within 20% are one design; a CCD with
// V-Cache is never a lower kind because of its clock (docs/optimizer-notes.md).
bool same_amd_design(const Topology& topo, const CoreKind& a, const CoreKind& b) {
  if (a.core_type != b.core_type || !a.max_mhz || !b.max_mhz) return false;
  const bool amd_like = is_amd(topo) || (all_smt(topo, a) && all_smt(topo, b));
  if (!amd_like) return false;
  if (is_amd(topo) && (on_vcache(topo, a) || on_vcache(topo, b))) return true;
  const unsigned lo = std::min(*a.max_mhz, *b.max_mhz), hi = std::max(*a.max_mhz, *b.max_mhz);
  return hi * 100 <= lo * 120;
}

}  // namespace

std::optional<unsigned> parse_cpu_family(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.remove_suffix(1);
  unsigned family = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), family);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty() || family >= 4096) return std::nullopt;
  return family;
}

std::vector<std::string> parse_cpu_flags(std::string_view value) {
  constexpr std::size_t kMaxFlags = 1024, kMaxFlagLength = 64;  // x86 has ~300 flags of at most 30 characters
  std::vector<std::string> flags;
  std::size_t at = 0;
  while (at < value.size() && flags.size() < kMaxFlags) {
    const std::size_t start = value.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    const std::size_t end = std::min(value.find_first_of(" \t", start), value.size());
    const std::string_view word = value.substr(start, end - start);
    at = end;
    const bool name = word.size() <= kMaxFlagLength && std::all_of(word.begin(), word.end(), [](char c) {
      return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    });
    if (name) flags.emplace_back(word);
  }
  std::sort(flags.begin(), flags.end());
  flags.erase(std::unique(flags.begin(), flags.end()), flags.end());
  return flags;
}

void name_and_merge_kinds(Topology& topo) {
  // Merge neighbours in rank order that are the same design.
  std::vector<CoreKind> merged;
  for (CoreKind& kind : topo.kinds) {
    if (!merged.empty() && (same_design(merged.back(), kind) || same_amd_design(topo, merged.back(), kind))) {
      CoreKind& into = merged.back();
      into.cpus |= kind.cpus;
      if (kind.max_mhz) into.max_mhz = std::max(into.max_mhz.value_or(0), *kind.max_mhz);
      continue;
    }
    merged.push_back(std::move(kind));
  }
  topo.kinds = std::move(merged);

  const std::size_t n = topo.kinds.size();
  for (std::size_t rank = 0; rank < n; ++rank) {
    CoreKind& kind = topo.kinds[rank];
    if (!kind.name.empty()) continue;
    if (kind.core_type == "IntelCore") kind.name = "P-core";
    else if (kind.core_type == "IntelAtom")
      kind.name = rank == 0 && n > 2 ? "LP E-core" : "E-core";
    else if (!arm_part_name(kind.core_type).empty()) kind.name = arm_part_name(kind.core_type);
    else if (n == 1) kind.name = "core";
    else if (n == 2 && is_amd(topo) && amd_generation(topo))  // full and compact cores (Zen 5 / Zen 5c)
      kind.name = rank == 1 ? fmt::format("Zen {}", *amd_generation(topo)) : fmt::format("Zen {}c", *amd_generation(topo));
    else if (rank == n - 1) kind.name = "performance";
    else if (rank == 0) kind.name = "efficiency";
    else kind.name = fmt::format("mid-{}", rank);
  }
}

}  // namespace detail
}  // namespace vpt
