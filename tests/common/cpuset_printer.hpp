// Lets GoogleTest print a CpuSet as "{0-3,8}" in failure messages.
#pragma once

#include <ostream>

#include "common/cpuset.hpp"

namespace vpt {
inline void PrintTo(const CpuSet& set, std::ostream* os) { *os << "{" << set.to_string() << "}"; }
}  // namespace vpt
