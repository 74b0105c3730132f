#include "report/escape.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "common/text.hpp"

namespace vpt::report_detail {

namespace {

// C0 controls but tab and line breaks, and DEL: ESC starts terminal sequences
// (a report printed to a terminal must not clear it or write its clipboard).
bool terminal_control(char c) { return is_control(c) && c != '\t' && c != '\n' && c != '\r'; }

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;  // U+FFFD: HTML forbids NUL
      default:
        // Other C0 controls are parse errors in HTML5; tab, LF and CR are fine.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

std::string markdown_escape(std::string_view text) {
  // Markup that can start mid-line; every escaped text follows a prefix of
  // ours, so line-start markers ("- ", "1.") cannot occur.
  static constexpr std::string_view kSpecial = "\\`*_[]<>|~^&#";
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (terminal_control(c)) {
      out += '?';
    } else if (kSpecial.find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string markdown_code_block(std::string_view code, std::string_view language) {
  std::size_t longest = 0, run = 0;
  for (char c : code) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  std::string body(code);
  std::replace_if(body.begin(), body.end(), terminal_control, '?');
  std::string out = fence + std::string(language) + "\n" + body;
  if (!code.empty() && code.back() != '\n') out += '\n';
  return out + fence + "\n";
}

std::string bbcode_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '[')
      out += "\xEF\xBC\xBB";  // U+FF3B FULLWIDTH LEFT SQUARE BRACKET
    else if (c == ']')
      out += "\xEF\xBC\xBD";  // U+FF3D FULLWIDTH RIGHT SQUARE BRACKET
    else if (c == '\n' || c == '\r')
      out += ' ';
    else if (terminal_control(c))
      out += '?';
    else
      out += c;
  }
  return out;
}

std::string bbcode_code_block(std::string_view code) {
  std::string body;
  for (std::size_t i = 0; i < code.size(); ++i) {
    body += terminal_control(code[i]) ? '?' : code[i];
    // "[/code" (any case) would end the block early: "[\u200B/code" does not.
    if (code[i] == '[' && code.size() - i >= 6) {
      std::string_view rest = code.substr(i + 1, 5);
      if (lowercase(rest) == "/code") body += "\xE2\x80\x8B";
    }
  }
  std::string out = "[code]" + body;
  if (!body.empty() && body.back() != '\n') out += '\n';
  return out + "[/code]\n";
}

}  // namespace vpt::report_detail
