// Helpers shared by the Proxmox tests: fixture files, hand-written plans, and
// an independent reading of a config's lines (not the module's parser).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "optimizer/plan.hpp"

namespace vpt::test {

inline std::string data_file(const std::string& name) { return std::string(VPT_DATA_DIR) + "/proxmox/" + name; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string read_data(const std::string& name) { return read_file(data_file(name)); }

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// vCPU i on host CPU vcpus[i].
inline GuestPlan hand_plan(std::vector<unsigned> vcpus, CpuSet emulator, std::vector<CpuSet> iothreads,
                           GuestTopology topology, CpuSet memory_nodes = {}) {
  GuestPlan plan;
  plan.name = "guest";
  plan.vcpus = std::move(vcpus);
  plan.emulator = std::move(emulator);
  plan.iothreads = std::move(iothreads);
  plan.topology = topology;
  plan.memory_nodes = std::move(memory_nodes);
  return plan;
}

inline std::vector<unsigned> cpus_from(unsigned first, unsigned count) {
  std::vector<unsigned> out;
  for (unsigned i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

// A config split the simple way: the current section's lines whose key the
// plan does not own, the owned keys' values, and the rest of the file from
// the first "[" line on, byte for byte.
struct ConfigParts {
  std::vector<std::string> other_lines;
  std::map<std::string, std::string> owned;
  std::string tail;
};

inline ConfigParts split_config(const std::string& text) {
  static const std::regex option(R"(^([a-z][a-z_\-]*[0-9]*):\s*(.*?)\s*$)");
  static const std::regex owned_key(R"(^(affinity|args|cores|sockets|smp|vcpus|numa[0-9]*|hugepages|hookscript)$)");
  ConfigParts parts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!line.empty() && line[0] == '[') {
      parts.tail = text.substr(pos);
      break;
    }
    std::smatch m;
    if (std::regex_match(line, m, option) && std::regex_match(m[1].str(), owned_key))
      parts.owned[m[1].str()] = m[2].str();
    else
      parts.other_lines.push_back(line);
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return parts;
}

// A directory under /tmp removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    // Short: a QMP socket path inside must stay under 108 bytes.
    std::string pattern = (std::filesystem::temp_directory_path() / "vpt-pve-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace vpt::test
