// The one layout pass: build the box tree (which levels nest), merge boxes
// that stand for the same CPUs, size bottom-up, place top-down.
#include "report/layout.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "probe/topology_writers.hpp"

namespace vpt {

std::string_view to_string(CpuRole role) {
  switch (role) {
    case CpuRole::Vcpu: return "vcpu";
    case CpuRole::Emulator: return "emulator";
    case CpuRole::IoThread: return "iothread";
    case CpuRole::Host: return "host";
    case CpuRole::Unused: return "unused";
  }
  return "unused";
}

std::string_view to_string(BoxKind kind) {
  switch (kind) {
    case BoxKind::Machine: return "machine";
    case BoxKind::Package: return "package";
    case BoxKind::Numa: return "numa";
    case BoxKind::L3: return "l3";
    case BoxKind::L2: return "l2";
    case BoxKind::Core: return "core";
    case BoxKind::Cpu: return "cpu";
  }
  return "cpu";
}

std::vector<CpuUse> cpu_uses(const Topology& topo, const Plan& plan) {
  std::vector<CpuUse> uses;
  std::map<unsigned, std::size_t> at;
  for (const LogicalCpu& cpu : topo.cpus) {
    at[cpu.os_index] = uses.size();
    CpuUse use;
    use.os_index = cpu.os_index;
    uses.push_back(use);
  }
  std::vector<std::vector<std::string>> words(uses.size());
  // Lower rank wins the drawing: vCPU 0, emulator 1, I/O thread 2, host 3.
  auto claim = [&](unsigned cpu, CpuRole role, std::optional<unsigned> guest, std::string what) {
    auto it = at.find(cpu);
    if (it == at.end()) return;
    CpuUse& use = uses[it->second];
    words[it->second].push_back(std::move(what));
    if (use.role == CpuRole::Unused || static_cast<int>(role) < static_cast<int>(use.role)) {
      use.role = role;
      use.guest = guest;
    }
  };
  for (unsigned g = 0; g < plan.guests.size(); ++g) {
    const GuestPlan& guest = plan.guests[g];
    for (unsigned v = 0; v < guest.vcpus.size(); ++v) {
      unsigned cpu = guest.vcpus[v];
      claim(cpu, CpuRole::Vcpu, g, fmt::format("vCPU {} of guest '{}'", v, guest.name));
      auto it = at.find(cpu);
      if (it != at.end() && uses[it->second].role == CpuRole::Vcpu && uses[it->second].guest == g &&
          !uses[it->second].vcpu)
        uses[it->second].vcpu = v;
    }
    for (unsigned cpu : guest.emulator) claim(cpu, CpuRole::Emulator, g, fmt::format("emulator of '{}'", guest.name));
    for (unsigned i = 0; i < guest.iothreads.size(); ++i)
      for (unsigned cpu : guest.iothreads[i]) {
        claim(cpu, CpuRole::IoThread, g, fmt::format("I/O thread {} of '{}'", i + 1, guest.name));
        auto it = at.find(cpu);
        if (it != at.end() && !uses[it->second].iothread) uses[it->second].iothread = i + 1;
      }
  }
  for (unsigned cpu : plan.host) {
    auto it = at.find(cpu);
    if (it == at.end()) continue;
    uses[it->second].host = true;
    claim(cpu, CpuRole::Host, std::nullopt, "host");
  }
  for (std::size_t i = 0; i < uses.size(); ++i) {
    if (uses[i].role == CpuRole::Host || uses[i].role == CpuRole::Unused) uses[i].guest.reset();
    if (uses[i].role == CpuRole::Vcpu) uses[i].iothread.reset();  // drawn as the vCPU
    if (words[i].empty()) words[i].push_back("unused: neither a guest's nor the host's");
    uses[i].description = fmt::format("{}", fmt::join(words[i], "; "));
  }
  return uses;
}

namespace {

// One way to arrange a box's children.
struct Candidate {
  double w = 0, h = 0;
  std::vector<std::size_t> child_choice;            // each child's arrangement
  std::vector<std::pair<double, double>> offsets;   // each child's place inside this box
  std::vector<std::pair<double, double>> cells;     // each child's size: its grid cell
};

struct Node {
  BoxKind kind = BoxKind::Cpu;
  std::string label, sublabel, detail;
  CpuSet cpus;
  std::vector<Node> children;
  std::optional<std::size_t> cpu;
  std::vector<Candidate> candidates;  // filled by Sizer::size()
  std::size_t chosen = 0;             // by Sizer::choose()
};

using Key = std::function<std::optional<unsigned>(const LogicalCpu&)>;

struct Level {
  BoxKind kind;
  Key key;
};

// Every group of `level` lies inside one group of each of `parents`.
bool nests(const std::vector<LogicalCpu>& cpus, const Level& level, const std::vector<Level>& parents) {
  std::map<unsigned, std::vector<std::optional<unsigned>>> seen;
  for (const LogicalCpu& cpu : cpus) {
    auto k = level.key(cpu);
    if (!k) continue;
    std::vector<std::optional<unsigned>> path;
    for (const Level& p : parents) path.push_back(p.key(cpu));
    auto [it, fresh] = seen.emplace(*k, path);
    if (!fresh && it->second != path) return false;
  }
  return true;
}

bool has_any_key(const std::vector<LogicalCpu>& cpus, const Level& level) {
  return std::any_of(cpus.begin(), cpus.end(), [&](const LogicalCpu& c) { return level.key(c).has_value(); });
}

std::vector<Level> keep_nested(const std::vector<LogicalCpu>& cpus, const std::vector<Level>& order,
                               std::vector<BoxKind>& dropped) {
  std::vector<Level> kept;
  for (const Level& level : order) {
    if (!has_any_key(cpus, level)) continue;
    if (nests(cpus, level, kept))
      kept.push_back(level);
    else
      dropped.push_back(level.kind);
  }
  return kept;
}

bool contains_kind(const std::vector<Level>& levels, BoxKind kind) {
  return std::any_of(levels.begin(), levels.end(), [&](const Level& l) { return l.kind == kind; });
}

std::string join_nonempty(std::string_view sep, std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

class Builder {
 public:
  Builder(const Topology& topo, const std::vector<CpuUse>& uses) : topo_(topo), uses_(uses) {
    hybrid_ = topo.kinds.size() > 1;
    for (std::size_t i = 0; i < uses.size(); ++i) use_at_[uses[i].os_index] = i;
  }

  std::vector<BoxKind> dropped;

  Node build() {
    std::vector<Level> order_numa_first = {
        {BoxKind::Package, [](const LogicalCpu& c) { return std::optional<unsigned>(c.package); }},
        {BoxKind::Numa, [](const LogicalCpu& c) { return c.numa; }},
        {BoxKind::L3, [](const LogicalCpu& c) { return c.l3; }},
        {BoxKind::L2, [](const LogicalCpu& c) { return c.l2; }},
        {BoxKind::Core, [](const LogicalCpu& c) { return std::optional<unsigned>(c.core); }},
    };
    // One NUMA node with CPUs says nothing the package box does not.
    std::map<unsigned, bool> numa_with_cpus;
    for (const LogicalCpu& c : topo_.cpus)
      if (c.numa) numa_with_cpus[*c.numa] = true;
    if (numa_with_cpus.size() <= 1) order_numa_first.erase(order_numa_first.begin() + 1);
    std::vector<Level> order_l3_first = order_numa_first;
    if (order_l3_first.size() == 5) std::swap(order_l3_first[1], order_l3_first[2]);

    std::vector<BoxKind> dropped_a, dropped_b;
    auto a = keep_nested(topo_.cpus, order_numa_first, dropped_a);
    auto b = keep_nested(topo_.cpus, order_l3_first, dropped_b);
    auto score = [](const std::vector<Level>& l) { return (contains_kind(l, BoxKind::L3) ? 10 : 0) + l.size(); };
    levels_ = score(b) > score(a) ? b : a;
    dropped = score(b) > score(a) ? dropped_b : dropped_a;

    CpuSet all;
    for (const LogicalCpu& c : topo_.cpus) all.insert(c.os_index);
    Node root;
    root.kind = BoxKind::Machine;
    root.cpus = all;
    root.children = group(topo_.cpus, 0);
    return root;
  }

 private:
  std::vector<Node> group(const std::vector<LogicalCpu>& cpus, std::size_t level) {
    std::vector<Node> nodes;
    if (level == levels_.size()) {
      for (const LogicalCpu& c : cpus) nodes.push_back(cpu_leaf(c));
      return nodes;
    }
    // Groups in order of their first CPU; CPUs without a key at this level
    // skip it (their boxes sit directly in the parent).
    std::vector<std::pair<std::optional<unsigned>, std::vector<LogicalCpu>>> groups;
    for (const LogicalCpu& c : cpus) {
      auto k = levels_[level].key(c);
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return k && g.first == k; });
      if (it == groups.end()) {
        groups.push_back({k, {c}});
      } else {
        it->second.push_back(c);
      }
    }
    for (auto& [key, members] : groups) {
      if (!key) {
        for (Node& n : group(members, level + 1)) nodes.push_back(std::move(n));
        continue;
      }
      Node node = group_node(levels_[level].kind, *key, members);
      node.children = group(members, level + 1);
      nodes.push_back(merge(std::move(node)));
    }
    return nodes;
  }

