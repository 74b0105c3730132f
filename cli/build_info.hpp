// What `vpt-tune --version` says: the project version and the git revision the
// binary was built from (cmake/write-revision.cmake writes the latter).
#pragma once

#include <string>

namespace vpt {

// `git describe --long` of the source tree ("12f5a94c1b2e", "v0.1.0-3-g12f5a94c1b2e-dirty"),
// or "unknown" when it was built outside a git checkout and not from `git archive`.
const char* build_revision();

// "vpt-tune 0.1.0 (git 12f5a94c1b2e)", or "... (git revision unknown)".
std::string version_text();

}  // namespace vpt
