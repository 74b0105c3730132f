// patch_pve_config(): the plan's keys into a Proxmox VM config, every other
// byte kept. Why each key gets the value it gets: docs/proxmox-notes.md.
#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/text.hpp"
#include "optimizer/optimizer.hpp"
#include "pve/config_lines.hpp"
#include "pve/pve_config.hpp"

namespace vpt {

namespace {

constexpr unsigned kMaxGuestNumaNodes = 8;  // qemu-server's $MAX_NUMA (Memory.pm)

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// "0-3,8" -> "0-3;8": qemu-server's numa<n> lists use ';'.
std::string semicolon_list(const CpuSet& set) {
  std::string text = set.to_string();
  std::replace(text.begin(), text.end(), ',', ';');
  return text;
}

std::optional<CpuSet> semicolon_set(const std::string& text) {
  std::string list = text;
  std::replace(list.begin(), list.end(), ';', ',');
  try {
    return CpuSet::parse(list);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// args: with one "-smp VALUE" (the last one given, in place) and no other -smp.
std::string args_with_smp(const std::string& args, const std::string& smp_value) {
  std::vector<ArgsWord> words = split_pve_args(args);
  std::vector<std::size_t> smp;  // each -smp and its value (the next word, even "-smp": QEMU reads it so)
  for (std::size_t i = 0; i < words.size(); ++i)
    if (words[i].text == "-smp" || words[i].text == "--smp") smp.push_back(i++);
  const std::string ours = "-smp " + smp_value;
  if (smp.empty()) return args.empty() ? ours : args + " " + ours;
  std::string out = args;
  // Back to front, so earlier offsets stay valid.
  for (std::size_t k = smp.size(); k-- > 0;) {
    std::size_t i = smp[k];
    std::size_t end = i + 1 < words.size() ? words[i + 1].end : words[i].end;
    if (k + 1 == smp.size()) {
      out.replace(words[i].begin, end - words[i].begin, ours);
    } else {
      std::size_t begin = i > 0 ? words[i - 1].end : 0;  // with the blanks before it
      if (i == 0) {  // first word: take the blanks after it instead
        while (end < out.size() && is_blank(out[end])) ++end;
      }
      out.erase(begin, end - begin);
    }
  }
  return out;
}

// The line edits of one patch: key -> new value (nullopt = remove every line of it).
using Edits = std::map<std::string, std::optional<std::string>>;

// Applies edits to one section: the current one (the lines before the first
// [section], `section` = "") or a named one, [PENDING], which is added after the
// current section when missing. In [PENDING] a removal is a `delete:` entry.
std::string apply_edits(std::string_view text, const Edits& edits, const std::string& section = "") {
  struct Line {
    std::string text;
    bool newline;
    std::string key;  // option key in the edited section, "" for other lines
    bool header = false;  // a [section] line
  };
  std::vector<Line> lines;
  // A file saved with CRLF line ends keeps them on the lines the patch writes.
  const auto first_newline = text.find('\n');
  const std::string cr = first_newline != std::string_view::npos && first_newline > 0 && text[first_newline - 1] == '\r'
                             ? "\r"
                             : "";
  std::size_t begin = section.empty() ? 0 : std::string::npos, end = std::string::npos;
  bool inside = section.empty();
  for (const ConfigLine& l : split_config_lines(text)) {
    if (l.kind == ConfigLine::Kind::Section) {
      if (inside) end = lines.size();
      inside = l.key == section;
      if (inside) begin = lines.size() + 1;
    }
    lines.push_back({std::string(l.text), l.newline,
                     l.kind == ConfigLine::Kind::Option && inside ? std::string(l.key) : "",
                     l.kind == ConfigLine::Kind::Section});
  }
  if (inside) end = lines.size();
  if (begin == std::string::npos) {
    // qemu-server writes [PENDING] right after the current section, after a blank line.
    std::size_t at = 0;
    while (at < lines.size() && !lines[at].header) ++at;
    // Blank lines before the next section stay before it.
    while (at > 0 && lines[at - 1].text.find_first_not_of(" \t\r") == std::string::npos) --at;
    if (at > 0 && !lines[at - 1].newline) lines[at - 1].newline = true;
    std::vector<Line> header{{cr, true, ""}, {"[" + section + "]" + cr, true, "", true}};
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), header.begin(), header.end());
    begin = end = at + 2;
  }
  const bool pending = !section.empty();
  std::vector<std::string> deleted;

  for (const auto& [key, value] : edits) {
    std::vector<std::size_t> at;
    for (std::size_t i = begin; i < end; ++i)
      if (lines[i].key == key) at.push_back(i);
    if (value && !at.empty()) {
      lines[at.front()].text = key + ": " + *value + (lines[at.front()].text.ends_with('\r') ? "\r" : "");
      at.erase(at.begin());
    }
    for (std::size_t k = at.size(); k-- > 0;) {
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at[k]));
      --end;
    }
    if (!value && pending) deleted.push_back(key);
    if (value && std::none_of(lines.begin() + static_cast<std::ptrdiff_t>(begin),
                              lines.begin() + static_cast<std::ptrdiff_t>(end),
                              [&](const Line& l) { return l.key == key; })) {
      // Where qemu-server's writer would put it: options sorted by key.
      std::size_t pos = end, last_option = begin;
      bool any = false;
      for (std::size_t i = begin; i < end; ++i) {
        if (lines[i].key.empty()) continue;
        if (lines[i].key > key && pos == end) pos = i;
        last_option = i;
        any = true;
      }
      if (pos == end && any) pos = last_option + 1;
      Line line{key + ": " + *value + cr, true, key};
      if (pos == lines.size() && !lines.empty() && !lines.back().newline) {
        lines.back().newline = true;  // the file ended without '\n': so does the new one
        line.newline = false;
      }
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pos), line);
      ++end;
    }
  }
  if (!deleted.empty()) {
    // As qemu-server's print_pending_delete writes it: keys sorted, joined by
    // ',', a '!' (force) kept; the line sorted among the pending keys.
    auto first = lines.begin() + static_cast<std::ptrdiff_t>(begin), last = lines.begin() + static_cast<std::ptrdiff_t>(end);
    auto existing = std::find_if(first, last, [](const Line& l) { return l.key == "delete"; });
    std::map<std::string, bool> keys;  // key -> forced
    if (existing != last) {
      std::string list = existing->text.substr(existing->text.find(':') + 1);
      for (char& ch : list)
        if (ch == ';' || ch == ' ' || ch == '\t' || ch == '\r') ch = ',';
      std::istringstream items(list);
      for (std::string item; std::getline(items, item, ',');)
        if (!item.empty()) keys[item[0] == '!' ? item.substr(1) : item] |= item[0] == '!';
    }
    for (const std::string& key : deleted) keys.emplace(key, false);
    std::vector<std::string> items;
    for (const auto& [key, forced] : keys) items.push_back((forced ? "!" : "") + key);
    const std::string text = fmt::format("delete: {}", fmt::join(items, ",")) + cr;
    if (existing != last) {
      existing->text = text;
    } else {
      auto pos = std::find_if(first, last, [](const Line& l) { return !l.key.empty() && l.key > "delete"; });
      Line line{text, true, "delete"};
      if (pos == lines.end() && !lines.empty() && !lines.back().newline) {
        lines.back().newline = true;  // the file ended without '\n': so does the new one
        line.newline = false;
      }
      lines.insert(pos, line);
    }
  }
  std::string out;
  for (const Line& l : lines) out += l.text + (l.newline ? "\n" : "");
  return out;
}

