// Topology from the text of `lscpu -e`, as pasted on forums.
//
// Column sets vary between util-linux versions and options (MAXMHZ, MINMHZ,
// MHZ, ONLINE, DIE, CLUSTER, ...), ids can be sparse or out of order, and
// offline CPUs show '-' in most columns. What is required: CPU, CORE, SOCKET
// and the cache column L1d:L1i:L2:L3.
#include <algorithm>
#include <charconv>
#include <map>
#include <cctype>
#include <cstdint>
#include <sstream>

#include <fmt/format.h>

#include "common/text.hpp"
#include "probe/probe.hpp"

namespace vpt {

namespace {

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

std::optional<unsigned> parse_id(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_mhz(const std::string& text) {
  try {
    std::size_t used = 0;
    double value = std::stod(text, &used);
    if (used != text.size() || value <= 0) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "Model name:   AMD Ryzen 7 5800X 8-Core Processor" from a full `lscpu` pasted alongside.
std::string field_of_full_lscpu(std::string_view text, std::string_view key) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, key.size(), key) != 0) continue;
    auto value = line.find_first_not_of(" \t", start + key.size());
    if (value != std::string::npos) return line.substr(value);
  }
  return "";
}

// The `lscpu -e` header ("CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE ..."), not a
// line of plain `lscpu` above it ("CPU op-mode(s):  32-bit, 64-bit", "CPU family:  25"):
// column names are words of letters (a cache column joins them with ':'), never
// "key:" followed by a value.
bool is_table_header(const std::vector<std::string>& words) {
  if (words.size() < 2 || words[0] != "CPU") return false;
  return std::all_of(words.begin(), words.end(), [](const std::string& w) {
    return !w.ends_with(':') && std::all_of(w.begin(), w.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_';
    });
  });
}

// A row of the table begins with a CPU number; a line that begins with a
// digit or a sign and still is no CPU number is a broken row, not the table's end.
bool looks_like_a_row(const std::string& first_word) {
  const unsigned char c = static_cast<unsigned char>(first_word.front());
  return std::isdigit(c) || c == '-' || c == '+';
}

struct CacheColumn {
  int level;
  CacheType type;
};

std::optional<CacheColumn> cache_column(std::string_view name) {
  if (name == "L1") return CacheColumn{1, CacheType::Unified};  // lscpu's name for a unified L1
  if (name == "L1d") return CacheColumn{1, CacheType::Data};
  if (name == "L1i") return CacheColumn{1, CacheType::Instruction};
  if (name == "L2") return CacheColumn{2, CacheType::Unified};
  if (name == "L3") return CacheColumn{3, CacheType::Unified};
  if (name == "L4") return CacheColumn{4, CacheType::Unified};
  return std::nullopt;
}

class LscpuParser {
 public:
  LscpuParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Topology parse() {
    read_pasted_l3_sizes();
    std::istringstream in{std::string(text_)};
    std::string line;
    int line_no = 0;
    bool in_table = false;
    while (std::getline(in, line)) {
      ++line_no;
      auto words = split_words(line);
      if (!in_table) {
        if (is_table_header(words)) {
          read_header(words, line_no);
          in_table = true;
        }
        continue;
      }
      if (words.empty()) continue;
      if (line.find('\0') != std::string::npos) fail_at(line_no, "the row holds a NUL byte: paste the text again");
      if (!parse_id(words[0])) {
        if (looks_like_a_row(words[0]))
          fail_at(line_no, fmt::format("'{}' is not a CPU number (0 to {})", printable(words[0], 40), kCpuNumberLimit - 1));
        break;  // the table ended (a prompt or other text follows)
      }
      if (rows_ >= static_cast<int>(kMaxCpus))
        fail_at(line_no, fmt::format("more than {} CPUs: vpt-tune handles hosts of up to {} CPUs", kMaxCpus, kMaxCpus));
      read_row(words, line_no);
    }
    if (!in_table) {
      // The other files a user has at hand: plain `lscpu`, an hwloc export or a domain definition.
      if (!field_of_full_lscpu(text_, "Architecture:").empty() || !field_of_full_lscpu(text_, "CPU(s):").empty())
        fail("this is the output of plain `lscpu`, which says how many CPUs there are but not which share a core "
             "or cache: paste the output of `lscpu -e` (one row per CPU), with or without plain `lscpu` above it");
      std::string_view start = text_.substr(std::min(text_.find_first_not_of(" \t\r\n"), text_.size()));
      const bool xml = start.starts_with("<");
      const bool hwloc = text_.find("<topology") != std::string_view::npos;
      const bool domain = text_.find("<domain") != std::string_view::npos;
      fail(fmt::format("no `lscpu -e` table found: expected a header line starting with 'CPU' "
                       "(CPU NODE SOCKET CORE L1d:L1i:L2:L3 ONLINE ...){}",
                       hwloc    ? "; this is an hwloc XML export: read it with --topology FILE.xml"
                       : domain ? "; this is a libvirt domain definition: give it with --xml FILE"
                       : xml    ? "; this is XML: an hwloc export goes to --topology FILE.xml"
                                : ""));
    }
    if (rows_ == 0) fail("the `lscpu -e` table has a header but no CPU rows");
    return build();
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw TopologyInputError(fmt::format("cannot read topology '{}': {}", name_, problem));
  }
  [[noreturn]] void fail_at(int line_no, const std::string& problem) const {
    throw TopologyInputError(fmt::format("cannot read topology '{}': line {}: {}", name_, line_no, problem));
  }

