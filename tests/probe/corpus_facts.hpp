// Reads tests/corpus/facts/<name>.facts, written by scripts/gen-corpus-facts.sh
// from hwloc's own tools (XML) or the listing's own columns (lscpu). The lists
// are parsed here by hand, not with CpuSet::parse, so the facts do not depend on
// the code under test.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace vpt::test {

using CpuList = std::vector<unsigned>;  // OS indices, ascending

inline const std::filesystem::path& corpus_dir() {
  static const std::filesystem::path dir{VPT_CORPUS_DIR};
  return dir;
}

inline CpuList parse_comma_list(const std::string& text) {
  CpuList cpus;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) cpus.push_back(static_cast<unsigned>(std::stoul(item)));
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

struct CorpusFacts {
  std::string name;                        // file stem: "Intel-Skylake-2xXeon6140"
  std::string source;                      // path below tests/corpus: "hwloc/Intel-Skylake-2xXeon6140.xml"
  std::map<std::string, unsigned> count;   // "package", "numa", "core", "pu", "l2", "l3"
  std::map<unsigned, CpuList> packages;    // os_index -> CPUs
  std::map<unsigned, CpuList> numa;        // os_index -> CPUs
  std::vector<CpuList> cores, l2, l3;      // sorted
  struct Kind {
    CpuList cpus;
    std::map<std::string, std::string> infos;
  };
  std::vector<Kind> kinds;                 // hwloc's cpukinds, least efficient first
  CpuList offline;
  std::map<double, CpuList> maxmhz;        // lscpu's MAXMHZ column -> online CPUs (lscpu only)
  std::map<std::uint64_t, CpuList> l3size; // L3 bytes pasted from sysfs beside the table -> CPUs (lscpu only)

  bool is_xml() const { return source.ends_with(".xml"); }
  std::filesystem::path source_path() const { return corpus_dir() / source; }
};

inline CorpusFacts read_facts(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  CorpusFacts facts;
  facts.name = path.stem().string();
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "source") {
      words >> facts.source;
    } else if (key == "count") {
      std::string what;
      unsigned n = 0;
      words >> what >> n;
      facts.count[what] = n;
    } else if (key == "package" || key == "numa") {
      unsigned os = 0;
      std::string list;
      words >> os >> list;
      (key == "package" ? facts.packages : facts.numa)[os] = parse_comma_list(list);
    } else if (key == "core" || key == "l2" || key == "l3") {
      std::string list;
      words >> list;
      (key == "core" ? facts.cores : key == "l2" ? facts.l2 : facts.l3).push_back(parse_comma_list(list));
    } else if (key == "kind") {
      CorpusFacts::Kind kind;
      std::string list, info;
      words >> list;
      kind.cpus = parse_comma_list(list);
      while (words >> info) {
        auto eq = info.find('=');
        kind.infos[info.substr(0, eq)] = eq == std::string::npos ? "" : info.substr(eq + 1);
      }
      facts.kinds.push_back(std::move(kind));
    } else if (key == "maxmhz") {
      double mhz = 0;
      std::string list;
      words >> mhz >> list;
      facts.maxmhz[mhz] = parse_comma_list(list);
    } else if (key == "l3size") {
      std::uint64_t bytes = 0;
      std::string list;
      words >> bytes >> list;
      facts.l3size[bytes] = parse_comma_list(list);
    } else if (key == "offline") {
      std::string list;
      words >> list;
      facts.offline = parse_comma_list(list);
    } else {
      throw std::runtime_error("unknown fact '" + key + "' in " + path.string());
    }
  }
  for (auto* sets : {&facts.cores, &facts.l2, &facts.l3}) std::sort(sets->begin(), sets->end());
  if (facts.source.empty()) throw std::runtime_error("no 'source' line in " + path.string());
  return facts;
}

inline std::vector<std::filesystem::path> all_facts_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir() / "facts"))
    if (entry.path().extension() == ".facts") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

inline CorpusFacts facts_for(const std::string& name) {
  return read_facts(corpus_dir() / "facts" / (name + ".facts"));
}

}  // namespace vpt::test