// How many MiB each guest NUMA node gets: in proportion to its vCPUs, each a
// multiple of `granule` (the hugepage size), summing to `total`.
std::vector<unsigned> split_memory(unsigned total, const std::vector<unsigned>& vcpus_per_node, unsigned granule,
                                   const std::string& vm) {
  if (total % granule != 0)
    throw RequestError(fmt::format("cannot split the memory of {} into hugepages: {} MiB is not a multiple of the "
                                   "{} MiB page size (qemu-server refuses it too); change memory: or hugepages:",
                                   vm, total, granule));
  unsigned vcpus = 0;
  for (unsigned n : vcpus_per_node) vcpus += n;
  std::vector<unsigned> out;
  unsigned given = 0;
  for (std::size_t k = 0; k < vcpus_per_node.size(); ++k) {
    unsigned share = k + 1 == vcpus_per_node.size()
                         ? total - given
                         : static_cast<unsigned>(std::uint64_t{total} * vcpus_per_node[k] / vcpus / granule * granule);
    if (share == 0)
      throw RequestError(fmt::format("cannot split the {} MiB of {} over {} NUMA nodes in {} MiB pages: give it more "
                                     "memory",
                                     total, vm, vcpus_per_node.size(), granule));
    out.push_back(share);
    given += share;
  }
  return out;
}