  // `grep . /sys/devices/system/cpu/cpu*/cache/index3/size` pasted above or
  // below the table ("/sys/devices/system/cpu/cpu0/cache/index3/size:98304K"):
  // `lscpu -e` has no cache sizes, and a V-Cache CCD is known by its L3's size.
  // index3 is the L3 on x86; a pasted `level` line says so for other layouts.
  void read_pasted_l3_sizes() {
    static constexpr std::string_view kPrefix = "/sys/devices/system/cpu/cpu";
    std::istringstream in{std::string(text_)};
    std::string line;
    int line_no = 0;
    std::map<std::pair<unsigned, unsigned>, std::pair<std::uint64_t, int>> sizes;  // (cpu, index) -> bytes, line
    std::map<std::pair<unsigned, unsigned>, unsigned> levels;                      // (cpu, index) -> level
    while (std::getline(in, line)) {
      ++line_no;
      const std::size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line.compare(start, kPrefix.size(), kPrefix) != 0) continue;
      std::string_view rest = std::string_view(line).substr(start + kPrefix.size());
      const std::size_t colon = rest.find(':');
      auto bad = [&] {
        fail_at(line_no, fmt::format("'{}' is not a line of `grep . /sys/devices/system/cpu/cpu*/cache/index3/size`",
                                     printable(line, 80)));
      };
      if (colon == std::string_view::npos) bad();
      std::string_view path = rest.substr(0, colon), value = rest.substr(colon + 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.remove_suffix(1);
      const std::size_t slash = path.find('/');
      if (slash == std::string_view::npos) continue;  // cpu0:..., not a cache attribute
      const auto cpu = parse_id(path.substr(0, slash));
      std::string_view tail = path.substr(slash + 1);
      if (!cpu || !tail.starts_with("cache/index")) continue;  // another attribute of the CPU
      tail.remove_prefix(std::string_view("cache/index").size());
      const std::size_t slash2 = tail.find('/');
      const auto index = slash2 == std::string_view::npos ? std::nullopt : parse_id(tail.substr(0, slash2));
      if (!index) bad();
      const std::string_view attribute = tail.substr(slash2 + 1);
      if (attribute == "size") {
        const auto bytes = parse_cache_size(value);
        if (!bytes) fail_at(line_no, fmt::format("'{}' is not a cache size (such as 98304K)", printable(value, 40)));
        sizes[{*cpu, *index}] = {*bytes, line_no};
      } else if (attribute == "level") {
        const auto level = parse_id(value);
        if (!level) bad();
        levels[{*cpu, *index}] = *level;
      }
    }
    for (auto& [key, size] : sizes) {
      auto level = levels.find(key);
      if ((level == levels.end() ? key.second : level->second) == 3) l3_sizes_[key.first] = size;
    }
  }

