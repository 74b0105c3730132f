// patch_pve_config(): the plan's keys into a Proxmox VM config, every other
// byte kept. Why each key gets the value it gets: docs/proxmox-notes.md.
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

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

// Applies edits to the current section (the lines before the first [section]).
std::string apply_edits(std::string_view text, const Edits& edits) {
  struct Line {
    std::string text;
    bool newline;
    std::string key;  // option key, "" for other lines
  };
  std::vector<Line> lines;
  std::size_t section_end = std::string::npos;
  for (const ConfigLine& l : split_config_lines(text)) {
    if (l.kind == ConfigLine::Kind::Section && section_end == std::string::npos) section_end = lines.size();
    lines.push_back({std::string(l.text), l.newline,
                     l.kind == ConfigLine::Kind::Option && section_end == std::string::npos ? std::string(l.key) : ""});
  }
  if (section_end == std::string::npos) section_end = lines.size();

  for (const auto& [key, value] : edits) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < section_end; ++i)
      if (lines[i].key == key) at.push_back(i);
    if (value && !at.empty()) {
      lines[at.front()].text = key + ": " + *value;
      at.erase(at.begin());
    }
    for (std::size_t k = at.size(); k-- > 0;) {
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at[k]));
      --section_end;
    }
    if (value && std::none_of(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(section_end),
                              [&](const Line& l) { return l.key == key; })) {
      // Where qemu-server's writer would put it: options sorted by key.
      std::size_t pos = section_end, last_option = 0;
      bool any = false;
      for (std::size_t i = 0; i < section_end; ++i) {
        if (lines[i].key.empty()) continue;
        if (lines[i].key > key && pos == section_end) pos = i;
        last_option = i;
        any = true;
      }
      if (pos == section_end && any) pos = last_option + 1;
      Line line{key + ": " + *value, true, key};
      if (pos == lines.size() && !lines.empty() && !lines.back().newline) {
        lines.back().newline = true;  // the file ended without '\n': so does the new one
        line.newline = false;
      }
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pos), line);
      ++section_end;
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

std::string pve_smp_value(const GuestTopology& t) {
  return fmt::format("{},sockets={},dies={},cores={},threads={},maxcpus={}", t.vcpus(), t.sockets, t.dies, t.cores,
                     t.threads, t.vcpus());
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

// sockets:, cores:, vcpus:, smp: and the -smp in args:.
void edit_topology(const PveConfig& config, const GuestPlan& plan, KeyEdits& keys, PvePatch& patch) {
  const std::string vm = vm_name(config);
  const unsigned vcpus = static_cast<unsigned>(plan.vcpus.size());
  const GuestTopology& t = plan.topology;
  if (t.vcpus() != vcpus || vcpus == 0)
    throw RequestError(fmt::format("cannot write the plan into {}: its topology ({} x {} x {} x {}) does not cover its "
                                   "{} vCPUs", vm, t.sockets, t.dies, t.cores, t.threads, vcpus));
  const unsigned cores_per_socket = vcpus / t.sockets;
  keys.remove("smp");  // the old name of sockets:, which qemu-server drops when it writes the config
  if (keys.has("sockets") || t.sockets != 1) keys.set("sockets", std::to_string(t.sockets));
  if (keys.has("cores") || cores_per_socket != 1) keys.set("cores", std::to_string(cores_per_socket));
  if (keys.has("vcpus")) {
    keys.remove("vcpus");
    patch.notes.push_back(fmt::format("vcpus: {} removed: the plan places all {} vCPUs, so all are present at boot",
                                      keys.value("vcpus"), vcpus));
  }
  if (config.cpu_hotplug) {
    patch.warnings.push_back(fmt::format(
        "{} has CPU hotplug on (hotplug: {}): qemu-server then adds vCPUs as devices with thread-id=0, so no -smp "
        "in args can give the guest {} threads per core; it sees {} socket(s) x {} cores. Remove 'cpu' from "
        "hotplug and run vpt-tune again for the plan's topology",
        vm, keys.value("hotplug"), t.threads, t.sockets, cores_per_socket));
    return;
  }
  std::string args = args_with_smp(config.args, pve_smp_value(t));
  if (args != config.args) keys.set("args", args);
}

// numa: and numa<n>: for a plan that places memory (or hugepages, which need
// them); otherwise only numa<n> lines that no longer fit the vCPUs go.
void edit_numa(const PveConfig& config, const GuestPlan& plan, const Topology& host,
               const std::optional<std::string>& hugepages, KeyEdits& keys, PvePatch& patch) {
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
    if (!config.numa || keys.value("numa") != "1") keys.set("numa", "1");
    unsigned k = 0;
    for (const auto& [node, cpus] : guest_cpus_by_host_node) {
      keys.set(fmt::format("numa{}", k),
               fmt::format("cpus={},hostnodes={},memory={},policy=bind", semicolon_list(cpus), node, memory[k]));
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
    if (readable && listed == CpuSet::range(0, vcpus - 1)) {
      for (const auto& [n, value] : config.numa_nodes) keep.insert(n);
    } else if (!config.numa_nodes.empty()) {
      patch.notes.push_back(fmt::format(
          "numa<n> lines removed: they list guest vCPUs {}, the plan has 0-{}{}", listed.to_string(), vcpus - 1,
          config.numa ? "; with numa: 1 qemu-server gives each socket a node of its own" : ""));
    }
  }
  for (const auto& [n, value] : config.numa_nodes)
    if (!keep.count(n)) keys.remove(fmt::format("numa{}", n));
}

}  // namespace

PvePatch patch_pve_config(const PveConfig& config, const GuestPlan& plan, const Topology& host,
                          const PvePatchOptions& options) {
  PvePatch patch;
  KeyEdits keys(config);
  edit_topology(config, plan, keys, patch);

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
  edit_numa(config, plan, host, hugepages, keys, patch);

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

  // [PENDING] changes to an owned key would undo the patch at the next start.
  std::vector<std::string> clashing;
  for (const std::string& key : config.pending_keys)
    if (keys.edits().count(key) && std::find(clashing.begin(), clashing.end(), key) == clashing.end())
      clashing.push_back(key);
  if (!clashing.empty())
    throw PveConfigError(fmt::format("cannot patch Proxmox config '{}': its [PENDING] section changes {} at the next "
                                     "start, which the plan sets too: apply the pending changes (restart the VM) or "
                                     "revert them first",
                                     config.source, fmt::join(clashing, ", ")));

  patch.text = apply_edits(config.text, keys.edits());
  if (!keys.edits().empty()) {
    std::vector<std::string> changed;
    for (const auto& [key, value] : keys.edits()) changed.push_back(key);
    patch.notes.push_back(fmt::format("the new {} take(s) effect at the VM's next start (a stop and start: a reboot "
                                      "inside the guest keeps the running QEMU)",
                                      fmt::join(changed, ", ")));
  }
  return patch;
}

}  // namespace vpt
