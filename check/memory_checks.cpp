// Memory: static hugepages (how many, on which node, whether the live host
// has them free) and the balloon of a passthrough guest.
#include <fmt/format.h>

#include "check/check_table.hpp"

namespace vpt::check_detail {

namespace {

constexpr std::uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;
constexpr std::uint64_t kSmallPage = 2 * kMiB, kLargePage = kGiB;

std::uint64_t pages_for(std::uint64_t bytes, std::uint64_t page) { return (bytes + page - 1) / page; }

// The NUMA node the guest's memory must come from: a strict <numatune> of one
// node, else the plan's one node (the fix), else none (any node).
std::optional<unsigned> memory_node(const Context& c) {
  const Domain& d = c.domain;
  if (d.numatune_nodeset && d.numatune_nodeset->size() == 1 && d.numatune_mode.value_or("strict") == "strict")
    return d.numatune_nodeset->first();
  if (c.plan && c.plan->memory_nodes.size() == 1) return c.plan->memory_nodes.first();
  return std::nullopt;
}

// The live host's pool of `page` bytes on `node` (nullopt: the system-wide pool).
const HugepagePool* pool(const HostState& live, std::uint64_t page, std::optional<unsigned> node) {
  for (const HugepagePool& p : live.hugepages)
    if (p.page_bytes == page && p.numa == node) return &p;
  return nullptr;
}

std::string pool_path(std::uint64_t page, std::optional<unsigned> node) {
  const std::string dir = fmt::format("hugepages-{}kB", page / 1024);
  return node ? fmt::format("/sys/devices/system/node/node{}/hugepages/{}/nr_hugepages", *node, dir)
              : fmt::format("/sys/kernel/mm/hugepages/{}/nr_hugepages", dir);
}

// The commands that reserve `count` pages of `page` bytes (total = already
// reserved + what the guest needs).
std::string reserve_commands(std::uint64_t total_small, std::uint64_t count_large, std::optional<unsigned> node) {
  return fmt::format(
      "# now (may reserve fewer when memory is fragmented: read the file back):\n"
      "echo {} > {}\n"
      "# or at boot, on the kernel command line (1 GiB pages need the pdpe1gb CPU flag):\n"
      "default_hugepagesz=1G hugepagesz=1G hugepages={}",
      total_small, pool_path(kSmallPage, node), node ? fmt::format("{}:{}", *node, count_large) : std::to_string(count_large));
}

std::optional<Hit> hugepages_missing(const Context& c) {
  const Domain& d = c.domain;
  const std::uint64_t memory = d.memory_bytes.value_or(0);
  if (d.hugepages || memory < 4 * kGiB) return std::nullopt;
  const std::uint64_t small = pages_for(memory, kSmallPage), large = pages_for(memory, kLargePage);
  const auto node = memory_node(c);
  const std::string where = node ? fmt::format(" on NUMA node {}", *node) : "";
  std::string evidence = fmt::format("{} of guest memory on 4 KiB pages: {} × 2 MiB or {} × 1 GiB hugepages{} hold "
                                     "it{}",
                                     bytes_text(memory), small, large, where,
                                     node ? " (its strict <numatune>)" : "");
  // With the live host's pools: the largest page size that divides the memory and has enough free
  // pages is applied, named explicitly (the host's default size may be another).
  std::uint64_t reserved = 0;
  std::optional<std::uint64_t> usable;
  if (c.live) {
    for (std::uint64_t page : {kLargePage, kSmallPage}) {
      const HugepagePool* p = pool(*c.live, page, node);
      if (page == kSmallPage) reserved = p ? p->total : 0;
      if (!p && page == kLargePage) continue;
      evidence += fmt::format("; the host has {} free {} pages{} ({} reserved)", p ? p->free : 0, bytes_text(page),
                              where, p ? p->total : 0);
      if (!usable && p && memory % page == 0 && p->free >= memory / page) usable = page;
    }
  }
  Hit hit;
  hit.evidence = evidence;
  hit.fix_kind = FixKind::DomainXml;
  if (usable) {
    hit.fix = fmt::format("<memoryBacking>\n  <hugepages>\n    <page size='{}' unit='KiB'/>\n  </hugepages>\n"
                          "</memoryBacking>",
                          *usable / 1024);
    hit.auto_fix = AutoFix::Tuning;
    hit.tuning.hugepages = true;
    hit.tuning.hugepage_bytes = usable;
  } else {
    hit.fix = fmt::format("<memoryBacking>\n  <hugepages/>\n</memoryBacking>\n# on the host, first:\n{}",
                          reserve_commands(reserved + small, large, node));
    hit.manual_reason = "reserve the pages on the host first (the commands in the fix): a guest whose hugepages are "
                        "missing does not start; then run check --fix again";
  }
  return hit;
}

std::optional<Hit> hugepages_short(const Context& c) {
  const Domain& d = c.domain;
  // A running guest holds its pages already: the free count says nothing then.
  if (!d.hugepages || c.running == true || !d.memory_bytes) return std::nullopt;
  const std::uint64_t page = d.hugepage_bytes.value_or(kSmallPage);
  const auto node = memory_node(c);
  const HugepagePool* p = pool(*c.live, page, node);
  const std::uint64_t need = pages_for(*d.memory_bytes, page), free = p ? p->free : 0;
  if (free >= need) return std::nullopt;
  const std::string where = node ? fmt::format(" on node {}", *node) : "";
  return host_fix(fmt::format("the guest needs {} × {} pages{}; the host has {} free ({} reserved)", need,
                              bytes_text(page), where, free, p ? p->total : 0),
                  fmt::format("echo {} > {}", (p ? p->total : 0) + need - free, pool_path(page, node)));
}

std::optional<Hit> memballoon_passthrough(const Context& c) {
  const Domain& d = c.domain;
  if (!c.passthrough || d.memballoon_model == "none") return std::nullopt;
  DomainTuning t;
  t.memballoon_none = true;
  return tuning_fix(d.memballoon_model
                        ? fmt::format("<memballoon model='{}'> with {} passed through", *d.memballoon_model,
                                      fmt::join(d.hostdevs, ", "))
                        : fmt::format("no <memballoon>: libvirt adds a virtio balloon; {} passed through",
                                      fmt::join(d.hostdevs, ", ")),
                    "<memballoon model='none'/>", t);
}

}  // namespace

std::vector<Check> memory_checks() {
  return {
      {"hugepages-missing", Severity::Warning, "A large guest on 4 KiB pages",
       "Guest memory on 4 KiB pages needs a TLB entry per 4 KiB: large guests miss the TLB often; static hugepages "
       "of 2 MiB or 1 GiB, reserved on the host and named in <memoryBacking>, hold it in far fewer entries. Source: "
       "Arch Wiki, PCI passthrough via OVMF, \"Huge memory pages\"; libvirt Domain XML format, \"Memory Backing\".",
       Needs::Domain, hugepages_missing},
      {"hugepages-short", Severity::Warning, "The host has fewer free hugepages than the guest needs",
       "A guest backed by hugepages takes them all when it starts and does not start when they are missing. "
       "Source: libvirt Domain XML format, \"Memory Backing\"; Arch Wiki, PCI passthrough via OVMF, \"Static huge "
       "pages\".",
       Needs::LiveHost, hugepages_short},
      {"memballoon-passthrough", Severity::Warning, "A memory balloon on a guest with a passed-through device",
       "With a device passed through, QEMU pins all guest memory for DMA and inhibits ballooning: the balloon can "
       "return nothing and its driver only costs. Source: QEMU commit c65ee433 (\"vfio: Inhibit ballooning based "
       "on group attachment to a container\"); libvirt Domain XML format, \"Memory balloon device\".",
       Needs::Domain, memballoon_passthrough},
  };
}

}  // namespace vpt::check_detail
