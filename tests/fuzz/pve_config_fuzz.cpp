// A Proxmox VE VM config (/etc/pve/qemu-server/<VMID>.conf) read and patched
// with a plan (suggest/apply --vmid, --pve-config). The plan's shape and the
// patch options come from a hash of the input, the host is a 2-node Xeon
// (data/topologies/32em64t-2n8c2t-pci-wholeio.xml). Properties:
//  - parse_pve_config throws nothing but PveConfigError;
//  - patch_pve_config throws nothing but PveConfigError and RequestError (its
//    documented refusals: pending changes to an owned key, memory that does
//    not split into hugepages);
//  - the patched config parses again and holds the plan: affinity, sockets x
//    cores = vCPUs and no vcpus: (or, where vcpus: stays, vcpus: = the plan's
//    vCPUs and sockets x cores the old maximum), one -smp in args: with the
//    plan's topology and that maximum (no
//    CPU hotplug), hugepages: and hookscript: as asked, numa: 1 when memory is
//    placed on host nodes the model knows for every vCPU, or hugepages are set
//    (without memory hotplug);
//  - patching it again with the same plan changes nothing;
//  - every line of the current section whose key the plan does not own is
//    unchanged, in order, and everything from the first [section] on is
//    unchanged byte for byte.
#include <algorithm>

#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "pve/pve_config.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

using vpt::fuzz::input_hash;

// node 0 = CPUs 0-7,16-23, node 1 = CPUs 8-15,24-31 (SMT siblings n, n+16).
const vpt::Topology& host() {
  static const vpt::Topology topo =
      vpt::load_hwloc_xml_file(std::string(VPT_DATA_DIR) + "/topologies/32em64t-2n8c2t-pci-wholeio.xml");
  return topo;
}

struct Case {
  vpt::GuestPlan plan;
  vpt::PvePatchOptions options;
};

// Consecutive host CPUs from a hashed start (some beyond the host's 32, so a
// node can be unknown), a topology that covers them, emulator and I/O threads after them.
Case case_from_hash(std::uint32_t h) {
  Case c;
  vpt::GuestPlan& plan = c.plan;
  plan.name = "fuzz";
  const unsigned sockets = 1 + (h & 1), threads = 1 + ((h >> 1) & 1), cores = 1 + ((h >> 2) & 7);
  plan.topology = {sockets, 1, cores, threads};
  const unsigned vcpus = plan.topology.vcpus();
  const unsigned first = (h >> 5) & 31;
  for (unsigned v = 0; v < vcpus; ++v) plan.vcpus.push_back(first + v);
  plan.emulator = vpt::CpuSet{first + vcpus};
  for (unsigned i = 0; i < ((h >> 10) & 3); ++i) plan.iothreads.push_back(vpt::CpuSet{first + vcpus + 1 + i});
  if (h & (1u << 12)) plan.memory_nodes = vpt::CpuSet{0};
  static const char* const kHugepages[] = {nullptr, "2", "1024", "any"};
  if (const char* pages = kHugepages[(h >> 13) & 3]) c.options.hugepages = pages;
  if (h & (1u << 15)) c.options.hookscript = "local:snippets/vpt-tune-100.sh";
  return c;
}

// An accepted config's lines (parse_pve_config refused every other line
// shape): the current section's lines whose key the plan does not own, the
// text from the first "[" line on, and each key's value (last one wins).
struct Lines {
  std::vector<std::string> unowned;
  std::string tail;
};