  const Cache* cache(int level, unsigned index) const {
    for (const Cache* c : caches_at_level(topo_, level))
      if (c->index == index) return c;
    return nullptr;
  }

  std::string kinds_of(const CpuSet& cpus) const {
    if (!hybrid_) return "";
    std::optional<unsigned> kind;
    unsigned cores = 0;
    for (const Core& core : topo_.cores) {
      if (!cpus.contains(core.cpus)) continue;
      if (kind && *kind != core.kind) return "";
      kind = core.kind;
      ++cores;
    }
    if (!kind) return "";
    return fmt::format("{} {}{}", cores, topo_.kinds[*kind].name, cores > 1 ? "s" : "");
  }

  Node group_node(BoxKind kind, unsigned key, const std::vector<LogicalCpu>& members) {
    Node node;
    node.kind = kind;
    for (const LogicalCpu& c : members) node.cpus.insert(c.os_index);
    switch (kind) {
      case BoxKind::Package: {
        node.label = fmt::format("Package {}", key);
        std::string model;
        for (const Package& p : topo_.packages)
          if (p.os_index == key) model = p.cpu_model;
        node.detail = fmt::format("Package {}{}: CPUs {}", key, model.empty() ? "" : " (" + model + ")", node.cpus);
        break;
      }
      case BoxKind::Numa: {
        std::optional<std::uint64_t> memory;
        for (const NumaNode& n : topo_.numa_nodes)
          if (n.os_index == key) memory = n.memory_bytes;
        node.label = memory ? fmt::format("NUMA {} · {}", key, format_bytes(memory)) : fmt::format("NUMA {}", key);
        node.detail = fmt::format("NUMA node {}{}: CPUs {}", key, memory ? ", " + format_bytes(memory) : "", node.cpus);
        break;
      }
      case BoxKind::L3:
      case BoxKind::L2: {
        int level = kind == BoxKind::L3 ? 3 : 2;
        const Cache* c = cache(level, key);
        std::string size = c && c->size_bytes ? format_bytes(c->size_bytes) : "";
        std::string kinds = kind == BoxKind::L2 ? kinds_of(node.cpus) : "";
        node.label = join_nonempty(" · ", {fmt::format("L{} #{}", level, key), size, kinds});
        node.detail = fmt::format("L{} #{}{}: shared by CPUs {}", level, key, size.empty() ? "" : ", " + size,
                                  node.cpus);
        break;
      }
      case BoxKind::Core: {
        const Core* core = nullptr;
        for (const Core& c : topo_.cores)
          if (c.index == key) core = &c;
        std::string kind_name = core ? topo_.kinds[core->kind].name : "core";
        node.label = hybrid_ ? kind_name : "";
        node.detail = fmt::format("core {}{}: CPUs {}", key, hybrid_ ? " (" + kind_name + ")" : "", node.cpus);
        break;
      }
      default: break;
    }
    return node;
  }

