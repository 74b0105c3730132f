#include "probe/host_state.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/input_file.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

std::string read_trimmed(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string read_all(const fs::path& path) { return read_whole_file(path).value_or(""); }

std::optional<std::uint64_t> read_number(const fs::path& path) {
  std::string text = read_trimmed(path);
  if (text.empty()) return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<unsigned> to_index(const std::string& digits) {
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  try {
    return static_cast<unsigned>(std::stoul(digits));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

CpuSet parse_list_or_empty(std::string_view text) {
  try {
    return CpuSet::parse(text);
  } catch (const std::invalid_argument&) {
    return {};
  }
}

// "hugepages-2048kB" -> 2 MiB
std::optional<std::uint64_t> hugepage_size(const std::string& dir_name) {
  if (!dir_name.starts_with("hugepages-") || !dir_name.ends_with("kB")) return std::nullopt;
  try {
    return std::stoull(dir_name.substr(10, dir_name.size() - 12)) * 1024;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void read_pools(const fs::path& dir, std::optional<unsigned> numa, std::vector<HugepagePool>& out) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto size = hugepage_size(entry.path().filename().string());
    if (!size) continue;
    HugepagePool pool;
    pool.page_bytes = *size;
    pool.numa = numa;
    pool.total = read_number(entry.path() / "nr_hugepages").value_or(0);
    pool.free = read_number(entry.path() / "free_hugepages").value_or(0);
    out.push_back(pool);
  }
}

// "always [madvise] never" -> "madvise"
std::string bracketed(const std::string& line) {
  auto open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return line;
  return line.substr(open + 1, close - open - 1);
}

void read_cpufreq(const fs::path& sys, HostState& state) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(sys / "devices/system/cpu", ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("cpu")) continue;
    auto cpu = to_index(name.substr(3));
    if (!cpu) continue;
    fs::path dir = entry.path() / "cpufreq";
    CpuFrequencyPolicy policy;
    policy.governor = read_trimmed(dir / "scaling_governor");
    if (policy.governor.empty()) continue;
    policy.driver = read_trimmed(dir / "scaling_driver");
    policy.epp = read_trimmed(dir / "energy_performance_preference");
    state.cpufreq[*cpu] = policy;
  }
}

// IRQ number -> PCI address, from each device's MSI vectors (msi_irqs/) and,
// for a device without MSI, its INTx line.
std::map<unsigned, std::string> irq_devices(const fs::path& sys) {
  std::map<unsigned, std::string> devices;
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator(sys / "bus/pci/devices", ec)) {
    const std::string address = dev.path().filename().string();
    bool msi = false;
    std::error_code ec2;
    for (const auto& vector : fs::directory_iterator(dev.path() / "msi_irqs", ec2))
      if (auto irq = to_index(vector.path().filename().string())) {
        devices[*irq] = address;
        msi = true;
      }
    if (!msi)
      if (auto irq = read_number(dev.path() / "irq"); irq && *irq != 0) devices.emplace(static_cast<unsigned>(*irq), address);
  }
  return devices;
}

void read_irqs(const HostPaths& paths, HostState& state) {
  const fs::path proc_irq = fs::path(paths.proc) / "irq";
  const fs::path sys = paths.sys;
  const auto devices = irq_devices(sys);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc_irq, ec)) {
    auto number = to_index(entry.path().filename().string());
    if (!number || !entry.is_directory()) continue;
    IrqLine line;
    line.irq = *number;
    line.affinity = parse_list_or_empty(read_trimmed(entry.path() / "smp_affinity_list"));
    line.actions = read_trimmed(sys / "kernel/irq" / std::to_string(*number) / "actions");
    // debugfs lists the set IRQD_* state bits by name (kernel/irq/debugfs.c).
    std::ifstream debug(sys / "kernel/debug/irq/irqs" / std::to_string(*number));
    if (debug) {
      std::string text((std::istreambuf_iterator<char>(debug)), std::istreambuf_iterator<char>());
      line.managed = text.find("IRQD_AFFINITY_MANAGED") != std::string::npos;
    }
    if (auto it = devices.find(*number); it != devices.end()) line.device = it->second;
    state.irqs.push_back(std::move(line));
  }
  std::sort(state.irqs.begin(), state.irqs.end(), [](const IrqLine& a, const IrqLine& b) { return a.irq < b.irq; });
}

// irqbalance's process and the banned CPUs its environment names.
void read_irqbalance(const fs::path& proc, HostState& state) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc, ec)) {
    auto pid = to_index(entry.path().filename().string());
    if (!pid || read_trimmed(entry.path() / "comm") != "irqbalance") continue;
    IrqbalanceDaemon daemon;
    daemon.pid = static_cast<int>(*pid);
    std::string environ = read_all(entry.path() / "environ");
    std::optional<CpuSet> list, mask;
    for (std::size_t start = 0; start < environ.size();) {
      std::size_t end = environ.find('\0', start);
      if (end == std::string::npos) end = environ.size();
      std::string_view var(environ.data() + start, end - start);
      if (var.starts_with("IRQBALANCE_BANNED_CPULIST=")) list = parse_list_or_empty(var.substr(26));
      if (var.starts_with("IRQBALANCE_BANNED_CPUS=")) mask = parse_cpu_mask(var.substr(23));
      start = end + 1;
    }
    // irqbalance prefers the list when both are set.
    daemon.banned = list ? list : mask;
    state.irqbalance = daemon;
    return;
  }
}