std::string vm_name(const PveConfig& config) {
  return config.vmid ? fmt::format("VM {}", *config.vmid) : fmt::format("'{}'", config.source);
}

}  // namespace

std::vector<ArgsWord> split_pve_args(std::string_view args) {
  std::vector<ArgsWord> words;
  std::size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && is_blank(args[i])) ++i;
    if (i >= args.size()) break;
    ArgsWord word;
    word.begin = i;
    char quote = 0;
    for (; i < args.size(); ++i) {
      char c = args[i];
      if (quote == '\'') {
        if (c == '\'') quote = 0;
        else word.text += c;
      } else if (quote == '"') {
        if (c == '"') quote = 0;
        else if (c == '\\' && i + 1 < args.size()) word.text += args[++i];
        else word.text += c;
      } else if (is_blank(c)) {
        break;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\\') {
        if (i + 1 == args.size()) throw std::invalid_argument("it ends in a backslash");
        word.text += args[++i];
      } else {
        word.text += c;
      }
    }
    if (quote) throw std::invalid_argument(fmt::format("its {} quote is not closed", quote == '"' ? "double" : "single"));
    word.end = i;
    words.push_back(std::move(word));
  }
  return words;
}

std::string pve_smp_value(const GuestTopology& t, std::optional<unsigned> maxcpus) {
  const unsigned most = maxcpus.value_or(t.vcpus());
  return fmt::format("{},sockets={},dies={},cores={},threads={},maxcpus={}", t.vcpus(), t.sockets, t.dies,
                     most / (t.sockets * t.dies * t.threads), t.threads, most);
}

namespace {

// The edits of one patch under way: each key is changed only when its value differs.
class KeyEdits {
 public:
  explicit KeyEdits(const PveConfig& config) : config_(config) {}
  bool has(const std::string& key) const { return config_.options.count(key) != 0; }
  const std::string& value(const std::string& key) const { return config_.options.at(key); }
  void set(const std::string& key, const std::string& value) {
    if (!has(key) || this->value(key) != value) edits_[key] = value;
  }
  void remove(const std::string& key) {
    if (has(key)) edits_[key] = std::nullopt;
  }
  const Edits& edits() const { return edits_; }

