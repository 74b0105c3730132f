// Escaping for each format: hostile text shows as text and cannot end the
// element, table cell or code block it sits in.
#include <gtest/gtest.h>

#include "report/escape.hpp"

namespace vpt::report_detail {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

TEST(HtmlEscape, TurnsMarkupIntoText) {
  EXPECT_EQ(html_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(html_escape("a & b \"q\" 'x'"), "a &amp; b &quot;q&quot; &#39;x&#39;");
}

TEST(HtmlEscape, ReplacesCharactersHtmlForbids) {
  EXPECT_EQ(html_escape(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(html_escape("a\x01" "b\tc\n"), "a b\tc\n");
}

TEST(MarkdownEscape, KeepsTextInsideItsTableCell) {
  EXPECT_EQ(markdown_escape("a|b"), "a\\|b");
  EXPECT_EQ(markdown_escape("line\nbreak"), "line break");
}

TEST(MarkdownEscape, DisarmsEmphasisLinksAndHtml) {
  EXPECT_EQ(markdown_escape("*x* _y_ [z](u) <b>"), "\\*x\\* \\_y\\_ \\[z\\](u) \\<b\\>");
  EXPECT_EQ(markdown_escape("`code`"), "\\`code\\`");
}

TEST(MarkdownEscape, LeavesCpuListsReadable) { EXPECT_EQ(markdown_escape("CPUs 0-15, 16.5 ns"), "CPUs 0-15, 16.5 ns"); }

TEST(MarkdownCodeBlock, UsesAFenceLongerThanAnyBacktickRunInside) {
  std::string block = markdown_code_block("a ``` b\n", "xml");
  EXPECT_EQ(block, "````xml\na ``` b\n````\n");
  EXPECT_EQ(markdown_code_block("<vcpu/>", "xml"), "```xml\n<vcpu/>\n```\n");
}

TEST(ForumFormats, CarryNoTerminalControlSequences) {
  // A guest's error text: ESC[2J clears the screen, OSC 52 (ESC]52;c;...BEL) writes the clipboard.
  const std::string hostile = "a\x1b[2J\x1b]52;c;eA==\x07\x7f b";
  for (const std::string& out : {markdown_escape(hostile), markdown_code_block(hostile, ""), bbcode_escape(hostile),
                                 bbcode_code_block(hostile)}) {
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x7f'), std::string::npos) << out;
  }
  EXPECT_NE(markdown_code_block("a\tb\nc", "").find("a\tb\nc"), std::string::npos);  // tabs and lines stay
}

TEST(BbcodeEscape, LeavesNoTagOpen) {
  std::string s = bbcode_escape("[url=http://x]y[/url]");
  EXPECT_EQ(s.find('['), std::string::npos);
  EXPECT_EQ(s.find(']'), std::string::npos);
  EXPECT_NE(s.find("url=http://x"), std::string::npos);
}

TEST(BbcodeCodeBlock, CannotBeClosedFromInside) {
  std::string s = bbcode_code_block("a [/code] b [/CODE] c");
  EXPECT_EQ(count(s, "[/code]"), 1u);
  EXPECT_EQ(count(s, "[/CODE]"), 0u);
  EXPECT_TRUE(s.starts_with("[code]"));
  EXPECT_TRUE(s.ends_with("[/code]\n"));
}

}  // namespace
}  // namespace vpt::report_detail