void read_hooks(const fs::path& etc, HostState& state) {
  const fs::path hooks = etc / "libvirt/hooks";
  std::error_code ec;
  if (fs::is_regular_file(hooks / "qemu", ec)) state.libvirt_qemu_hooks.push_back("qemu");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(hooks / "qemu.d", ec))
    if (entry.is_regular_file()) names.push_back("qemu.d/" + entry.path().filename().string());
  std::sort(names.begin(), names.end());
  state.libvirt_qemu_hooks.insert(state.libvirt_qemu_hooks.end(), names.begin(), names.end());
}

}  // namespace

KernelCpuLists parse_kernel_cmdline(std::string_view cmdline) {
  KernelCpuLists lists;
  std::istringstream words{std::string(cmdline)};
  std::string word;
  while (words >> word) {
    if (word == "--") break;  // the rest goes to init
    if (word.starts_with("isolcpus=")) {
      std::string value = word.substr(9);
      // Leading flags: "isolcpus=nohz,domain,managed_irq,2-7"
      std::string list;
      std::istringstream items(value);
      std::string item;
      lists.isolcpus_managed_irq = false;
      while (std::getline(items, item, ',')) {
        if (item == "managed_irq") lists.isolcpus_managed_irq = true;
        if (item == "domain" || item == "nohz" || item == "managed_irq") continue;
        list += (list.empty() ? "" : ",") + item;
      }
      lists.isolcpus = parse_list_or_empty(list);
    } else if (word.starts_with("nohz_full=")) {
      lists.nohz_full = parse_list_or_empty(word.substr(10));
    }
  }
  return lists;
}

CpuSet parse_cpu_mask(std::string_view hex) {
  CpuSet set;
  std::vector<std::string_view> groups;
  for (std::size_t start = 0; start <= hex.size();) {
    std::size_t comma = hex.find(',', start);
    if (comma == std::string_view::npos) comma = hex.size();
    groups.push_back(hex.substr(start, comma - start));
    start = comma + 1;
  }
  unsigned base = 0;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g, base += 32) {
    std::string_view digits = *g;
    while (!digits.empty() && std::isspace(static_cast<unsigned char>(digits.back()))) digits.remove_suffix(1);
    if (digits.empty() || digits.size() > 8) return {};
    unsigned bit = base;
    for (auto c = digits.rbegin(); c != digits.rend(); ++c, bit += 4) {
      int v = std::isdigit(static_cast<unsigned char>(*c)) ? *c - '0'
              : (*c >= 'a' && *c <= 'f')                  ? *c - 'a' + 10
              : (*c >= 'A' && *c <= 'F')                  ? *c - 'A' + 10
                                                          : -1;
      if (v < 0) return {};
      for (int b = 0; b < 4; ++b)
        if (v & (1 << b)) set.insert(bit + b);
    }
  }
  return set;
}

HostState read_host_state(const HostPaths& paths) {
  const fs::path proc = paths.proc, sys = paths.sys;
  HostState state;
  state.known = true;
  KernelCpuLists lists = parse_kernel_cmdline(read_all(proc / "cmdline"));
  state.isolcpus = lists.isolcpus;
  state.isolcpus_managed_irq = lists.isolcpus_managed_irq;
  state.nohz_full = lists.nohz_full;
  std::string smt = read_trimmed(sys / "devices/system/cpu/smt/active");
  if (smt == "1") state.smt_active = true;
  if (smt == "0") state.smt_active = false;

  read_pools(sys / "kernel/mm/hugepages", std::nullopt, state.hugepages);
  std::error_code ec;
  for (const auto& node : fs::directory_iterator(sys / "devices/system/node", ec)) {
    std::string name = node.path().filename().string();
    if (!name.starts_with("node")) continue;
    if (auto index = to_index(name.substr(4))) read_pools(node.path() / "hugepages", *index, state.hugepages);
  }
  read_cpufreq(sys, state);
  state.thp_enabled = bracketed(read_trimmed(sys / "kernel/mm/transparent_hugepage/enabled"));
  state.thp_defrag = bracketed(read_trimmed(sys / "kernel/mm/transparent_hugepage/defrag"));
  state.kvm_halt_poll_ns = read_number(sys / "module/kvm/parameters/halt_poll_ns");
  read_irqs(paths, state);
  read_irqbalance(proc, state);
  read_hooks(paths.etc, state);

  struct utsname uts {};
  if (uname(&uts) == 0) {
    state.kernel = uts.release;
    state.hostname = uts.nodename;
  }
  return state;
}

CpuSet read_offline_cpus() { return parse_list_or_empty(read_trimmed("/sys/devices/system/cpu/offline")); }

std::optional<unsigned> read_iommu_group(const std::string& pci_address) {
  std::error_code ec;
  fs::path link = fs::read_symlink(fs::path("/sys/bus/pci/devices") / pci_address / "iommu_group", ec);
  if (ec) return std::nullopt;
  try {
    return static_cast<unsigned>(std::stoul(link.filename().string()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace vpt