 private:
  const PveConfig& config_;
  Edits edits_;
};

// The most vCPUs the VM keeps (QEMU's maxcpus): more than the plan's where
// vcpus: makes the plan's count the vCPUs online at boot and the rest can be
// hot-plugged, and the plan's topology divides the maximum (so -smp can say it).
unsigned kept_maxcpus(const PveConfig& config, const GuestPlan& plan, PvePatch& patch) {
  const unsigned vcpus = static_cast<unsigned>(plan.vcpus.size());
  const unsigned maxcpus = config.vcpus();
  if (!config.hotplugged_vcpus || config.online_vcpus() != vcpus || maxcpus <= vcpus) return vcpus;
  const GuestTopology& t = plan.topology;
  if (maxcpus % (t.sockets * t.dies * t.threads) != 0) {
    patch.notes.push_back(fmt::format("vcpus: {} removed: the plan's topology ({} socket(s) x {} threads per core) "
                                      "cannot hold QEMU's maximum of {} vCPUs, so the {} planned are all there is",
                                      vcpus, t.sockets, t.threads, maxcpus, vcpus));
    return vcpus;
  }
  patch.notes.push_back(fmt::format(
      "vcpus: {} stays: the plan places the {} vCPUs online at boot; vCPUs {}-{} (up to cores x sockets = {}), if "
      "hot-plugged later, are not pinned and run where QEMU's main thread does (CPUs {})",
      vcpus, vcpus, vcpus, maxcpus - 1, maxcpus, plan.emulator.empty() ? plan.vcpu_cpus() : plan.emulator));
  return maxcpus;
}

// sockets:, cores:, vcpus:, smp: and the -smp in args:. `maxcpus` is the
// plan's vCPU count, or more where vcpus: stays (kept_maxcpus).
void edit_topology(const PveConfig& config, const GuestPlan& plan, unsigned maxcpus, KeyEdits& keys,
                   PvePatch& patch) {
  const std::string vm = vm_name(config);
  const unsigned vcpus = static_cast<unsigned>(plan.vcpus.size());
  const GuestTopology& t = plan.topology;
  if (t.vcpus() != vcpus || vcpus == 0)
    throw RequestError(fmt::format("cannot write the plan into {}: its topology ({} x {} x {} x {}) does not cover its "
                                   "{} vCPUs", vm, t.sockets, t.dies, t.cores, t.threads, vcpus));
  const unsigned cores_per_socket = maxcpus / t.sockets;
  keys.remove("smp");  // the old name of sockets:, which qemu-server drops when it writes the config
  if (keys.has("sockets") || t.sockets != 1) keys.set("sockets", std::to_string(t.sockets));
  if (keys.has("cores") || cores_per_socket != 1) keys.set("cores", std::to_string(cores_per_socket));
  if (keys.has("vcpus") && maxcpus == vcpus) {
    keys.remove("vcpus");
    patch.notes.push_back(fmt::format("vcpus: {} removed: the plan places all {} vCPUs, so all are present at boot",
                                      keys.value("vcpus"), vcpus));
  }
  if (config.cpu_hotplug) {
    // qemu-server adds vCPUs 2.. as devices with core-ids for sockets x cores; an -smp in
    // args that changes the cores per socket leaves some without a slot: QEMU does not start.
    for (const ArgsWord& word : split_pve_args(config.args))
      if (word.text == "-smp" || word.text == "--smp")
        throw PveConfigError(fmt::format(
            "cannot patch Proxmox config '{}': CPU hotplug is on for the next start{} while args: has its own -smp: "
            "qemu-server then adds vCPUs as devices whose core ids the args' topology may lack, and QEMU may not "
            "start; remove 'cpu' from hotplug (`qm set VMID --revert hotplug` if it is pending) or the -smp from args",
            config.source,
            std::find(config.pending_keys.begin(), config.pending_keys.end(), "hotplug") != config.pending_keys.end()
                ? " ([PENDING] hotplug)"
                : ""));
    patch.warnings.push_back(fmt::format(
        "{} has CPU hotplug on (hotplug: {}): qemu-server then adds vCPUs as devices with thread-id=0, so no -smp "
        "in args can give the guest {} threads per core; it sees {} socket(s) x {} cores. Remove 'cpu' from "
        "hotplug and run vpt-tune again for the plan's topology",
        vm, keys.has("hotplug") ? keys.value("hotplug") : std::string("pending"), t.threads, t.sockets,
        cores_per_socket));
    return;
  }
  if (config.args.find("debug-threads=off") != std::string::npos)
    patch.warnings.push_back(fmt::format(
        "{}'s args: turn QEMU's thread names off (debug-threads=off): the hookscript cannot tell the vCPU threads "
        "apart and pins nothing; remove it from args",
        vm));
  std::string args = args_with_smp(config.args, pve_smp_value(t, maxcpus));
  if (args != config.args) keys.set("args", args);
}

// A numa<n> line must fit this host: QEMU does not start when hostnodes=
// names a node the host lacks, and memory bound (policy=bind) beyond what
// its nodes hold is taken by the OOM killer, not from another node.
void check_numa_line_fits(const PveConfig& config, const Topology& host, unsigned n, const std::string& line) {
  if (host.numa_nodes.empty()) return;
  PropertyString node = parse_property_string(line, "cpus");
  if (!node.count("hostnodes")) return;
  std::optional<CpuSet> wanted = semicolon_set(node["hostnodes"]);
  if (!wanted) return;  // unreadable: qemu-server says so itself
  CpuSet present;
  std::uint64_t bytes = 0;  // the memory of the wanted nodes
  bool sizes_known = true;
  for (const NumaNode& numa : host.numa_nodes) {
    present.insert(numa.os_index);
    if (!wanted->contains(numa.os_index)) continue;
    if (numa.memory_bytes) bytes += *numa.memory_bytes;
    else sizes_known = false;
  }
  if (!present.contains(*wanted)) {
    CpuSet missing = *wanted;
    missing -= present;
    throw PveConfigError(fmt::format("cannot patch Proxmox config '{}': numa{} binds memory to host node(s) {}, which "
                                     "this host lacks (its nodes are {}); QEMU would not start here. Fix hostnodes= "
                                     "(or remove the numa{} line) and plan again",
                                     config.source, n, missing, present, n));
  }
  unsigned memory_mib = 0;
  auto [end, ec] = std::from_chars(node["memory"].data(), node["memory"].data() + node["memory"].size(), memory_mib);
  const bool bound = node.count("policy") && node["policy"] == "bind";
  if (bound && ec == std::errc() && sizes_known && std::uint64_t{memory_mib} << 20 > bytes)
    throw PveConfigError(fmt::format("cannot patch Proxmox config '{}': numa{} binds {} MiB to host node(s) {}, which "
                                     "hold {} MiB; the OOM killer would end the VM instead of using another node. "
                                     "Lower memory=, add nodes to hostnodes= or use policy=preferred, and plan again",
                                     config.source, n, memory_mib, *wanted, bytes >> 20));
}

// numa: and numa<n>: for a plan that places memory (or hugepages, which need
// them); otherwise only numa<n> lines that no longer fit the vCPUs go.
void edit_numa(const PveConfig& config, const GuestPlan& plan, const Topology& host,
               const std::optional<std::string>& hugepages, unsigned maxcpus, KeyEdits& keys, PvePatch& patch) {
  const std::string vm = vm_name(config);
  const unsigned vcpus = static_cast<unsigned>(plan.vcpus.size());
  std::map<unsigned, CpuSet> guest_cpus_by_host_node;
  bool nodes_known = true;
  for (unsigned v = 0; v < vcpus; ++v) {
    const LogicalCpu* cpu = find_cpu(host, plan.vcpus[v]);
    if (!cpu || !cpu->numa) nodes_known = false;
    else guest_cpus_by_host_node[*cpu->numa].insert(v);
  }
  const bool place_memory = !plan.memory_nodes.empty() || hugepages.has_value();
  std::set<unsigned> keep;  // numa<n> lines that stay
  if (place_memory && config.memory_hotplug) {
    patch.warnings.push_back(fmt::format(
        "{} has memory hotplug on: qemu-server sizes its NUMA nodes itself, so vpt-tune writes no numa<n> lines and "
        "the memory is not bound to host node(s) {}",
        vm, plan.memory_nodes.empty() ? std::string("of the vCPUs") : plan.memory_nodes.to_string()));
    for (const auto& [n, value] : config.numa_nodes) keep.insert(n);
  } else if (place_memory && !nodes_known) {
    patch.warnings.push_back(fmt::format("the host model does not say which NUMA node each CPU is on: {} gets no "
                                         "numa<n> lines binding its memory",
                                         vm));
    if (hugepages) keys.set("numa", "1");  // qemu-server: hugepages need numa: 1
  } else if (place_memory) {
    if (guest_cpus_by_host_node.size() > kMaxGuestNumaNodes)
      throw RequestError(fmt::format("cannot write the plan into {}: its vCPUs span {} NUMA nodes, qemu-server takes "
                                     "at most {} (numa0-numa7)",
                                     vm, guest_cpus_by_host_node.size(), kMaxGuestNumaNodes));
    std::vector<unsigned> per_node;
    for (const auto& [node, cpus] : guest_cpus_by_host_node) per_node.push_back(cpus.size());
    const unsigned granule = hugepages == "1024" ? 1024 : hugepages ? 2 : 1;
    std::vector<unsigned> memory = split_memory(config.memory_mib, per_node, granule, vm);
    if (!keys.has("numa") || keys.value("numa") != "1") keys.set("numa", "1");
    // vCPUs that may be hot-plugged later belong to a node too: the last one.
    if (maxcpus > vcpus) guest_cpus_by_host_node.rbegin()->second |= CpuSet::range(vcpus, maxcpus - 1);
    unsigned k = 0;
    for (const auto& [node, cpus] : guest_cpus_by_host_node) {
      // Memory bound beyond what the node holds is taken by the OOM killer:
      // such a share only prefers its node.
      const char* policy = "bind";
      for (const NumaNode& numa : host.numa_nodes)
        if (numa.os_index == node && numa.memory_bytes && (std::uint64_t{memory[k]} << 20) > *numa.memory_bytes) {
          policy = "preferred";
          patch.warnings.push_back(fmt::format(
              "{}: its {} MiB on host node {} exceed the {} MiB that node holds: numa{} prefers the node "
              "(policy=preferred) instead of binding to it, so the rest comes from another node",
              vm, memory[k], node, *numa.memory_bytes >> 20, k));
        }
      keys.set(fmt::format("numa{}", k),
               fmt::format("cpus={},hostnodes={},memory={},policy={}", semicolon_list(cpus), node, memory[k], policy));
      keep.insert(k++);
    }
    if (guest_cpus_by_host_node.size() > 1)
      patch.notes.push_back(fmt::format("the guest sees {} NUMA nodes, one per host node its vCPUs run on, each with "
                                        "its share of the memory bound to that node",
                                        guest_cpus_by_host_node.size()));
  } else {
    // numa<n> lines stay while they still describe exactly vCPUs 0..N-1.
    CpuSet listed;
    bool readable = true;
    for (const auto& [n, value] : config.numa_nodes) {
      PropertyString node = parse_property_string(value, "cpus");
      auto cpus = node.count("cpus") ? semicolon_set(node["cpus"]) : std::nullopt;
      if (!cpus) readable = false;
      else listed |= *cpus;
    }
    if (readable && listed == CpuSet::range(0, maxcpus - 1)) {
      for (const auto& [n, value] : config.numa_nodes) keep.insert(n);
    } else if (!config.numa_nodes.empty()) {
      patch.notes.push_back(fmt::format(
          "numa<n> lines removed: they list guest vCPUs {}, the plan has 0-{}{}", listed.to_string(), maxcpus - 1,
          config.numa ? "; with numa: 1 qemu-server gives each socket a node of its own" : ""));
    }
  }
  for (const auto& [n, value] : config.numa_nodes)
    if (!keep.count(n)) keys.remove(fmt::format("numa{}", n));
  for (unsigned n : keep) {
    auto edited = keys.edits().find(fmt::format("numa{}", n));
    const std::string& line = edited != keys.edits().end() ? *edited->second : config.numa_nodes.at(n);
    check_numa_line_fits(config, host, n, line);
  }
}


}  // namespace

