// The command line as data: every visible subcommand and option of a CLI11 App,
// read from the same definitions `--help` prints. The man pages and the shell
// completions are written from this (cli/man_page.hpp, cli/completion.hpp), so
// a new subcommand or option appears in them with no edit to the writers.
#pragma once

#include <string>
#include <vector>

#include <CLI/App.hpp>

namespace vpt::cli {

// What the shell should offer for an option's value.
enum class ValueKind {
  none,       // a flag: takes no value
  text,       // a value the shell cannot guess (numbers, CPU lists, URIs)
  choice,     // one of `choices`
  file,       // a path (with `file_extension`, files of that type are offered first)
  directory,  // a directory
  domain,     // a libvirt domain name (`virsh list --all --name`)
};

struct OptionDoc {
  std::vector<std::string> short_names;  // "d" for -d
  std::vector<std::string> long_names;   // "domain" for --domain
  std::string positional_name;           // set for positional arguments only
  std::string metavar;                   // "FILE.xml", "LIST", "INT"; empty for flags
  std::string description;
  std::string default_value;             // as --help shows it; empty when none
  std::vector<std::string> choices;      // the allowed values, for ValueKind::choice
  std::vector<std::string> constraints;  // other checks in words ("0 to 64" for CLI::Range(0, 64))
  std::string file_extension;            // "xml" for metavar FILE.xml
  ValueKind kind = ValueKind::none;
  bool required = false;
  bool repeatable = false;               // may be given more than once (or takes several values)
  std::vector<std::string> needs;        // names of options this one requires ("--apply")
  std::vector<std::string> excludes;     // names of options it cannot be combined with
  std::string group;                     // "Options", "Cost-model weights", ...

  // "--domain" (or "-d" when there is no long name; the positional's name for positionals).
  std::string display_name() const;
};

struct CommandDoc {
  std::vector<std::string> path;  // {"vpt-tune"}, {"vpt-tune", "probe"}
  std::string description;
  std::string footer;             // free text under --help: notes, "Examples:", "Exit status:"
  std::vector<OptionDoc> options;      // named options, in definition order
  std::vector<OptionDoc> positionals;  // positional arguments, in order
  std::vector<CommandDoc> subcommands;

  std::string name() const { return path.back(); }
  // "vpt-tune probe"
  std::string invocation() const;
};

// One option as data (what `--help`, the man pages and the completions show).
// The metavar is never one of CLI11's type names: "N" for whole numbers,
// "NUMBER" for others, "VALUE" for text, "a|b|c" for a choice.
OptionDoc describe_option(CLI::Option& option);

// The option's checks, requirements and default in words, for the end of its
// description: "0 to 64; default: 1; needs --apply; not with --xml".
std::string help_notes(const OptionDoc& doc);

// Reads `app` and its subcommands; `program` names the root (CLI11 sets the
// app's own name from argv[0], a path). Hidden subcommands and options (empty
// group) are left out. Non-const only because CLI11 2.1 has no const validator access.
CommandDoc describe_command(CLI::App& app, const std::string& program);

}  // namespace vpt::cli
