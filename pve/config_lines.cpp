#include "pve/config_lines.hpp"

#include <cctype>

#include "common/text.hpp"

namespace vpt {

namespace {

// Perl's \s: what qemu-server's regexes trim.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$
ConfigLine classify(std::string_view text) {
  ConfigLine line;
  line.text = text;
  std::string_view trimmed = trim_right(text);
  if (trimmed.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) {
    line.kind = ConfigLine::Kind::Blank;
    return line;
  }
  if (text.front() == '#') {
    line.kind = ConfigLine::Kind::Comment;
    return line;
  }
  if (text.front() == '[' && trimmed.back() == ']' && trimmed.find(']') == trimmed.size() - 1) {
    line.kind = ConfigLine::Kind::Section;
    line.key = trimmed.substr(1, trimmed.size() - 2);
    return line;
  }
  std::size_t i = 0;
  if (!is_lower(text[0])) return line;
  ++i;
  while (i < text.size() && (is_lower(text[i]) || text[i] == '_' || text[i] == '-')) ++i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i >= text.size() || text[i] != ':') return line;
  line.key = text.substr(0, i);
  std::string_view value = text.substr(i + 1);
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  line.value = trim_right(value);
  // "boot: " (blanks after the colon, nothing else) is an option with an empty value for
  // qemu-server's regex too (the lazy (.+?) takes a blank); "boot:" alone is not.
  if (!line.value.empty() || text.size() > i + 1 + (text.back() == '\r' ? 1 : 0))
    line.kind = ConfigLine::Kind::Option;
  return line;
}

}  // namespace

std::vector<ConfigLine> split_config_lines(std::string_view text) {
  std::vector<ConfigLine> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    ConfigLine line = classify(text.substr(0, end));
    line.newline = end != std::string_view::npos;
    lines.push_back(line);
    text = line.newline ? text.substr(end + 1) : std::string_view{};
  }
  return lines;
}

PropertyString parse_property_string(std::string_view value, const std::string& default_key) {
  PropertyString out;
  bool first = true;
  while (!value.empty() || first) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      if (first && !item.empty()) out[default_key] = std::string(item);
    } else {
      out[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    }
    first = false;
  }
  return out;
}

std::optional<bool> parse_pve_bool(std::string_view value) {
  const std::string v = lowercase(value);
  if (v == "1" || v == "on" || v == "yes" || v == "true") return true;
  if (v == "0" || v == "off" || v == "no" || v == "false") return false;
  return std::nullopt;
}

}  // namespace vpt