PvePatch patch_pve_config(const PveConfig& config, const GuestPlan& plan, const Topology& host,
                          const PvePatchOptions& options) {
  PvePatch patch;
  KeyEdits keys(config);
  const unsigned maxcpus = kept_maxcpus(config, plan, patch);
  edit_topology(config, plan, maxcpus, keys, patch);

  // affinity: every CPU the VM may use.
  CpuSet all = plan.vcpu_cpus() | plan.emulator;
  for (const CpuSet& io : plan.iothreads) all |= io;
  if (config.affinity != all) keys.set("affinity", all.to_string());

  std::optional<std::string> hugepages = config.hugepages;
  if (options.hugepages) {
    if (*options.hugepages != "2" && *options.hugepages != "1024" && *options.hugepages != "any")
      throw RequestError(fmt::format("cannot set hugepages '{}': Proxmox takes 2, 1024 or any", *options.hugepages));
    hugepages = options.hugepages;
    keys.set("hugepages", *hugepages);
  }
  edit_numa(config, plan, host, hugepages, maxcpus, keys, patch);

  // hookscript: Proxmox runs one per VM; a foreign one stays.
  if (!options.hookscript.empty()) {
    if (!config.hookscript || config.hookscript->find(":snippets/vpt-tune-") != std::string::npos)
      keys.set("hookscript", options.hookscript);
    else
      patch.warnings.push_back(fmt::format(
          "{} already has hookscript '{}': Proxmox runs one hookscript per VM, so vpt-tune's ({}) is not set; call it "
          "from yours with the same arguments (\"$1\" \"$2\")",
          vm_name(config), *config.hookscript, options.hookscript));
  }

  // [PENDING] changes to a key the plan writes or is built from (the vCPU layout) would
  // undo the patch, or contradict it, at the next start. Pending memory, cpu, hotplug and
  // hostpci are planned with: parse_pve_config reads the next start's values.
  std::vector<std::string> clashing;
  auto owned = [&](const std::string& key) {
    return keys.edits().count(key) || key == "sockets" || key == "smp" || key == "cores" || key == "vcpus" ||
           key == "numa" || key.starts_with("numa") || key == "args" || key == "affinity";
  };
  for (const std::string& key : config.pending_keys)
    if (owned(key) && std::find(clashing.begin(), clashing.end(), key) == clashing.end()) clashing.push_back(key);
  if (!clashing.empty())
    throw PveConfigError(fmt::format("cannot patch Proxmox config '{}': its [PENDING] section changes {} at the next "
                                     "start, which the plan sets or is built from: apply the pending changes (stop "
                                     "and start the VM) or revert them (`qm set VMID --revert {}`), then plan again",
                                     config.source, fmt::join(clashing, ", "), fmt::join(clashing, ",")));

  patch.text = apply_edits(config.text, keys.edits());
  for (const auto& [key, value] : keys.edits()) {
    auto now = config.options.find(key);
    const bool same = value ? now != config.options.end() && now->second == *value : now == config.options.end();
    if (!same) patch.edits[key] = value;
  }
  if (!keys.edits().empty()) {
    std::vector<std::string> changed;
    for (const auto& [key, value] : keys.edits()) changed.push_back(key);
    patch.notes.push_back(fmt::format("the new {} take(s) effect at the VM's next start (a stop and start: a reboot "
                                      "inside the guest keeps the running QEMU)",
                                      fmt::join(changed, ", ")));
  }
  return patch;
}