bool owned(std::string_view key) {
  for (std::string_view k : {"affinity", "args", "cores", "sockets", "smp", "vcpus", "hugepages", "hookscript"})
    if (key == k) return true;
  return key.starts_with("numa") &&
         std::all_of(key.begin() + 4, key.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

Lines lines_of(std::string_view text) {
  Lines out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!line.empty() && line.front() == '[') {
      out.tail = std::string(text.substr(pos));
      break;
    }
    const bool option = !line.empty() && line.front() >= 'a' && line.front() <= 'z';
    if (!option || !owned(line.substr(0, line.find(':')))) out.unowned.emplace_back(line);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = vpt::fuzz::text_of(data, size);
  vpt::PveConfig config;
  try {
    config = vpt::parse_pve_config(text, "100.conf");
  } catch (const vpt::PveConfigError&) {
    return 0;
  }
  vpt::request_defaults_from(config, &host());
  const Case c = case_from_hash(input_hash(data, size));
  const vpt::GuestPlan& plan = c.plan;
  vpt::PvePatch patch;
  try {
    patch = vpt::patch_pve_config(config, plan, host(), c.options);
  } catch (const vpt::PveConfigError&) {
    return 0;
  } catch (const vpt::RequestError&) {
    return 0;
  }
  vpt::Plan whole;
  whole.guests = {plan};
  vpt::pve_advice(config, whole, host(), {false, c.options.hugepages.has_value()});

  vpt::PveConfig after;
  try {
    after = vpt::parse_pve_config(patch.text, "100.conf");
  } catch (const vpt::PveConfigError& e) {
    FUZZ_CHECK(false, std::string("the patched config does not parse: ") + e.what() + "\n" + patch.text);
  }
  vpt::CpuSet all = plan.vcpu_cpus() | plan.emulator;
  for (const vpt::CpuSet& io : plan.iothreads) all |= io;
  FUZZ_CHECK(after.affinity == all, patch.text);
  // vcpus: stays where the plan is for the vCPUs it puts online and the plan's
  // topology divides the maximum (cores x sockets), which then stays.
  const vpt::GuestTopology& t = plan.topology;
  const bool keeps_vcpus = config.hotplugged_vcpus && config.online_vcpus() == plan.vcpus.size() &&
                           config.vcpus() > plan.vcpus.size() && config.vcpus() % (t.sockets * t.dies * t.threads) == 0;
  const unsigned maxcpus = keeps_vcpus ? config.vcpus() : static_cast<unsigned>(plan.vcpus.size());
  FUZZ_CHECK(after.vcpus() == maxcpus && after.sockets == plan.topology.sockets, patch.text);
  FUZZ_CHECK(keeps_vcpus ? after.online_vcpus() == plan.vcpus.size() : !after.hotplugged_vcpus, patch.text);
  if (!config.cpu_hotplug) {
    std::vector<std::string> smp_values;
    const std::vector<vpt::ArgsWord> words = vpt::split_pve_args(after.args);
    for (std::size_t i = 0; i < words.size(); ++i)
      if (words[i].text == "-smp" || words[i].text == "--smp")
        smp_values.push_back(i + 1 < words.size() ? words[i + 1].text : "");
    FUZZ_CHECK(smp_values == std::vector<std::string>{vpt::pve_smp_value(plan.topology, maxcpus)},
               "args: " + after.args);
  }
  if (c.options.hugepages) FUZZ_CHECK(after.hugepages == c.options.hugepages, patch.text);
  if (!c.options.hookscript.empty()) {
    const bool ours = !config.hookscript || config.hookscript->find(":snippets/vpt-tune-") != std::string::npos;
    FUZZ_CHECK(after.hookscript == (ours ? c.options.hookscript : config.hookscript), patch.text);
  }
  bool nodes_known = true;
  for (unsigned cpu : plan.vcpus) {
    const vpt::LogicalCpu* known = vpt::find_cpu(host(), cpu);
    nodes_known &= known && known->numa.has_value();
  }
  if (((!plan.memory_nodes.empty() && nodes_known) || c.options.hugepages) && !config.memory_hotplug)
    FUZZ_CHECK(after.numa, patch.text);

  vpt::PvePatch again;
  try {
    again = vpt::patch_pve_config(after, plan, host(), c.options);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("patching the patched config failed: ") + e.what() + "\n" + patch.text);
  }
  FUZZ_CHECK(again.text == patch.text, "patching twice changed it:\n" + patch.text + "\n---\n" + again.text);

  const Lines before_lines = lines_of(text), after_lines = lines_of(patch.text);
  FUZZ_CHECK(before_lines.unowned == after_lines.unowned, "a line the plan does not own changed:\n" + patch.text);
  FUZZ_CHECK(before_lines.tail == after_lines.tail, "the sections after the current one changed:\n" + patch.text);
  return 0;
}