  Node cpu_leaf(const LogicalCpu& c) {
    Node node;
    node.kind = BoxKind::Cpu;
    node.cpus.insert(c.os_index);
    node.label = std::to_string(c.os_index);
    auto it = use_at_.find(c.os_index);
    if (it == use_at_.end()) return node;
    node.cpu = it->second;
    const CpuUse& use = uses_[it->second];
    switch (use.role) {
      case CpuRole::Vcpu: node.sublabel = use.vcpu ? fmt::format("v{}", *use.vcpu) : "v"; break;
      case CpuRole::Emulator: node.sublabel = use.iothread ? "e+io" : "emu"; break;
      case CpuRole::IoThread: node.sublabel = fmt::format("io{}", use.iothread.value_or(1)); break;
      case CpuRole::Host: node.sublabel = ""; break;  // grey says it; 300 "host" labels would not
      case CpuRole::Unused: node.sublabel = ""; break;
    }
    node.detail = fmt::format("CPU {}: {}", c.os_index, use.description);
    return node;
  }

  // A box with one child standing for the same CPUs is drawn once.
  static Node merge(Node node) {
    while (node.children.size() == 1 && node.children.front().cpus == node.cpus) {
      Node child = std::move(node.children.front());
      std::string detail = node.detail + "\n" + child.detail;
      if (child.kind == BoxKind::Cpu || child.kind == BoxKind::Core) {
        // A private L2 is drawn as its core; a core of one thread as its CPU.
        child.detail = detail;
        node = std::move(child);
      } else {
        node.label = join_nonempty(" · ", {node.label, child.label});
        node.detail = detail;
        node.children = std::move(child.children);
      }
    }
    return node;
  }

