// Escaping text for each output format. Internal to report/: writers call
// these on every text they emit, whatever its origin.
#pragma once

#include <string>
#include <string_view>

namespace vpt::report_detail {

// & < > " ' as character references: safe in HTML/SVG text and in quoted attributes.
std::string html_escape(std::string_view text);

// Text for a Markdown paragraph, list item or table cell (CommonMark, Reddit,
// Discourse): a backslash only before what would start markup in that position
// ('|' always, "[x](u)" but not "[error]", "<b>" but not "p < 0.01", '_' but
// not inside "vm.nr_hugepages"; escape.cpp lists the rules); line breaks
// become spaces (a cell is one line). Code blocks take their text unescaped.
std::string markdown_escape(std::string_view text);

// A fenced code block whose fence is longer than any backtick run inside.
std::string markdown_code_block(std::string_view code, std::string_view language);

// BBCode has no escape character: a tag the common boards parse ("[b]",
// "[/url]", "[url=x]", "[*]") gets a zero-width space after its '[', so it
// shows as text and opens nothing; other brackets ("[error]") stay as written.
std::string bbcode_escape(std::string_view text);

// The length of the BBCode tag at `at` ("[b]" 3, "[url=x]" 7), 0 for text
// that no common board reads as a tag ("[error]", "[0-3]").
std::size_t bbcode_tag_length(std::string_view text, std::size_t at);

// [code]...[/code] with every "[/code" inside broken by a zero-width space.
std::string bbcode_code_block(std::string_view code);

}  // namespace vpt::report_detail
