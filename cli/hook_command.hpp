#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune hook`: write the libvirt qemu hook that confines the host while a guest runs.
void setup_hook(CLI::App& app);

}  // namespace vpt::cli