  const Topology& topo_;
  const std::vector<CpuUse>& uses_;
  bool hybrid_ = false;
  std::map<unsigned, std::size_t> use_at_;
  std::vector<Level> levels_;
};

// ---- Sizing -------------------------------------------------------------------
//
// Bottom-up, each box keeps a few arrangements (its Pareto front of width
// against height); the outermost box takes the shortest one that fits
// max_width, and that choice flows down. So a CCD's eight cores become 4 x 2
// when that lets three CCDs share a row, and a hybrid CPU's P-cores stay on
// one row when the page is wide enough.

class Sizer {
 public:
  explicit Sizer(const LayoutMetrics& m) : m_(m) {}

  double text_width(std::string_view text, double font) const {
    // UTF-8 continuation bytes do not add width ("·" is two bytes, one glyph).
    std::size_t glyphs = 0;
    for (char c : text)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++glyphs;
    return static_cast<double>(glyphs) * font * m_.char_width;
  }

  // Boxes of one kind get the width their longest label needs, and all CPUs
  // the width of the widest: twelve CCDs then have the same arrangements
  // whether one is "L3 #10" or runs "e+io".
  void measure(const Node& n) {
    if (n.children.empty()) {
      cpu_w_ = std::max({cpu_w_, m_.cpu_width, text_width(n.label, m_.font_size) + 6,
                         text_width(n.sublabel, m_.font_size * 0.85) + 6});
      return;
    }
    if (!n.label.empty()) {
      double& w = label_w_[n.kind];
      w = std::max(w, text_width(n.label, m_.font_size));
    }
    for (const Node& c : n.children) measure(c);
  }

