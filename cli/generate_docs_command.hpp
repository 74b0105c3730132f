#pragma once

#include <CLI/App.hpp>

namespace vpt::cli {

// `vpt-tune generate-docs` (hidden, used by the build): writes the man pages
// and shell completions from the option definitions of `app`, the whole
// command line as main() set it up. Add it after every other subcommand or
// before: it reads the tree when it runs, not when it is added.
void setup_generate_docs(CLI::App& app);

}  // namespace vpt::cli
