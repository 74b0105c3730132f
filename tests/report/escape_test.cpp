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

// One backslash where markup would start is enough (CommonMark 2.4, 6.1, 6.4, 6.6):
// "\[z](u)" is no link, "\<b>" no tag; the ']' and '>' after them need none.
TEST(MarkdownEscape, DisarmsEmphasisLinksAndHtml) {
  EXPECT_EQ(markdown_escape("*x* _y_ [z](u) <b>"), "\\*x\\* \\_y\\_ \\[z](u) \\<b>");
  EXPECT_EQ(markdown_escape("`code`"), "\\`code\\`");
  EXPECT_EQ(markdown_escape("[b]bold[/b] &amp; ~~gone~~ ^up"), "\\[b]bold\\[/b] \\&amp; \\~\\~gone\\~\\~ \\^up");
  EXPECT_EQ(markdown_escape("<!-- x --> </x> <?x"), "\\<!-- x --> \\</x> \\<?x");
}

// What would not start markup where it stands is left as written: a reader sees no stray backslashes.
TEST(MarkdownEscape, LeavesWhatCannotBeMarkupAlone) {
  for (const char* text : {"[error] id: title", "[host] and [host 2]", "p < 0.01", "vm.nr_hugepages", "a > b",
                           "2 * 3", "snake_case_name", "C:\\Users", "# not a heading", "~2% faster", "x^ y", "AT&T",
                           "https://www.linux-kvm.org/page/Tuning_KVM", "1. not a list"})
    EXPECT_EQ(markdown_escape(text), text);
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

std::string without_zero_width_spaces(std::string s) {
  for (auto at = s.find("\xE2\x80\x8B"); at != std::string::npos; at = s.find("\xE2\x80\x8B")) s.erase(at, 3);
  return s;
}

// The tags the common boards parse get a zero-width space after '[': no tag
// opens, and the reader sees the text as it was (no fullwidth brackets).
TEST(BbcodeEscape, LeavesNoTagOpen) {
  const std::string hostile = "[url=http://x]y[/url] [B]b[/b] [*] [img]z[/img] [code]c[/code] [quote=a]q[/quote]";
  std::string s = bbcode_escape(hostile);
  for (const char* tag : {"[url", "[/url", "[B]", "[/b]", "[*]", "[img]", "[/img]", "[code]", "[/code]", "[quote"})
    EXPECT_EQ(s.find(tag), std::string::npos) << tag;
  EXPECT_EQ(without_zero_width_spaces(s), hostile);
  EXPECT_EQ(s.find("\xEF\xBC"), std::string::npos) << "no fullwidth brackets";
}

TEST(BbcodeEscape, LeavesBracketsThatAreNoTagAlone) {
  for (const char* text : {"[error] windows-sockets", "[host] and [host 2]", "CPUs [0-3]", "a[k] = b", "[urls]", "[",
                           "[b"})
    EXPECT_EQ(bbcode_escape(text), text);
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