  void size(Node& n) {
    n.candidates.clear();
    if (n.children.empty()) {
      n.candidates.push_back({cpu_w_, m_.cpu_height, {}, {}, {}});
      return;
    }
    for (Node& c : n.children) size(c);
    const double pad = n.kind == BoxKind::Core ? m_.core_padding : m_.group_padding;
    const double gap = n.kind == BoxKind::Core ? m_.core_padding : m_.gap;
    const double top = n.label.empty() ? pad : m_.header;
    const double label_w = n.label.empty() ? 0 : label_w_[n.kind] + 2 * pad + 2;

    // Runs of children built alike are laid out as one grid; a longer label
    // ("L3 #10" after "L3 #9") widens the grid's cells, not one box.
    std::vector<Run> runs;
    for (std::size_t i = 0; i < n.children.size(); ++i) {
      if (!runs.empty() && alike(n.children[runs.back().first], n.children[i]))
        ++runs.back().count;
      else
        runs.push_back({i, 1, {}});
    }
    for (Run& r : runs) {
      r.shapes = n.children[r.first].candidates;
      for (std::size_t j = 1; j < r.count; ++j)
        for (std::size_t ci = 0; ci < r.shapes.size(); ++ci) {
          r.shapes[ci].w = std::max(r.shapes[ci].w, n.children[r.first + j].candidates[ci].w);
          r.shapes[ci].h = std::max(r.shapes[ci].h, n.children[r.first + j].candidates[ci].h);
        }
    }
    const bool flow = runs.size() > 3;
    // A core's threads stay on one row up to four (POWER's eight may wrap).
    const bool one_row = n.kind == BoxKind::Core && n.children.size() <= 4;

    std::vector<double> limits;
    for (const Run& r : runs)
      for (const Candidate& c : r.shapes)
        for (std::size_t k = one_row ? r.count : 1; k <= r.count; ++k)
          limits.push_back(static_cast<double>(k) * c.w + static_cast<double>(k - 1) * gap);
    if (flow) {
      double sum = 0;
      for (const Node& c : n.children) {
        sum += c.candidates.front().w + (sum > 0 ? gap : 0);
        limits.push_back(sum);
      }
    }
    std::sort(limits.begin(), limits.end());
    limits.erase(std::unique(limits.begin(), limits.end()), limits.end());

    for (double limit : limits) {
      Candidate cand;
      cand.child_choice.resize(n.children.size());
      cand.offsets.resize(n.children.size());
      cand.cells.resize(n.children.size());
      double w = 0, h = 0;
      if (!flow) {
        for (const Run& r : runs) {
          const auto& options = r.shapes;
          std::size_t best = 0, best_k = 1;
          double best_h = std::numeric_limits<double>::infinity(), best_w = 0;
          for (std::size_t ci = 0; ci < options.size(); ++ci) {
            const Candidate& c = options[ci];
            std::size_t k = std::min<std::size_t>(
                r.count, std::max<std::size_t>(1, static_cast<std::size_t>((limit + gap) / (c.w + gap) + 1e-9)));
            if (one_row) k = r.count;
            std::size_t rows = (r.count + k - 1) / k;
            double rw = static_cast<double>(k) * c.w + static_cast<double>(k - 1) * gap;
            double rh = static_cast<double>(rows) * c.h + static_cast<double>(rows - 1) * gap;
            bool fits = rw <= limit + 1e-9;
            bool best_fits = best_w <= limit + 1e-9 && best_h < std::numeric_limits<double>::infinity();
            if ((fits && (!best_fits || rh < best_h - 1e-9 || (rh < best_h + 1e-9 && rw < best_w))) ||
                (!fits && !best_fits && (best_h == std::numeric_limits<double>::infinity() || rw < best_w))) {
              best = ci;
              best_k = k;
              best_h = rh;
              best_w = rw;
            }
          }
          const Candidate& c = options[best];
          if (h > 0) h += gap;
          for (std::size_t j = 0; j < r.count; ++j) {
            cand.child_choice[r.first + j] = best;
            cand.cells[r.first + j] = {c.w, c.h};
            cand.offsets[r.first + j] = {static_cast<double>(j % best_k) * (c.w + gap),
                                         h + static_cast<double>(j / best_k) * (c.h + gap)};
          }
          w = std::max(w, best_w);
          h += best_h;
        }
      } else {
        double x = 0, y = 0, row_h = 0;
        for (std::size_t i = 0; i < n.children.size(); ++i) {
          const auto& options = n.children[i].candidates;
          std::size_t best = 0;
          for (std::size_t ci = 1; ci < options.size(); ++ci)
            if (options[ci].w <= limit + 1e-9 && options[ci].h < options[best].h) best = ci;
          const Candidate& c = options[best];
          if (x > 0 && x + c.w > limit + 1e-9) {
            y += row_h + gap;
            x = 0;
            row_h = 0;
          }
          cand.child_choice[i] = best;
          cand.cells[i] = {c.w, c.h};
          cand.offsets[i] = {x, y};
          x += c.w + gap;
          row_h = std::max(row_h, c.h);
          w = std::max(w, x - gap);
        }
        h = y + row_h;
      }
      for (auto& [x, y] : cand.offsets) {
        x += pad;
        y += top;
      }
      cand.w = std::max(w + 2 * pad, label_w);
      cand.h = top + h + pad;
      n.candidates.push_back(std::move(cand));
    }
    // Pareto front: each wider arrangement must be shorter.
    std::sort(n.candidates.begin(), n.candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.w < b.w || (a.w == b.w && a.h < b.h); });
    // A box is never narrower than its children: arrangements wider than the
    // page can never be used, except the narrowest when none fits.
    std::vector<Candidate> front;
    for (Candidate& c : n.candidates)
      if ((front.empty() || c.h < front.back().h - 1e-9) && (front.empty() || c.w <= m_.max_width + 1e-9))
        front.push_back(std::move(c));
    n.candidates = std::move(front);
  }

