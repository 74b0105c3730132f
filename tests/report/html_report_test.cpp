// The HTML page: renders for every corpus topology with a plan, with and
// without bench results; the topology picture has one element per logical CPU
// with the plan's role (read back with an XML parser); hostile names show as
// text; nothing points at the network.
//
// With VPT_REPORT_HTML_DIR set, the corpus pages are also written there for
// check_html.py (html5lib, strict) to parse.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <pugixml.hpp>

#include "report/report.hpp"
#include "tests/report/report_test_util.hpp"

namespace vpt {
namespace {

std::string html_of(const Report& r) {
  std::ostringstream out;
  write_html_report(out, r);
  return out.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// The <svg class="topology"> element, parsed as XML (inline SVG in our HTML
// is well-formed XML with the five predefined entities only).
pugi::xml_document topology_svg(const std::string& html) {
  auto begin = html.find("<svg class=\"topology\"");
  auto end = html.find("</svg>", begin);
  EXPECT_NE(begin, std::string::npos);
  pugi::xml_document doc;
  auto ok = doc.load_string(html.substr(begin, end + 6 - begin).c_str());
  EXPECT_TRUE(ok) << ok.description();
  return doc;
}

void expect_one_element_per_cpu_with_its_role(const std::string& html, const Topology& topo, const Plan& plan) {
  pugi::xml_document svg = topology_svg(html);
  std::map<unsigned, std::string> roles;
  for (pugi::xpath_node n : svg.select_nodes("//*[@data-cpu]")) {
    unsigned cpu = n.node().attribute("data-cpu").as_uint();
    EXPECT_FALSE(roles.count(cpu)) << "CPU " << cpu << " drawn twice";
    roles[cpu] = n.node().attribute("data-role").value();
    if (auto v = test::expected_vcpu(plan, cpu); v && roles[cpu] == "vcpu") {
      EXPECT_EQ(n.node().attribute("data-vcpu").as_uint(), *v) << "CPU " << cpu;
    }
  }
  ASSERT_EQ(roles.size(), topo.cpus.size());
  for (const LogicalCpu& c : topo.cpus) EXPECT_EQ(roles[c.os_index], test::expected_role(plan, c.os_index)) << c.os_index;
}

// ---- Every corpus topology ------------------------------------------------------

class ReportOnCorpus : public testing::TestWithParam<std::filesystem::path> {
 protected:
  void SetUp() override {
    src_.topology = test::load_corpus(GetParam());
    src_.plan = test::plan_for(src_.topology);
  }
  void save(const std::string& html, const std::string& suffix) {
    const char* dir = std::getenv("VPT_REPORT_HTML_DIR");
    if (!dir) return;
    std::filesystem::create_directories(dir);
    std::ofstream(std::filesystem::path(dir) / (test::test_name(GetParam()) + suffix + ".html")) << html;
  }
  ReportSources src_;
};

TEST_P(ReportOnCorpus, RendersWithAPlanAlone) {
  std::string html = html_of(build_report(src_, {}));
  expect_one_element_per_cpu_with_its_role(html, src_.topology, src_.plan);
  EXPECT_EQ(count(html, "<section id=\"bench\""), 0u);
  save(html, "");
}

TEST_P(ReportOnCorpus, RendersWithBeforeAndAfterResults) {
  test::SampleConfig before, after;
  before.pinned = false;
  before.c2c_samples = after.c2c_samples = 10;
  src_.before = test::sample_results(src_.topology, src_.plan, before);
  src_.after = test::sample_results(src_.topology, src_.plan, after);
  src_.before_file = "before.json";
  src_.after_file = "after.json";
  std::string html = html_of(build_report(src_, {}));
  expect_one_element_per_cpu_with_its_role(html, src_.topology, src_.plan);
  EXPECT_EQ(count(html, "<svg class=\"chart heatmap\""), 1u);
  EXPECT_EQ(count(html, "<svg class=\"chart comparison\""), 1u);
  save(html, "-compare");
}

TEST_P(ReportOnCorpus, RendersWithAReview) {
  src_.check = test::sample_review();
  std::string html = html_of(build_report(src_, {}));
  EXPECT_EQ(count(html, "<div class=\"finding "), 3u);
  save(html, "-review");
}

INSTANTIATE_TEST_SUITE_P(Corpus, ReportOnCorpus, testing::ValuesIn(test::corpus_files()),
                         [](const auto& info) { return test::test_name(info.param); });

TEST(HtmlReview, ListsFindingsBySeverityEscapedAndRedacted) {
  ReportSources src;
  src.topology = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  src.plan = test::plan_for(src.topology, 16);
  src.check = test::sample_review();
  std::string html = html_of(build_report(src, {}));
  EXPECT_NE(html.find("<a href=\"#review\">Review</a>"), std::string::npos);
  auto errors = html.find("<h3>Errors</h3>"), warnings = html.find("<h3>Warnings</h3>"), notes = html.find("<h3>Notes</h3>");
  ASSERT_NE(errors, std::string::npos);
  EXPECT_LT(errors, warnings);
  EXPECT_LT(warnings, notes);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;topology sockets=&#39;1&#39;"), std::string::npos) << "the fix, escaped";
  EXPECT_EQ(html.find("alice"), std::string::npos) << "the image path is redacted";
  EXPECT_NE(html.find("1 error, 1 warning, 1 note"), std::string::npos);
  EXPECT_NE(html.find("vpt-tune check --fix applies it"), std::string::npos);
}

// ---- One page looked at closely ------------------------------------------------------

ReportSources i7_with_bench() {
  ReportSources src;
  src.topology = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  src.plan = test::plan_for(src.topology, 16);
  src.bench = test::sample_results(src.topology, src.plan);
  src.bench_file = "after.json";
  return src;
}

TEST(HtmlReport, IsOneSelfContainedPage) {
  std::string html = html_of(build_report(i7_with_bench(), {}));
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  EXPECT_EQ(count(html, "<style>"), 1u);
  EXPECT_EQ(count(html, "<script>"), 1u);
  EXPECT_EQ(count(html, "<script "), 0u) << "no external script";
  EXPECT_EQ(count(html, "<link"), 0u) << "no stylesheet or font from elsewhere";
  EXPECT_EQ(count(html, "<img"), 0u);
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
}

TEST(HtmlReport, PointsAtNothingOnTheNetwork) {
  std::string html = html_of(build_report(i7_with_bench(), {}));
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  std::regex ref(R"re((?:src|href)\s*=\s*"([^"]*)"|url\(\s*['"]?([^'")]*))re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    std::string target = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
    EXPECT_TRUE(target.starts_with("#")) << target;
  }
}

TEST(HtmlReport, WorksWithoutJavaScript) {
  std::string html = html_of(build_report(i7_with_bench(), {}));
  // The only scripted thing, the copy button, is hidden until the script runs;
  // the XML it copies is on the page.
  std::regex button(R"(<button class="copy"[^>]*\bhidden\b)");
  EXPECT_TRUE(std::regex_search(html, button));
  EXPECT_NE(html.find("&lt;vcpupin vcpu=&#39;0&#39; cpuset=&#39;0&#39;/&gt;"), std::string::npos);
}

TEST(HtmlReport, ShowsAHostileDomainNameAsText) {
  ReportSources src = i7_with_bench();
  const std::string hostile = "<script>alert(1)</script>";
  src.plan.guests[0].name = hostile;
  src.bench->domain->name = hostile;
  src.bench->warnings.push_back("\"><img src=x onerror=alert(2)>");
  src.domain = parse_domain_xml("<domain type='kvm'><name>&lt;script&gt;alert(1)&lt;/script&gt;</name><vcpu>16</vcpu>"
                                "</domain>",
                                "hostile.xml");
  ASSERT_EQ(src.domain->name, hostile);
  std::string html = html_of(build_report(src, {}));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(count(html, "<script>"), 1u);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
}

TEST(HtmlReport, DrawsEveryChartOfASingleRun) {
  std::string html = html_of(build_report(i7_with_bench(), {}));
  for (const char* chart : {"heatmap", "memory-curve", "interference", "wakeup"})
    EXPECT_EQ(count(html, std::string("<svg class=\"chart ") + chart + "\""), 1u) << chart;
  EXPECT_EQ(count(html, "<svg class=\"chart comparison\""), 0u);
}

TEST(HtmlReport, SaysWhenRedactionIsOff) {
  ReportSettings off;
  off.redact = false;
  EXPECT_EQ(html_of(build_report(i7_with_bench(), off)).find("redacted"), std::string::npos);
  EXPECT_NE(html_of(build_report(i7_with_bench(), {})).find("redacted"), std::string::npos);
}

}  // namespace
}  // namespace vpt
