#include "virt/xml_save.hpp"

#include <cstdint>
#include <optional>
#include <sstream>

#include "common/text.hpp"
#include "virt/xml_util.hpp"

namespace vpt::detail {

namespace {


// The quote around the first attribute of the root's start tag (<domain
// type='kvm'>), if the root has one. The patch never rewrites that tag, so
// patching the result again picks the same quote; counting quotes over the
// whole text did not: removing the old pins could tip the count and turn every
// line of the second patch into the other quote (found by
// tests/fuzz/domain_patch_fuzz.cpp).
std::optional<char> root_attribute_quote(std::string_view xml, pugi::xml_node root) {
  const std::ptrdiff_t name_at = root.offset_debug();
  if (name_at < 0 || static_cast<std::size_t>(name_at) >= xml.size() || !root.first_attribute()) return std::nullopt;
  // No '=' can come before the first attribute's: names hold none.
  const std::size_t equals = xml.find('=', static_cast<std::size_t>(name_at));
  if (equals == std::string_view::npos) return std::nullopt;
  const std::size_t quote = xml.find_first_not_of(" \t\r\n", equals + 1);
  if (quote == std::string_view::npos || (xml[quote] != '\'' && xml[quote] != '"')) return std::nullopt;
  return xml[quote];
}

// With entities kept as written (format_no_escapes), a value holding the
// quote character it will be written in must have that quote escaped.
void escape_quotes(pugi::xml_node node, bool single_quote) {
  const char quote = single_quote ? '\'' : '"';
  const char* entity = single_quote ? "&apos;" : "&quot;";
  for (pugi::xml_attribute attr : node.attributes()) {
    std::string value = attr.value();
    if (value.find(quote) == std::string::npos) continue;
    std::string escaped;
    for (char c : value) escaped += c == quote ? std::string(entity) : std::string(1, c);
    attr.set_value(escaped.c_str());
  }
  for (pugi::xml_node child : node.children())
    if (child.type() == pugi::node_element || child.type() == pugi::node_declaration) escape_quotes(child, single_quote);
}

// pugixml writes every attribute in one quote style, while `virsh dumpxml`
// keeps what applications wrote in <metadata> ("..." in single-quoted
// files). Lines the patch did not change are put back exactly as they were:
// lines of the patched text that match a line of the original up to the
// quote characters (longest common subsequence) are copied from the original.
// Only where the patched text has its delimiter (`quote`, which it writes as
// an entity inside values) may the original have the other quote. Inside a
// value spanning lines even that can change what a quote closes, so the
// result must read as the same document as the patched text, or the patched
// text is returned as pugixml wrote it (found by tests/fuzz/domain_patch_fuzz.cpp).
std::string keep_original_lines(std::string_view original, const std::string& patched, char quote) {
  const char other = quote == '"' ? '\'' : '"';
  auto same = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i] && !(a[i] == other && b[i] == quote)) return false;
    return true;
  };
  const auto a = split_lines(original), b = split_lines(patched);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      at(i, j) = same(a[i], b[j]) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  std::string out;
  out.reserve(patched.size());
  for (std::size_t i = 0, j = 0; j < m;) {
    if (i < n && same(a[i], b[j])) {
      out += a[i];
      ++i, ++j;
    } else if (i < n && at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      out += b[j];
      ++j;
    }
  }
  auto canonical = [](std::string_view text) -> std::optional<std::string> {
    pugi::xml_document doc;
    const unsigned flags = pugi::parse_default | pugi::parse_comments | pugi::parse_pi | pugi::parse_declaration |
                           pugi::parse_doctype | pugi::parse_fragment;
    if (!doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8)) return std::nullopt;
    std::ostringstream printed;
    doc.save(printed, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
    return printed.str();
  };
  if (out != patched && canonical(out) != canonical(patched)) return patched;
  return out;
}

}  // namespace

bool is_whitespace(pugi::xml_node node) {
  return node.type() == pugi::node_pcdata &&
         std::string_view(node.value()).find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Style detect_style(std::string_view xml, pugi::xml_node root) {
  Style style;
  if (auto quote = root_attribute_quote(xml, root)) {
    style.single_quote = *quote == '\'';
  } else {
    std::size_t single = 0, dbl = 0;
    for (std::size_t pos = xml.find('='); pos != std::string_view::npos; pos = xml.find('=', pos + 1)) {
      if (pos + 1 < xml.size() && xml[pos + 1] == '\'') ++single;
      if (pos + 1 < xml.size() && xml[pos + 1] == '"') ++dbl;
    }
    style.single_quote = single >= dbl;
  }
  if (xml.find("\r\n") != std::string_view::npos) style.nl = "\r\n";
  style.pretty = false;
  for (pugi::xml_node child : root.children()) {
    if (!is_whitespace(child)) continue;
    std::string_view ws = child.value();
    auto last_nl = ws.rfind('\n');
    if (last_nl == std::string_view::npos) continue;
    std::string_view unit = ws.substr(last_nl + 1);
    // Indentation is spaces and tabs; a stray carriage return is not copied
    // into every new line (found by tests/fuzz/domain_patch_fuzz.cpp).
    if (unit.find_first_not_of(" \t") != std::string_view::npos) continue;
    style.pretty = true;
    style.unit = std::string(unit);
    break;
  }
  return style;
}

unsigned save_flags(const Style& style) {
  unsigned flags = pugi::format_raw | pugi::format_no_declaration | pugi::format_no_escapes;
  if (style.single_quote) flags |= pugi::format_attribute_single_quote;
  return flags;
}

PatchResult edit_domain(std::string_view original, const DomainEdit& edit) {
  pugi::xml_document doc;
  load_domain_document(doc, original, "input", /*raw=*/true);
  pugi::xml_node root = doc.document_element();
  const Style style = detect_style(original, root);
  PatchResult result;
  edit(root, style, result.notes);
  escape_quotes(doc, style.single_quote);
  std::ostringstream out;
  doc.save(out, "", save_flags(style), pugi::encoding_utf8);
  result.xml = keep_original_lines(original, out.str(), style.single_quote ? '\'' : '"');
  return result;
}

}  // namespace vpt::detail
