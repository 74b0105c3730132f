// Internal to vpt_virt: loading domain XML with pugixml and reporting its errors.
#pragma once

#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace vpt::detail {

// Loads `xml` into `doc` and checks it holds one <domain> element.
// raw = keep entities, line ends and whitespace exactly as written, for
// patching (save with format_raw | format_no_escapes); otherwise values are
// unescaped for reading. Throws DomainInputError naming `source`.
void load_domain_document(pugi::xml_document& doc, std::string_view xml, const std::string& source,
                          bool raw = false);

// The element's text with surrounding whitespace removed.
std::string trimmed_text(pugi::xml_node node);

}  // namespace vpt::detail
