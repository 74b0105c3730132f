#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune probe`: print the host model.
void setup_probe(CLI::App& app);

}  // namespace vpt::cli
