#include "probe/host_state.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vpt {

namespace fs = std::filesystem;

namespace {

std::string read_trimmed(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

std::optional<std::uint64_t> read_number(const fs::path& path) {
  std::string text = read_trimmed(path);
  if (text.empty()) return std::nullopt;
  try {
    return std::stoull(text);
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
      while (std::getline(items, item, ',')) {
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

HostState read_host_state() {
  HostState state;
  state.known = true;
  std::ifstream cmdline("/proc/cmdline");
  std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  KernelCpuLists lists = parse_kernel_cmdline(text);
  state.isolcpus = lists.isolcpus;
  state.nohz_full = lists.nohz_full;
  std::string smt = read_trimmed("/sys/devices/system/cpu/smt/active");
  if (smt == "1") state.smt_active = true;
  if (smt == "0") state.smt_active = false;

  read_pools("/sys/kernel/mm/hugepages", std::nullopt, state.hugepages);
  std::error_code ec;
  for (const auto& node : fs::directory_iterator("/sys/devices/system/node", ec)) {
    std::string name = node.path().filename().string();
    if (!name.starts_with("node")) continue;
    try {
      read_pools(node.path() / "hugepages", static_cast<unsigned>(std::stoul(name.substr(4))), state.hugepages);
    } catch (const std::exception&) {
    }
  }
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
