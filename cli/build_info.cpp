#include "cli/build_info.hpp"

#include <string_view>

namespace vpt {

std::string version_text() {
  const std::string_view revision = build_revision();
  return std::string("vpt-tune ") + VPT_VERSION +
         (revision == "unknown" ? std::string(" (git revision unknown)") : " (git " + std::string(revision) + ")");
}

}  // namespace vpt
