// man(7) pages for the command line: vpt-tune(1) and one page per subcommand,
// written from CommandDoc (cli/command_doc.hpp), i.e. from the same option
// definitions as --help.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/command_doc.hpp"

namespace vpt::cli {

struct ManPageInfo {
  std::string source;                  // footer of each page: "vpt-tune 0.1.0"
  std::string date;                    // "2026-12-01"
  std::vector<std::string> see_also;   // other programs' pages: "virsh(1)"
};

// "vpt-tune" for the root command, "vpt-tune-probe" for `vpt-tune probe`.
std::string man_page_name(const CommandDoc& command);

// The page of `command`, a node of the tree `root` (whose options are the
// global ones, given before the subcommand).
void write_man_page(std::ostream& out, const CommandDoc& command, const CommandDoc& root, const ManPageInfo& info);

// Text for roff: backslashes and dashes escaped, `code` in bold, other
// non-ASCII characters as \[uXXXX]. Exposed for tests.
std::string roff_text(const std::string& text);

}  // namespace vpt::cli