PvePatch patch_pve_affinity(const PveConfig& config, const CpuSet& cpus) {
  PvePatch patch;
  if (std::find(config.pending_keys.begin(), config.pending_keys.end(), "affinity") != config.pending_keys.end())
    throw PveConfigError(fmt::format("cannot patch Proxmox config '{}': its [PENDING] section changes affinity at the "
                                     "next start: apply or revert that change (`qm set VMID --revert affinity`), then "
                                     "plan again",
                                     config.source));
  if (config.affinity == cpus) {
    patch.text = config.text;
    return patch;
  }
  Edits edits;
  edits["affinity"] = cpus.to_string();
  patch.text = apply_edits(config.text, edits);
  patch.edits = edits;
  patch.notes.push_back("the new affinity takes effect at the VM's next start (or at once with `qm set VMID "
                        "--affinity ...` on a running VM)");
  return patch;
}

std::string pve_qm_set_command(unsigned vmid, const PvePatch& patch) {
  auto quoted = [](const std::string& value) { return shell_quote(value); };
  std::string command = fmt::format("qm set {}", vmid);
  std::vector<std::string> removed;
  for (const auto& [key, value] : patch.edits) {
    if (value) command += fmt::format(" --{} {}", key, quoted(*value));
    else removed.push_back(key);
  }
  if (!removed.empty()) command += fmt::format(" --delete {}", fmt::join(removed, ","));
  return command;
}

std::string pve_pending_text(const PveConfig& config, const PvePatch& patch) {
  Edits now, later;
  for (const auto& [key, value] : patch.edits) (key == "hookscript" ? now : later)[key] = value;
  std::string text = apply_edits(config.text, now);
  return later.empty() ? text : apply_edits(text, later, "PENDING");
}

}  // namespace vpt
