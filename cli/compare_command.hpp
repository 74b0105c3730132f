#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune compare`: before/after table of two `bench --out` files with a verdict per metric.
void setup_compare(CLI::App& app);

}  // namespace vpt::cli