  // The shortest arrangement no wider than max_width (else the narrowest).
  void choose(Node& n, std::optional<std::size_t> index = std::nullopt) {
    if (!index) {
      index = 0;
      for (std::size_t i = 0; i < n.candidates.size(); ++i)
        if (n.candidates[i].w <= m_.max_width + 1e-9 &&
            (n.candidates[*index].w > m_.max_width + 1e-9 || n.candidates[i].h < n.candidates[*index].h))
          index = i;
    }
    n.chosen = *index;
    const Candidate& c = n.candidates[n.chosen];
    for (std::size_t i = 0; i < n.children.size(); ++i) choose(n.children[i], c.child_choice[i]);
  }

 private:
  double cpu_w_ = 0;
  std::map<BoxKind, double> label_w_;
  struct Run {
    std::size_t first = 0, count = 0;
    std::vector<Candidate> shapes;  // the largest of the run's boxes, per arrangement
  };
  // Same kinds and child counts all the way down, and as many arrangements.
  static bool alike(const Node& a, const Node& b) {
    if (a.kind != b.kind || a.children.size() != b.children.size() || a.candidates.size() != b.candidates.size())
      return false;
    for (std::size_t i = 0; i < a.children.size(); ++i)
      if (!alike(a.children[i], b.children[i])) return false;
    return true;
  }

  const LayoutMetrics& m_;
};

void place(const Node& n, double x, double y, std::pair<double, double> size, unsigned depth, bool draw_self,
           std::vector<LayoutBox>& out) {
  const Candidate& c = n.candidates[n.chosen];
  if (draw_self) {
    LayoutBox box;
    box.kind = n.kind;
    box.x = x;
    box.y = y;
    box.width = size.first;
    box.height = size.second;
    box.depth = depth;
    box.label = n.label;
    box.sublabel = n.sublabel;
    box.detail = n.detail;
    box.cpus = n.cpus;
    box.cpu = n.cpu;
    out.push_back(std::move(box));
  }
  for (std::size_t i = 0; i < n.children.size(); ++i)
    place(n.children[i], x + c.offsets[i].first, y + c.offsets[i].second, c.cells[i], draw_self ? depth + 1 : depth,
          true, out);
}

