#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune suggest`: compute a plan, explain it, print the libvirt XML.
void setup_suggest(CLI::App& app);

}  // namespace vpt::cli