  // "98304K" (as sysfs prints it), "96M", "96MiB" or a plain number of bytes.
  static std::optional<std::uint64_t> parse_cache_size(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) return std::nullopt;
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::uint64_t scale = 1;
    if (unit == "K" || unit == "KiB" || unit == "KB") scale = 1024;
    else if (unit == "M" || unit == "MiB" || unit == "MB") scale = 1024 * 1024;
    else if (!unit.empty()) return std::nullopt;
    constexpr std::uint64_t kLargest = std::uint64_t{1} << 40;  // no cache is a TiB
    if (value == 0 || value > kLargest / scale) return std::nullopt;
    return value * scale;
  }

  // The pasted sizes on the table's L3s: every CPU of one L3 must say the same.
  void apply_pasted_l3_sizes(Topology& topo) const {
    for (auto& [cpu, size] : l3_sizes_)
      if (!first_line_.contains(cpu))
        fail_at(size.second, fmt::format("CPU {} is not in the `lscpu -e` table", cpu));
    for (Cache& cache : topo.caches) {
      if (cache.level != 3) continue;
      std::optional<std::pair<unsigned, std::pair<std::uint64_t, int>>> first;
      for (unsigned cpu : cache.cpus) {
        auto it = l3_sizes_.find(cpu);
        if (it == l3_sizes_.end()) continue;
        if (!first) first = {cpu, it->second};
        else if (it->second.first != first->second.first)
          fail_at(it->second.second,
                  fmt::format("CPU {}'s L3 is {} bytes, but CPU {} on the same L3 (line {}) says {} bytes", cpu,
                              it->second.first, first->first, first->second.second, first->second.first));
      }
      if (first) cache.size_bytes = first->second.first;
    }
  }

  void read_header(const std::vector<std::string>& words, int line_no) {
    header_ = words;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      if (std::find(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(i), w) != words.begin() + static_cast<std::ptrdiff_t>(i))
        fail_at(line_no, fmt::format("the header names column '{}' twice", w));
      if (w == "CPU") col_cpu_ = i;
      else if (w == "NODE") col_node_ = i;
      else if (w == "SOCKET") col_socket_ = i;
      else if (w == "CORE") col_core_ = i;
      else if (w == "ONLINE") col_online_ = i;
      else if (w == "MAXMHZ") col_maxmhz_ = i;
      else if (w.find(':') != std::string::npos || cache_column(w)) {
        col_cache_ = i;
        std::istringstream parts(w);
        std::string part;
        while (std::getline(parts, part, ':')) {
          auto column = cache_column(part);
          if (!column) fail_at(line_no, fmt::format("unknown cache '{}' in column '{}'", part, w));
          cache_columns_.push_back(*column);
        }
      }
    }
    if (!col_core_ || !col_socket_)
      fail_at(line_no, "the header lacks the CORE or SOCKET column: paste the output of plain `lscpu -e`");
    if (!col_cache_)
      fail_at(line_no,
              "the header has no L1d:L1i:L2:L3 column, so cache sharing is unknown: paste the output of "
              "`lscpu -e=CPU,NODE,SOCKET,CORE,CACHE,ONLINE,MAXMHZ` instead");
  }

  void read_row(const std::vector<std::string>& words, int line_no) {
    if (words.size() != header_.size())
      fail_at(line_no, fmt::format("{} columns where the header has {}", words.size(), header_.size()));
    unsigned cpu = require_id(words[col_cpu_], "CPU", line_no);
    // A larger number is a typo or corruption (common/cpuset.hpp).
    if (cpu >= kCpuNumberLimit) fail_at(line_no, fmt::format("CPU {} is out of range", cpu));
    if (auto [it, fresh] = first_line_.try_emplace(cpu, line_no); !fresh)
      fail_at(line_no, fmt::format("CPU {} is listed twice (first on line {})", cpu, it->second));
    ++rows_;
    bool online = !col_online_ || words[*col_online_] == "yes" || words[*col_online_] == "y";
    if (words[*col_core_] == "-" || words[*col_socket_] == "-") online = false;
    if (!online) {
      offline_.insert(cpu);
      return;
    }
    Row row;
    row.cpu = cpu;
    row.core = require_id(words[*col_core_], "CORE", line_no);
    row.socket = require_id(words[*col_socket_], "SOCKET", line_no);
    if (col_node_ && words[*col_node_] != "-") row.node = require_id(words[*col_node_], "NODE", line_no);
    if (col_maxmhz_) row.max_mhz = parse_mhz(words[*col_maxmhz_]);
    const std::string& caches = words[*col_cache_];
    if (caches != "-") {
      std::istringstream parts(caches);
      std::string part;
      while (std::getline(parts, part, ':')) {
        if (row.cache_ids.size() == cache_columns_.size())
          fail_at(line_no, fmt::format("cache field '{}' has more ids than the header names", caches));
        if (part.empty() || part == "-") row.cache_ids.push_back(std::nullopt);
        else row.cache_ids.push_back(require_id(part, "cache", line_no));
      }
      if (row.cache_ids.size() != cache_columns_.size())
        fail_at(line_no, fmt::format("cache field '{}' has fewer ids than the header names", caches));
    }
    rows_online_.push_back(std::move(row));
  }

  unsigned require_id(const std::string& text, std::string_view column, int line_no) const {
    auto id = parse_id(text);
    if (!id) fail_at(line_no, fmt::format("'{}' is not a number in the {} column", text, column));
    return *id;
  }

  Topology build() {
    if (rows_online_.empty()) fail("every CPU in the listing is offline");
    Topology topo;
    topo.source = TopologySource::LscpuText;
    topo.source_name = name_;
    topo.cpu_model = field_of_full_lscpu(text_, "Model name:");
    topo.cpu_vendor = field_of_full_lscpu(text_, "Vendor ID:");
    topo.cpu_flags = detail::parse_cpu_flags(field_of_full_lscpu(text_, "Flags:"));
    topo.cpu_family = detail::parse_cpu_family(field_of_full_lscpu(text_, "CPU family:"));
    topo.offline_cpus = offline_;

    std::map<std::pair<unsigned, unsigned>, CpuSet> cores;  // (socket, core) -> CPUs
    std::map<unsigned, CpuSet> packages, nodes;
    std::map<std::pair<std::size_t, unsigned>, CpuSet> caches;  // (column, id) -> CPUs
    std::map<std::pair<unsigned, unsigned>, double> core_mhz;
    for (const Row& row : rows_online_) {
      topo.cpus.push_back(LogicalCpu{row.cpu, 0, row.socket, row.node, {}, {}, {}, {}, 0});
      cores[{row.socket, row.core}].insert(row.cpu);
      packages[row.socket].insert(row.cpu);
      if (row.node) nodes[*row.node].insert(row.cpu);
      for (std::size_t c = 0; c < row.cache_ids.size(); ++c)
        if (row.cache_ids[c]) caches[{c, *row.cache_ids[c]}].insert(row.cpu);
      if (row.max_mhz) {
        double& mhz = core_mhz[{row.socket, row.core}];
        mhz = std::max(mhz, *row.max_mhz);
      }
    }
    for (auto& [key, cpus] : cores) topo.cores.push_back(Core{0, cpus, key.first, 0});
    for (auto& [socket, cpus] : packages) topo.packages.push_back(Package{socket, cpus, topo.cpu_model});
    for (auto& [node, cpus] : nodes) topo.numa_nodes.push_back(NumaNode{node, cpus, std::nullopt});
    for (auto& [key, cpus] : caches)
      topo.caches.push_back(Cache{cache_columns_[key.first].level, cache_columns_[key.first].type, 0, std::nullopt, cpus});

    apply_pasted_l3_sizes(topo);
    warn_without_l3_sizes(topo);
    topo.kinds = kinds_from_frequency(cores, core_mhz);
    detail::check_cache_plausibility(topo);
    detail::name_and_merge_kinds(topo);
    try {
      finish_topology(topo);
    } catch (const std::runtime_error& e) {
      fail(e.what());
    }
    return topo;
  }

  // `lscpu -e` shows which CPUs share an L3, never its size: on a part with
  // V-Cache (the model name says X3D, or an EPYC "X" such as 7773X or 9684X),
  // say what that hides and how to add it.
  void warn_without_l3_sizes(Topology& topo) const {
    if (!names_vcache_part(topo.cpu_model)) return;
    for (const Cache& cache : topo.caches)
      if (cache.level == 3 && cache.size_bytes) return;
    topo.warnings.push_back(fmt::format(
        "the {} has 3D V-Cache, but `lscpu -e` shows no cache sizes, so its V-Cache CCD looks like any other: paste "
        "the output of `grep . /sys/devices/system/cpu/cpu*/cache/index3/size` below the table to show it",
        printable(topo.cpu_model, 80)));
  }

  static bool names_vcache_part(std::string_view model) {
    if (model.find("X3D") != std::string_view::npos) return true;
    const std::size_t epyc = model.find("EPYC ");
    if (epyc == std::string_view::npos) return false;
    std::string_view part = model.substr(epyc + 5);
    part = part.substr(0, part.find(' '));  // "7773X", "9684X"
    return part.size() == 5 && part.back() == 'X' &&
           std::all_of(part.begin(), part.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  }

  // lscpu has no core-type column: cores whose MAXMHZ differ by more than 5%
  // are different kinds (P 5.3-5.4 GHz vs E 4.2 GHz on an i7-14700F).
  static std::vector<CoreKind> kinds_from_frequency(const std::map<std::pair<unsigned, unsigned>, CpuSet>& cores,
                                                    const std::map<std::pair<unsigned, unsigned>, double>& core_mhz) {
    if (core_mhz.size() != cores.size()) return {};  // no or partial frequency data: one kind
    std::vector<double> levels;
    for (auto& [core, mhz] : core_mhz) levels.push_back(mhz);
    std::sort(levels.begin(), levels.end());
    std::vector<CoreKind> kinds;
    std::vector<double> floor_of_kind;
    for (double mhz : levels) {
      if (kinds.empty() || mhz > floor_of_kind.back() * 1.05) {
        kinds.push_back(CoreKind{});
        floor_of_kind.push_back(mhz);
      }
      kinds.back().max_mhz = static_cast<unsigned>(mhz + 0.5);
    }
    for (auto& [core, mhz] : core_mhz) {
      std::size_t k = static_cast<std::size_t>(
          std::upper_bound(floor_of_kind.begin(), floor_of_kind.end(), mhz) - floor_of_kind.begin() - 1);
      kinds[k].cpus |= cores.at(core);
    }
    // Two or three kinds where only the fastest has SMT: Intel's P-cores and
    // E-cores, and the low-power E-cores of Meteor/Arrow Lake mobile parts.
    if (kinds.size() == 2 || kinds.size() == 3) {
      auto smt_in = [&](const CoreKind& kind) {
        bool any = false;
        for (auto& [core, cpus] : cores) any |= kind.cpus.contains(cpus) && cpus.size() > 1;
        return any;
      };
      const bool only_fastest = smt_in(kinds.back()) && std::none_of(kinds.begin(), kinds.end() - 1, smt_in);
      if (only_fastest) {
        kinds.back().name = "P-core";
        kinds[kinds.size() - 2].name = "E-core";
        if (kinds.size() == 3) kinds[0].name = "LP E-core";
      }
    }
    return kinds;
  }

  struct Row {
    unsigned cpu = 0, core = 0, socket = 0;
    std::optional<unsigned> node;
    std::optional<double> max_mhz;
    std::vector<std::optional<unsigned>> cache_ids;
  };

  std::string_view text_;
  std::string name_;
  std::vector<std::string> header_;
  std::size_t col_cpu_ = 0;
  std::optional<std::size_t> col_node_, col_socket_, col_core_, col_cache_, col_online_, col_maxmhz_;
  std::vector<CacheColumn> cache_columns_;
  std::map<unsigned, int> first_line_;
  std::map<unsigned, std::pair<std::uint64_t, int>> l3_sizes_;  // CPU -> its L3's pasted size, line
  std::vector<Row> rows_online_;
  CpuSet offline_;
  int rows_ = 0;
};

}  // namespace

Topology load_lscpu(std::string_view text, const std::string& name) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw TopologyInputError(fmt::format("cannot read topology '{}': the input is empty", name));
  return LscpuParser(text, name).parse();
}

Topology load_lscpu_file(const std::string& path) {
  return load_lscpu(read_input_file(path), path == "-" ? "standard input" : path);
}

}  // namespace vpt
