// Reading a domain definition's layout and writing an edited tree back in
// it: the indentation, line ends and quote style it had, and every line the
// edit did not change byte for byte. Internal to virt/ (virt/domain_xml.hpp
// is the interface).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "virt/domain_xml.hpp"

namespace vpt::detail {

// How the definition is laid out, so that inserted elements look like their neighbours.
struct Style {
  bool pretty = true;        // elements on lines of their own
  std::string nl = "\n";
  std::string unit = "  ";   // one level of indentation
  bool single_quote = true;  // libvirt writes attr='value'; virt-manager's editor attr="value"
};

// Layout text between elements: spaces, tabs and line breaks only.
bool is_whitespace(pugi::xml_node node);

// The definition's style, read from its text and its root element.
Style detect_style(std::string_view xml, pugi::xml_node root);

// pugixml's save flags for a definition in `style` (entities kept as written).
unsigned save_flags(const Style& style);

// One change to a definition's tree; it adds what the user should know to `notes`.
using DomainEdit = std::function<void(pugi::xml_node root, const Style& style, std::vector<std::string>& notes)>;

// Every patch: read the definition, let `edit` change the tree, write it in
// the definition's own style and keep every line the edit did not change
// exactly as it was. Throws DomainInputError for XML that cannot be read.
PatchResult edit_domain(std::string_view original, const DomainEdit& edit);

}  // namespace vpt::detail
