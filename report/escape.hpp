// Escaping text for each output format. Internal to report/: writers call
// these on every text they emit, whatever its origin.
#pragma once

#include <string>
#include <string_view>

namespace vpt::report_detail {

// & < > " ' as character references: safe in HTML/SVG text and in quoted attributes.
std::string html_escape(std::string_view text);

// Backslash before every character Markdown (CommonMark, Reddit, Discourse) may
// read as markup, '|' included so that text stays inside its table cell; line
// breaks become spaces (a cell is one line).
std::string markdown_escape(std::string_view text);

// A fenced code block whose fence is longer than any backtick run inside.
std::string markdown_code_block(std::string_view code, std::string_view language);

// BBCode has no escape character: '[' and ']' become the fullwidth brackets
// U+FF3B/U+FF3D, so "[url=...]" in a name shows as text and opens no tag.
std::string bbcode_escape(std::string_view text);

// [code]...[/code] with every "[/code" inside broken by a zero-width space.
std::string bbcode_code_block(std::string_view code);

}  // namespace vpt::report_detail
