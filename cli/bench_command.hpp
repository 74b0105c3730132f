#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune bench`: latency kernels on this host (optionally against a running domain), saved as JSON.
void setup_bench(CLI::App& app);

}  // namespace vpt::cli
