// The topology layout, on every corpus topology: one box per logical CPU with
// the role the plan gives it, boxes nested like the topology and not
// overlapping, labels inside their boxes, the picture as wide as the page.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "report/layout.hpp"
#include "tests/report/report_test_util.hpp"

namespace vpt {
namespace {

// Parent of each box: the nearest earlier box one level up (boxes come in
// drawing order, parents first).
std::vector<std::optional<std::size_t>> parents(const TopologyPicture& layout) {
  std::vector<std::optional<std::size_t>> out(layout.boxes.size());
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < layout.boxes.size(); ++i) {
    while (stack.size() > layout.boxes[i].depth) stack.pop_back();
    if (!stack.empty()) out[i] = stack.back();
    stack.push_back(i);
  }
  return out;
}

bool inside(const LayoutBox& in, const LayoutBox& out) {
  const double eps = 1e-6;
  return in.x >= out.x - eps && in.y >= out.y - eps && in.x + in.width <= out.x + out.width + eps &&
         in.y + in.height <= out.y + out.height + eps;
}

bool overlap(const LayoutBox& a, const LayoutBox& b) {
  const double eps = 1e-6;
  return a.x < b.x + b.width - eps && b.x < a.x + a.width - eps && a.y < b.y + b.height - eps &&
         b.y < a.y + a.height - eps;
}

std::size_t glyphs(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

class LayoutOnCorpus : public testing::TestWithParam<std::filesystem::path> {
 protected:
  void SetUp() override {
    topo_ = test::load_corpus(GetParam());
    plan_ = test::plan_for(topo_);
    layout_ = layout_topology(topo_, plan_);
  }
  Topology topo_;
  Plan plan_;
  TopologyPicture layout_;
};

TEST_P(LayoutOnCorpus, DrawsEveryOnlineCpuOnce) {
  std::multiset<unsigned> drawn;
  for (const LayoutBox& box : layout_.boxes)
    if (box.kind == BoxKind::Cpu) {
      ASSERT_TRUE(box.cpu.has_value());
      ASSERT_EQ(box.cpus.size(), 1u);
      drawn.insert(layout_.cpus[*box.cpu].os_index);
      EXPECT_EQ(box.cpus.first(), layout_.cpus[*box.cpu].os_index);
    }
  std::multiset<unsigned> online;
  for (const LogicalCpu& c : topo_.cpus) online.insert(c.os_index);
  EXPECT_EQ(drawn, online);
}

TEST_P(LayoutOnCorpus, GivesEachCpuThePlansRole) {
  ASSERT_EQ(layout_.cpus.size(), topo_.cpus.size());
  for (const CpuUse& use : layout_.cpus) {
    EXPECT_EQ(to_string(use.role), test::expected_role(plan_, use.os_index)) << "CPU " << use.os_index;
    if (use.role == CpuRole::Vcpu) {
      EXPECT_EQ(use.vcpu, test::expected_vcpu(plan_, use.os_index));
    }
    EXPECT_EQ(use.host, plan_.host.contains(use.os_index));
  }
}

TEST_P(LayoutOnCorpus, NestsBoxesLikeTheTopology) {
  auto parent = parents(layout_);
  for (std::size_t i = 0; i < layout_.boxes.size(); ++i) {
    if (!parent[i]) continue;
    const LayoutBox &box = layout_.boxes[i], &up = layout_.boxes[*parent[i]];
    EXPECT_TRUE(inside(box, up)) << box.label << " outside " << up.label;
    EXPECT_TRUE(up.cpus.contains(box.cpus)) << box.label;
    EXPECT_NE(box.cpus, up.cpus) << "a box with its parent's CPUs should have been merged: " << up.label;
  }
}

TEST_P(LayoutOnCorpus, KeepsSiblingsApart) {
  auto parent = parents(layout_);
  std::map<std::optional<std::size_t>, std::vector<std::size_t>> children;
  for (std::size_t i = 0; i < layout_.boxes.size(); ++i) children[parent[i]].push_back(i);
  for (const auto& [p, kids] : children)
    for (std::size_t a = 0; a < kids.size(); ++a)
      for (std::size_t b = a + 1; b < kids.size(); ++b)
        ASSERT_FALSE(overlap(layout_.boxes[kids[a]], layout_.boxes[kids[b]]))
            << layout_.boxes[kids[a]].detail << " / " << layout_.boxes[kids[b]].detail;
}

TEST_P(LayoutOnCorpus, KeepsLabelsInsideTheirBoxes) {
  LayoutMetrics m;
  for (const LayoutBox& box : layout_.boxes) {
    EXPECT_LE(static_cast<double>(glyphs(box.label)) * m.font_size * m.char_width, box.width) << box.label;
    EXPECT_LE(static_cast<double>(glyphs(box.sublabel)) * m.font_size * 0.85 * m.char_width, box.width)
        << box.sublabel;
  }
}

TEST_P(LayoutOnCorpus, FitsThePageWidth) {
  EXPECT_LE(layout_.width, LayoutMetrics{}.max_width);
  EXPECT_GT(layout_.height, 0);
}

INSTANTIATE_TEST_SUITE_P(Corpus, LayoutOnCorpus, testing::ValuesIn(test::corpus_files()),
                         [](const auto& info) { return test::test_name(info.param); });

// ---- Two machines drawn by hand -------------------------------------------------

// i7-14700F (lscpu): one L3 over 8 P-cores with 2 threads and a private L2
// each, and 3 L2 clusters of 4 single-thread E-cores (CPUs 16-19, 20-23, 24-27).
TEST(LayoutOfI7_14700F, DrawsPCoresWithTwoThreadsAndECoreClustersOfFour) {
  Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  TopologyPicture layout = layout_topology(topo, test::plan_for(topo, 16));
  auto parent = parents(layout);
  unsigned p_cores = 0, clusters = 0;
  for (std::size_t i = 0; i < layout.boxes.size(); ++i) {
    const LayoutBox& b = layout.boxes[i];
    if (b.kind == BoxKind::Core) {
      ++p_cores;
      EXPECT_EQ(b.label, "P-core");
      EXPECT_EQ(b.cpus.size(), 2u);
    }
    if (b.kind == BoxKind::L2) {
      ++clusters;
      EXPECT_EQ(b.cpus.size(), 4u);
      EXPECT_NE(b.label.find("4 E-cores"), std::string::npos) << b.label;
    }
    // An E-core has one thread: its CPU box sits directly in the cluster.
    if (b.kind == BoxKind::Cpu && b.cpus.first() >= 16) {
      EXPECT_EQ(layout.boxes[*parent[i]].kind, BoxKind::L2);
    }
  }
  EXPECT_EQ(p_cores, 8u);
  EXPECT_EQ(clusters, 3u);
}

TEST(LayoutOfI7_14700F, PutsThePCoresOnOneRowAndTheClustersOnTheNext) {
  Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  TopologyPicture layout = layout_topology(topo, test::plan_for(topo, 16));
  std::set<double> core_rows, cluster_rows;
  for (const LayoutBox& b : layout.boxes) {
    if (b.kind == BoxKind::Core) core_rows.insert(b.y);
    if (b.kind == BoxKind::L2) cluster_rows.insert(b.y);
  }
  EXPECT_EQ(core_rows.size(), 1u);
  EXPECT_EQ(cluster_rows.size(), 1u);
  EXPECT_LT(*core_rows.begin(), *cluster_rows.begin());
}

// EPYC 9654 x2: 24 L3s (CCDs) of 8 cores x 2 threads; all alike, so all
// twelve of a package get the same arrangement.
TEST(LayoutOfEpyc9654, DrawsTwentyFourAlikeL3sOfSixteenCpus) {
  Topology topo = test::load_corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  TopologyPicture layout = layout_topology(topo, test::plan_for(topo));
  std::set<std::pair<double, double>> shapes;
  unsigned l3 = 0;
  for (const LayoutBox& b : layout.boxes)
    if (b.kind == BoxKind::L3) {
      ++l3;
      EXPECT_EQ(b.cpus.size(), 16u);
      shapes.insert({b.width, b.height});
    }
  EXPECT_EQ(l3, 24u);
  EXPECT_EQ(shapes.size(), 1u);
}

// 1144 px hold three CCDs of 4 x 2 cores side by side (3 x 387 px), so the
// picture is 8 rows of CCDs, not 12 — also when helpers widen a few CPU labels.
TEST(LayoutOfEpyc9654, PutsThreeCcdsOnARow) {
  Topology topo = test::load_corpus("hwloc/AMD-19h-Zen4-2xEpyc-9654.xml");
  Request request;
  for (auto [name, vcpus] : {std::pair{"web", 32u}, {"db", 64u}, {"ci", 16u}}) {
    GuestRequest g;
    g.name = name;
    g.vcpus = vcpus;
    g.helpers = HelperPlacement::Dedicated;
    request.guests.push_back(g);
  }
  for (const Plan& plan : {test::plan_for(topo), make_plan(topo, request)}) {
    TopologyPicture layout = layout_topology(topo, plan);
    std::set<double> columns, rows;
    for (const LayoutBox& b : layout.boxes)
      if (b.kind == BoxKind::L3) {
        columns.insert(b.x);
        rows.insert(b.y);
      }
    EXPECT_EQ(columns.size(), 3u);
    EXPECT_EQ(rows.size(), 8u);
  }
}

TEST(LayoutLegend, CountsEachRoleAndSaysWhenHelpersShareHostCpus) {
  Topology topo = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  Plan plan = test::plan_for(topo, 16);
  TopologyPicture layout = layout_topology(topo, plan);
  std::map<std::string, unsigned> counts;
  for (const LayoutBox& b : layout.boxes)
    if (b.cpu) ++counts[std::string(to_string(layout.cpus[*b.cpu].role))];
  for (const LegendEntry& e : layout.legend) {
    EXPECT_EQ(e.count, counts[std::string(to_string(e.role))]) << e.text;
    if (e.role == CpuRole::Emulator && plan.host.contains(plan.guests[0].emulator)) {
      EXPECT_NE(e.text.find("shared with the host"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace vpt
