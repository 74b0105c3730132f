#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune report`: a shareable HTML page or forum post of the host, the
// plan, the libvirt XML and bench results.
void setup_report(CLI::App& app);

}  // namespace vpt::cli
