// A unified diff of two texts, as `diff -u` prints it: what a change to a
// domain definition or a Proxmox config does, shown before it is made.
#pragma once

#include <string>
#include <string_view>

namespace vpt {

// A unified diff (3 lines of context) of two texts, "" when they are equal.
std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         const std::string& old_label, const std::string& new_label);

}  // namespace vpt
