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

namespace {

bool is_ascii_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }
bool is_alnum_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_space_char(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The tags the common boards parse (phpBB, XenForo, vBulletin, SMF, MyBB) and
// Discourse's Markdown accepts too. Any other "[word]" ("[error]", "[host]") is
// shown as written by all of them.
bool is_bbcode_tag(std::string_view name) {
  static constexpr std::string_view kTags[] = {
      "*",     "align", "attach", "b",    "center",  "code",  "color", "colour", "details", "email", "font",
      "hide",  "hr",    "html",   "i",    "icode",   "img",   "indent", "ispoiler", "left", "list", "media",
      "noparse", "php", "plain",  "quote", "right",  "s",     "size",  "spoiler", "strike", "sub",  "sup",
      "table", "td",    "th",     "tr",   "u",       "url",   "user",  "youtube", "flash", "li",   "ol",
      "ul",    "h",     "heading", "justify", "pre", "tt",    "abbr",  "anchor", "upd",  "video"};
  return std::find(std::begin(kTags), std::end(kTags), lowercase(name)) != std::end(kTags);
}

}  // namespace

std::size_t bbcode_tag_length(std::string_view text, std::size_t at) {
  if (at >= text.size() || text[at] != '[') return 0;
  std::size_t p = at + 1;
  if (p < text.size() && text[p] == '/') ++p;
  std::size_t name_begin = p;
  while (p < text.size() && (is_alnum_char(text[p]) || text[p] == '*')) ++p;
  if (p == name_begin || !is_bbcode_tag(text.substr(name_begin, p - name_begin))) return 0;
  // "[b]", "[url=...]", "[img width=10]": up to the next ']'.
  std::size_t close = text.find(']', p);
  if (close == std::string_view::npos) return 0;
  if (close != p && text[p] != '=' && text[p] != ' ') return 0;
  return close + 1 - at;
}

std::string markdown_escape(std::string_view text) {
  // Every escaped text follows a prefix of ours ("| ", "- ", "**"), so markup
  // that works only at a line's start (#, >, 1., -, +, =) cannot occur and
  // stays as written. Escaped, each only where it would start markup in
  // CommonMark, GFM (Reddit, GitHub) or Discourse:
  //  - '|' always: it would end the table cell;
  //  - '`', and '\' before punctuation (a '\' elsewhere shows as itself);
  //  - '*' and '_' unless they cannot be emphasis: '_' inside a word
  //    ("vm.nr_hugepages"), either one between spaces ("2 * 3");
  //  - '[' that opens a link ("[x](u)", "[x][y]") or a tag Discourse reads as BBCode
  //    ("[b]"); "[error]" and "[host]" are plain text;
  //  - '<' before a letter, '/', '!' or '?' (an HTML tag or an autolink); "p < 0.01" stays;
  //  - '&' that starts a character reference ("&amp;", "&#39;");
  //  - '~' when another '~' follows (strikethrough), '^' before a non-space (Reddit's superscript).
  const std::size_t n = text.size();
  // Where a "](" or "][" is: a '[' before it opens a link.
  std::size_t last_link_close = std::string_view::npos;
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (text[i] == ']' && (text[i + 1] == '(' || text[i + 1] == '[')) last_link_close = i;
  auto space_or_edge = [&](std::size_t i, int dir) {
    if (dir < 0) return i == 0 || is_space_char(text[i - 1]);
    return i + 1 >= n || is_space_char(text[i + 1]);
  };
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    bool escape = false;
    switch (c) {
      case '|':
      case '`': escape = true; break;
      case '\\': escape = i + 1 < n && is_ascii_punct(text[i + 1]); break;
      case '*': escape = !(space_or_edge(i, -1) && space_or_edge(i, 1)); break;
      case '_':
        escape = !(space_or_edge(i, -1) && space_or_edge(i, 1)) &&
                 !(i > 0 && is_alnum_char(text[i - 1]) && i + 1 < n && is_alnum_char(text[i + 1]));
        break;
      case '[':
        escape = (last_link_close != std::string_view::npos && i < last_link_close) || bbcode_tag_length(text, i) > 0;
        break;
      case '<':
        escape = i + 1 < n && (std::isalpha(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '/' ||
                               text[i + 1] == '!' || text[i + 1] == '?');
        break;
      case '&': {
        std::size_t p = i + 1;
        if (p < n && text[p] == '#') ++p;
        const std::size_t name = p;
        while (p < n && is_alnum_char(text[p])) ++p;
        escape = p > name && p < n && text[p] == ';';
        break;
      }
      case '~': escape = text.find('~', i + 1) != std::string_view::npos || (i > 0 && text[i - 1] == '~'); break;
      case '^': escape = i + 1 < n && !is_space_char(text[i + 1]); break;
      default: break;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (terminal_control(c)) {
      out += '?';
    } else {
      if (escape) out += '\\';
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
  // BBCode has no escape character. A tag the boards parse ("[b]", "[/url]",
  // "[url=...]", "[*]") gets a zero-width space after its '[', which every board
  // shows as the text "[b]" without reading a tag; any other bracket ("[error]",
  // "[host]", "[0, 1]") is plain text on phpBB, XenForo, vBulletin, SMF and MyBB
  // and stays as written. ([noparse] and [plain] would do it too, but phpBB has neither.)
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (terminal_control(c)) {
      out += '?';
    } else {
      out += c;
      if (c == '[' && bbcode_tag_length(text, i) > 0) out += "\xE2\x80\x8B";  // U+200B ZERO WIDTH SPACE
    }
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