std::vector<LegendEntry> legend_for(const std::vector<CpuUse>& uses, const Plan& plan) {
  std::vector<LegendEntry> legend;
  for (unsigned g = 0; g < plan.guests.size(); ++g) {
    LegendEntry e{CpuRole::Vcpu, g, fmt::format("vCPUs of guest '{}' (v0, v1, …)", plan.guests[g].name), 0};
    for (const CpuUse& u : uses) e.count += u.role == CpuRole::Vcpu && u.guest == g;
    legend.push_back(e);
  }
  const std::pair<CpuRole, const char*> others[] = {{CpuRole::Emulator, "emulator thread CPUs"},
                                                    {CpuRole::IoThread, "I/O thread CPUs"},
                                                    {CpuRole::Host, "host CPUs (Linux, QEMU's other threads, IRQs)"},
                                                    {CpuRole::Unused, "unused CPUs"}};
  for (auto [role, text] : others) {
    LegendEntry e{role, std::nullopt, text, 0};
    bool all_on_host = true;
    for (const CpuUse& u : uses)
      if (u.role == role) {
        ++e.count;
        all_on_host = all_on_host && u.host;
      }
    // An emulator CPU that also runs an I/O thread is drawn "e+io".
    if (role == CpuRole::Emulator &&
        std::any_of(uses.begin(), uses.end(), [](const CpuUse& u) { return u.role == CpuRole::Emulator && u.iothread; }))
      e.text = "emulator (and I/O thread: e+io) CPUs";
    // Helpers on the host's CPUs are drawn as helpers, with a dark border.
    if (role != CpuRole::Host && all_on_host) e.text += ", shared with the host (dark border)";
    if (e.count > 0) legend.push_back(e);
  }
  return legend;
}

std::vector<std::string> notes_for(const Topology& topo, const std::vector<BoxKind>& dropped) {
  std::vector<std::string> notes;
  // L2 caches that belong to one core are drawn as that core's box.
  unsigned private_l2 = 0;
  std::optional<std::uint64_t> size;
  bool same_size = true;
  for (const Cache* c : caches_at_level(topo, 2))
    for (const Core& core : topo.cores)
      if (core.cpus == c->cpus) {
        if (private_l2 > 0 && size != c->size_bytes) same_size = false;
        size = c->size_bytes;
        ++private_l2;
      }
  if (private_l2 > 0) {
    std::string each = same_size && size ? " (" + format_bytes(size) + " each)" : "";
    notes.push_back(private_l2 == topo.cores.size()
                        ? fmt::format("Every core has a private L2{}: the core's box stands for it.", each)
                        : fmt::format("Cores drawn without an L2 box around them ({}) have a private L2{}.", private_l2,
                                      each));
  }
  if (caches_at_level(topo, 3).empty()) notes.push_back("The host model has no L3 information.");
  for (BoxKind kind : dropped)
    notes.push_back(fmt::format("{} boxes are left out: they do not nest inside the other levels (see the host summary).",
                                kind == BoxKind::Numa ? "NUMA node" : kind == BoxKind::L3 ? "L3" : "L2"));
  if (!topo.offline_cpus.empty())
    notes.push_back(fmt::format("Offline CPUs {} are not drawn.", topo.offline_cpus));
  return notes;
}

}  // namespace

TopologyPicture layout_topology(const Topology& topo, const Plan& plan, const LayoutMetrics& metrics) {
  TopologyPicture layout;
  layout.cpus = cpu_uses(topo, plan);
  layout.font_size = metrics.font_size;
  Builder builder(topo, layout.cpus);
  Node root = builder.build();
  // One package: it is the outermost box.
  // (Moved out first: assigning a node its own child frees the child while
  // it is read, found by AddressSanitizer.)
  if (root.children.size() == 1) {
    Node package = std::move(root.children.front());
    root = std::move(package);
  }
  Sizer sizer(metrics);
  sizer.measure(root);
  sizer.size(root);
  sizer.choose(root);
  bool draw_root = root.kind != BoxKind::Machine;
  const Candidate& chosen = root.candidates[root.chosen];
  place(root, 0, 0, {chosen.w, chosen.h}, 0, draw_root, layout.boxes);
  // An undrawn machine's padding is the figure's margin.
  layout.width = root.candidates[root.chosen].w;
  layout.height = root.candidates[root.chosen].h;
  layout.legend = legend_for(layout.cpus, plan);
  layout.notes = notes_for(topo, builder.dropped);
  return layout;
}

}  // namespace vpt
