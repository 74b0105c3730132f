#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune restore`: list the definition backups --apply made, or define one again.
void setup_restore(CLI::App& app);

}  // namespace vpt::cli
