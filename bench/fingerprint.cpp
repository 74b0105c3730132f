// What the numbers depend on besides the pinning: CPU, microcode, firmware,
// kernel, frequency policy. Read once per run and stored with the results.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "bench/bench.hpp"
#include "bench/kernels.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

// First value of each key in /proc/cpuinfo ("model name", "microcode", "flags").
std::map<std::string, std::string> cpuinfo_first_block() {
  std::map<std::string, std::string> values;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) break;  // end of the first processor's block
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    values.emplace(key, value);
  }
  return values;
}

}  // namespace

HostFingerprint read_host_fingerprint(const Topology& host) {
  HostFingerprint fp;
  auto cpuinfo = cpuinfo_first_block();
  fp.cpu_model = cpuinfo.count("model name") ? cpuinfo["model name"] : host.cpu_model;
  fp.cpu_vendor = cpuinfo.count("vendor_id") ? cpuinfo["vendor_id"] : host.cpu_vendor;
  if (cpuinfo.count("microcode")) fp.microcode = cpuinfo["microcode"];
  if (cpuinfo.count("flags")) fp.hypervisor = (" " + cpuinfo["flags"] + " ").find(" hypervisor ") != std::string::npos;
  fp.kernel = host.host.kernel;
  fp.hostname = host.host.hostname;
  fp.bios_version = read_line("/sys/class/dmi/id/bios_version");
  fp.bios_date = read_line("/sys/class/dmi/id/bios_date");
  fp.online_cpus = online_cpus().size();
  fp.allowed_cpus = allowed_cpus();
  fp.smt_active = host.host.smt_active;
  fp.isolcpus = host.host.isolcpus;
  fp.nohz_full = host.host.nohz_full;

  std::set<std::string> governors;
  for (unsigned cpu : fp.allowed_cpus)
    if (auto g = read_line(fmt::format("/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", cpu)))
      governors.insert(*g);
  if (governors.size() == 1) fp.governor = *governors.begin();
  if (governors.size() > 1) {
    std::string all;
    for (const auto& g : governors) all += (all.empty() ? "" : ", ") + g;
    fp.governor = "mixed: " + all;
  }
  if (auto thp = read_line("/sys/kernel/mm/transparent_hugepage/enabled")) {
    auto open = thp->find('['), close = thp->find(']');
    fp.transparent_hugepage = open != std::string::npos && close > open ? thp->substr(open + 1, close - open - 1) : *thp;
  }
  for (int level = 1; level <= 4; ++level) {
    auto caches = caches_at_level(host, level);
    std::optional<std::uint64_t> smallest;
    for (const Cache* c : caches)
      if (c->size_bytes && (!smallest || *c->size_bytes < *smallest)) smallest = c->size_bytes;
    if (smallest) fp.caches.push_back({level, *smallest});
  }
  return fp;
}

}  // namespace vpt
