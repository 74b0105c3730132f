// The forum post: one small table, the headline numbers with verdicts, the
// XML in a code block; escaped for Markdown and BBCode.
#include <gtest/gtest.h>

#include <sstream>

#include "report/report.hpp"
#include "tests/report/report_test_util.hpp"
#include "virt/domain_xml.hpp"

namespace vpt {
namespace {

ReportSources i7_before_after() {
  ReportSources src;
  src.topology = test::load_corpus("lscpu/intel-core-i7-14700f.txt");
  src.plan = test::plan_for(src.topology, 16);
  test::SampleConfig before, after;
  before.pinned = false;
  before.seed = 7;
  after.seed = 8;
  src.before = test::sample_results(src.topology, src.plan, before);
  src.after = test::sample_results(src.topology, src.plan, after);
  src.before_file = "before.json";
  src.after_file = "after.json";
  return src;
}

std::string post(const ReportSources& src, ReportFormat format) {
  std::ostringstream out;
  write_forum_summary(out, build_report(src, {}), format);
  return out.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

std::size_t lines(const std::string& text) { return count(text, "\n"); }

TEST(MarkdownSummary, HasTheSetupTableTheHeadlineAndTheXml) {
  ReportSources src = i7_before_after();
  std::string md = post(src, ReportFormat::Markdown);
  EXPECT_EQ(count(md, "| Item | Value |\n|---|---|\n"), 1u);
  EXPECT_NE(md.find("| Guest 'win11' | 16 vCPUs on CPUs 0-15 (8 P-cores)"), std::string::npos) << md;
  EXPECT_NE(md.find("| Host keeps | CPUs 16-27 (12 E-cores) |"), std::string::npos);
  EXPECT_NE(md.find("| Metric | Before | After | Change | Verdict |"), std::string::npos);
  EXPECT_NE(md.find("| wake-up lateness, all measured CPUs |"), std::string::npos);
  EXPECT_NE(md.find("**better"), std::string::npos);
  EXPECT_NE(md.find("**within noise**"), std::string::npos);
  // The XML exactly as virt/ writes it, fenced.
  EXPECT_NE(md.find("```xml\n" + plan_snippet_xml(src.plan.guests[0]) + "```\n"), std::string::npos);
}

TEST(MarkdownSummary, IsShortEnoughForAPost) {
  std::string md = post(i7_before_after(), ReportFormat::Markdown);
  // Setup, a dozen headline rows, 30 lines of XML, a few warnings.
  EXPECT_LT(lines(md), 80u);
  EXPECT_LT(md.size(), 6000u);
}

TEST(BbcodeSummary, UsesTablesAndACodeBlock) {
  ReportSources src = i7_before_after();
  std::string bb = post(src, ReportFormat::Bbcode);
  EXPECT_EQ(count(bb, "[table]"), 2u);
  EXPECT_EQ(count(bb, "[/table]"), 2u);
  EXPECT_EQ(count(bb, "[code]"), 1u);
  EXPECT_NE(bb.find("[code]" + plan_snippet_xml(src.plan.guests[0]) + "[/code]"), std::string::npos);
  EXPECT_NE(bb.find("[td]within noise[/td]"), std::string::npos);
  EXPECT_EQ(bb.find('|'), std::string::npos) << "no Markdown in BBCode";
}

TEST(ForumSummary, EscapesAHostileGuestName) {
  ReportSources src = i7_before_after();
  src.plan.guests[0].name = "<script>alert(1)</script>[url=x]*bold*|";
  std::string md = post(src, ReportFormat::Markdown);
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>alert(1)\\</script\\>\\[url=x\\]\\*bold\\*\\|"), std::string::npos);
  std::string bb = post(src, ReportFormat::Bbcode);
  EXPECT_EQ(bb.find("[url=x]"), std::string::npos);
}

TEST(ForumSummary, WithOneRunGivesItsNumbersWithoutVerdicts) {
  ReportSources src = i7_before_after();
  src.bench = src.after;
  src.bench_file = "after.json";
  src.before.reset();
  src.after.reset();
  std::string md = post(src, ReportFormat::Markdown);
  EXPECT_NE(md.find("| Measured | Result |"), std::string::npos);
  EXPECT_EQ(md.find("Verdict"), std::string::npos);
  EXPECT_NE(md.find("One run (after.json), no comparison."), std::string::npos);
}

TEST(ForumSummary, ListsTheReviewsErrorsAndWarnings) {
  ReportSources src = i7_before_after();
  src.check = test::sample_review();
  std::string md = post(src, ReportFormat::Markdown);
  EXPECT_NE(md.find("Review of domain 'win\\<11\\>' (vpt-tune check): 1 error, 1 warning, 1 note"), std::string::npos)
      << md;
  EXPECT_NE(md.find("windows-sockets: Windows sees more sockets than it uses"), std::string::npos);
  EXPECT_NE(md.find("disk-no-iothread"), std::string::npos);
  EXPECT_EQ(md.find("hyperv-vendor-id"), std::string::npos) << "notes are only counted";
  EXPECT_NE(md.find("1 note in the HTML report"), std::string::npos);
  std::string bb = post(src, ReportFormat::Bbcode);
  EXPECT_NE(bb.find("[*]"), std::string::npos);
  EXPECT_NE(bb.find("windows-sockets"), std::string::npos);
}

}  // namespace
}  // namespace vpt
