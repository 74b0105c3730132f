#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune check`: review a domain and its host like a passthrough expert,
// and apply the domain fixes (--fix) safely.
void setup_check(CLI::App& app);

}  // namespace vpt::cli
