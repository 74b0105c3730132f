// `--help` in words: an option's value is named as the man pages name it
// ("N", "FILE", "shared|dedicated", never CLI11's "UINT:INT in [0 - 64]"),
// and its range, default and requirements end its description
// ("0 to 64; default: 1; needs --apply"). Both read cli/command_doc.hpp.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace vpt::cli {

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* option) const override;
  std::string make_option_desc(const CLI::Option* option) const override;
};

}  // namespace vpt::cli
