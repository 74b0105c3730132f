#include "virt/xml_util.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "virt/domain.hpp"

namespace vpt::detail {

void load_domain_document(pugi::xml_document& doc, std::string_view xml, const std::string& source, bool raw) {
  // parse_fragment keeps whitespace and comments around the root element.
  unsigned flags = pugi::parse_cdata | pugi::parse_comments | pugi::parse_pi | pugi::parse_declaration |
                   pugi::parse_doctype | pugi::parse_fragment;
  flags |= raw ? pugi::parse_ws_pcdata : (pugi::parse_escapes | pugi::parse_eol);
  pugi::xml_parse_result result = doc.load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  auto fail = [&](const std::string& reason) {
    throw DomainInputError(fmt::format("cannot read domain '{}': {}", source, reason));
  };
  if (!result) {
    auto offset = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(result.offset, 0, xml.size()));
    std::string_view before = xml.substr(0, offset);
    auto line = 1 + std::count(before.begin(), before.end(), '\n');
    auto last_nl = before.rfind('\n');
    auto column = offset - (last_nl == std::string_view::npos ? 0 : last_nl + 1) + 1;
    fail(fmt::format("not well-formed XML at line {}, column {}: {}", line, column, result.description()));
  }
  unsigned elements = 0;
  for (pugi::xml_node node : doc.children()) {
    if (node.type() == pugi::node_element) ++elements;
    if (node.type() == pugi::node_pcdata &&
        std::string_view(node.value()).find_first_not_of(" \t\r\n") != std::string_view::npos)
      fail("text outside the root element");
  }
  if (elements == 0) fail("no XML element in the input (empty file?)");
  for (pugi::xml_node node : doc.children())
    if (node.type() == pugi::node_doctype && std::string_view(node.value()).find("<!ENTITY") != std::string_view::npos)
      fail("it declares entities in a <!DOCTYPE>, which `virsh dumpxml` never writes and vpt-tune does not expand");
  // `virsh dumpxml` nests about eight deep; the patch walks the tree recursively.
  constexpr int kMaxDepth = 256;
  struct DepthCheck : pugi::xml_tree_walker {
    bool for_each(pugi::xml_node&) override { return depth() <= kMaxDepth; }
  } depth_check;
  if (!doc.traverse(depth_check)) fail(fmt::format("elements are nested more than {} deep", kMaxDepth));
  if (elements > 1) fail("more than one root element");
  if (std::string_view(doc.document_element().name()) != "domain")
    fail(fmt::format("the root element is <{}>, not <domain> (expected the output of `virsh dumpxml`)",
                     doc.document_element().name()));
}

std::string trimmed_text(pugi::xml_node node) {
  std::string_view text = node.child_value();
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace vpt::detail
