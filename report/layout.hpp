// TopologyPicture: the host drawn once, like lstopo draws it — packages, NUMA
// nodes, L3 groups, L2 groups, cores and CPUs as nested boxes — with each CPU's
// role in the plan. Computed once from a Topology and a Plan; the HTML/SVG
// writer only draws the boxes, and the text writers read the roles.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/plan.hpp"
#include "common/cpuset.hpp"
#include "probe/topology.hpp"

namespace vpt {

// What the plan does with a host CPU. When a CPU has several (an emulator
// thread on a host CPU), the first of this order is the one drawn.
enum class CpuRole { Vcpu, Emulator, IoThread, Host, Unused };
std::string_view to_string(CpuRole role);  // "vcpu", "emulator", "iothread", "host", "unused"

struct CpuUse {
  unsigned os_index = 0;
  CpuRole role = CpuRole::Unused;
  std::optional<unsigned> guest;     // Plan::guests index, for vCPU, emulator and I/O thread roles
  std::optional<unsigned> vcpu;      // vCPU number in that guest
  std::optional<unsigned> iothread;  // I/O thread id (1-based, as in <iothreadpin iothread=...>)
  bool host = false;                 // also one of the CPUs the host keeps
  std::string description;           // every role, in words: "emulator of 'win11'; host"
};

// One entry per online CPU of `topo`, in os_index order. CPUs the plan names
// that the topology does not have are ignored here (the report warns).
std::vector<CpuUse> cpu_uses(const Topology& topo, const Plan& plan);

enum class BoxKind { Machine, Package, Numa, L3, L2, Core, Cpu };
std::string_view to_string(BoxKind kind);  // "machine", "package", "numa", "l3", "l2", "core", "cpu"

struct LayoutBox {
  BoxKind kind = BoxKind::Cpu;   // a box that stands for several levels (a package with one
                                 // L3) has the outermost one's kind, a core's or CPU's if it is one
  double x = 0, y = 0, width = 0, height = 0;  // absolute, in CSS pixels at 100%
  unsigned depth = 0;            // 0 = outermost drawn box
  std::string label;             // header text; for CPUs the OS index ("12"); may be ""
  std::string sublabel;          // CPUs only: the role in short ("v3", "emu", "io1", "host", "")
  std::string detail;            // everything the box stands for, for a tooltip
  CpuSet cpus;
  std::optional<std::size_t> cpu;  // CPU boxes: index in TopologyPicture::cpus
};

struct LegendEntry {
  CpuRole role = CpuRole::Unused;
  std::optional<unsigned> guest;  // vCPU entries: one per guest
  std::string text;               // "guest 'win11' vCPU (16)"
  unsigned count = 0;             // CPUs drawn with this role
};

// The topology picture, placed: nested boxes (machine, package, NUMA node, L3,
// L2, core, CPU) with their positions and roles, ready to be drawn as SVG.
struct TopologyPicture {
  double width = 0, height = 0;
  std::vector<LayoutBox> boxes;   // parents before their children: the drawing order
  std::vector<CpuUse> cpus;       // cpu_uses(): one per online CPU
  std::vector<LegendEntry> legend;
  std::vector<std::string> notes; // what the picture leaves out ("each core has a private L2 of 1 MiB")
  double font_size = 11;          // of labels, in the units above
};

// Sizes in CSS pixels. Children of a box are placed in rows, lstopo-style;
// of all the nested arrangements no wider than max_width, the shortest wins.
struct LayoutMetrics {
  double cpu_width = 38, cpu_height = 32;
  double core_padding = 3, group_padding = 5, gap = 5, header = 16;
  double font_size = 11;
  double char_width = 0.62;   // average glyph width / font size, to keep labels inside boxes
  double max_width = 1144;  // the HTML page's content width, less the picture's margin
};

TopologyPicture layout_topology(const Topology& topo, const Plan& plan, const LayoutMetrics& metrics = {});

}  // namespace vpt
