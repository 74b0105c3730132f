// Small text helpers every module uses, so each exists once.
#pragma once

#include <string>
#include <string_view>

namespace vpt {

// ASCII lowercase (locale-independent): for keywords, units and hex digits.
std::string lowercase(std::string_view text);

}  // namespace vpt
