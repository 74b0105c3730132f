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

// For boards without [table] (phpBB): the same rows in a [code] block, each
// column starting at the same character on every line.
TEST(BbcodeSummary, WithoutTablesAlignsTheRowsInACodeBlock) {
  ReportSources src = i7_before_after();
  std::string bb = post(src, ReportFormat::BbcodePlain);
  EXPECT_EQ(bb.find("[table]"), std::string::npos);
  EXPECT_EQ(bb.find("[td]"), std::string::npos);
  EXPECT_EQ(count(bb, "[code]"), 3u);  // the setup, the results, the XML
  // The results block: a header, a rule, then one line per headline row.
  const auto header = bb.find("Metric");
  ASSERT_NE(header, std::string::npos);
  const auto block_end = bb.find("[/code]", header);
  std::vector<std::string> rows;
  std::istringstream in(bb.substr(header, block_end - header));
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  ASSERT_GE(rows.size(), 3u);
  auto column = [](const std::string& line, std::size_t bytes) {  // characters before byte `bytes`
    std::size_t n = 0;
    for (std::size_t i = 0; i < bytes; ++i) n += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    return n;
  };
  const std::size_t before_column = column(rows[0], rows[0].find("Before"));
  EXPECT_EQ(rows[1].find_first_not_of("- "), std::string::npos) << rows[1];
  for (std::size_t i = 2; i < rows.size(); ++i) {
    // The metric is followed by at least two spaces, then the before value at the header's column.
    const std::size_t gap = rows[i].find("  ");
    ASSERT_NE(gap, std::string::npos) << rows[i];
    const std::size_t value = rows[i].find_first_not_of(' ', gap);
    EXPECT_EQ(column(rows[i], value), before_column) << rows[i];
  }
  EXPECT_NE(bb.find("within noise"), std::string::npos);
  // The setup block: "CPU", two spaces at least, the CPU line; the guest's row below it, aligned.
  EXPECT_NE(bb.find("[code]CPU  "), std::string::npos) << bb;
  const std::string guest_row = "\nGuest 'win11'  ";
  const auto guest = bb.find(guest_row);
  ASSERT_NE(guest, std::string::npos) << bb;
  const auto cpu_value = bb.find_first_not_of(' ', bb.find("[code]CPU  ") + 9) - (bb.find("[code]CPU  ") + 6);
  const auto guest_value = bb.find_first_not_of(' ', guest + guest_row.size()) - (guest + 1);
  EXPECT_EQ(cpu_value, guest_value);
}

TEST(ForumSummary, EscapesAHostileGuestName) {
  ReportSources src = i7_before_after();
  src.plan.guests[0].name = "<script>alert(1)</script>[url=x]*bold*|";
  std::string md = post(src, ReportFormat::Markdown);
  // Each opening is escaped once: "\<script>" shows as text, and so do "\[url=x]", "\*bold\*".
  EXPECT_NE(md.find("\\<script>alert(1)\\</script>\\[url=x]\\*bold\\*\\|"), std::string::npos) << md;
  // Outside the XML's code block no HTML tag opens.
  std::string prose;
  bool in_code = false;
  std::istringstream lines_of(md);
  for (std::string line; std::getline(lines_of, line);) {
    if (line.starts_with("```")) in_code = !in_code;
    else if (!in_code) prose += line + "\n";
  }
  for (auto at = prose.find('<'); at != std::string::npos; at = prose.find('<', at + 1)) {
    if (at + 1 < prose.size() && (std::isalpha(static_cast<unsigned char>(prose[at + 1])) || prose[at + 1] == '/')) {
      EXPECT_TRUE(at > 0 && prose[at - 1] == '\\') << "an HTML tag opens: " << prose.substr(at, 20);
    }
  }
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
  // "<11>" is no HTML tag (a tag name starts with a letter): no backslash.
  EXPECT_NE(md.find("Review of domain 'win<11>' (vpt-tune check): 1 error, 1 warning, 1 note"), std::string::npos)
      << md;
  EXPECT_NE(md.find("windows-sockets: Windows sees more sockets than it uses"), std::string::npos);
  EXPECT_NE(md.find("disk-no-iothread"), std::string::npos);
  EXPECT_EQ(md.find("hyperv-vendor-id"), std::string::npos) << "notes are only counted";
  // The post is all a forum reader has: what it leaves out it counts, with the command that lists it.
  EXPECT_NE(md.find("1 note not listed here (vpt-tune check lists them)"), std::string::npos);
  for (ReportFormat f : {ReportFormat::Markdown, ReportFormat::Bbcode, ReportFormat::BbcodePlain})
    EXPECT_EQ(post(src, f).find("HTML"), std::string::npos) << to_string(f);
  std::string bb = post(src, ReportFormat::Bbcode);
  EXPECT_NE(bb.find("[*]"), std::string::npos);
  EXPECT_NE(bb.find("windows-sockets"), std::string::npos);
}

}  // namespace
}  // namespace vpt
