#include "cli/help_formatter.hpp"

#include "cli/command_doc.hpp"

namespace vpt::cli {

namespace {

// CLI11 2.1 reads an option's checks only through a non-const Option.
OptionDoc doc_of(const CLI::Option* option) { return describe_option(*const_cast<CLI::Option*>(option)); }

}  // namespace

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  const OptionDoc doc = doc_of(option);
  if (doc.metavar.empty()) return "";
  std::string opts = " ";
  opts += doc.metavar;
  if (doc.repeatable) opts += " ...";
  return opts;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
  const OptionDoc doc = doc_of(option);
  const std::string notes = help_notes(doc);
  if (notes.empty()) return doc.description;
  // "(...) (...)" reads badly: after a closing parenthesis the notes follow a semicolon.
  if (!doc.description.empty() && doc.description.back() == ')') return doc.description + "; " + notes;
  return doc.description + " (" + notes + ")";
}

}  // namespace vpt::cli
