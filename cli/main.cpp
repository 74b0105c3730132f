// vpt-tune: place libvirt/QEMU guest threads well on the host's CPUs.
//
// The only place that turns exceptions into messages and exit codes:
//   0 success, 1 failure at run time (libvirt, hwloc, I/O), 2 bad input or
//   impossible request, CLI11's own codes (>= 100) for malformed options.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/results.hpp"
#include "common/text.hpp"
#include "cli/bench_command.hpp"
#include "cli/build_info.hpp"
#include "cli/check_command.hpp"
#include "cli/compare_command.hpp"
#include "cli/generate_docs_command.hpp"
#include "cli/help_formatter.hpp"
#include "cli/hook_command.hpp"
#include "cli/probe_command.hpp"
#include "cli/report_command.hpp"
#include "cli/request_options.hpp"
#include "cli/restore_command.hpp"
#include "cli/suggest_command.hpp"
#include "optimizer/optimizer.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/probe.hpp"
#include "pve/pve_config.hpp"
#include "virt/domain.hpp"

namespace {

// Bad input and impossible requests (2) are the user's to fix; anything else
// failed at run time (1).
int exit_code_for(const std::exception& e) {
  const bool bad_input = dynamic_cast<const vpt::RequestError*>(&e) || dynamic_cast<const vpt::BenchInputError*>(&e) ||
                         dynamic_cast<const vpt::TopologyInputError*>(&e) ||
                         dynamic_cast<const vpt::DomainInputError*>(&e) ||
                         dynamic_cast<const vpt::PveConfigError*>(&e) ||
                         dynamic_cast<const vpt::PlanInputError*>(&e);
  return bad_input ? 2 : 1;
}

// The message as one bounded line: an input echoed in it (a garbage CPU list,
// a binary file's bytes, a megabyte-long name) must not spill line breaks,
// control characters or megabytes onto the terminal.
std::string one_line(std::string_view message) {
  constexpr std::size_t kMaxBytes = 1000;
  std::string out;
  for (unsigned char c : message) {
    if (out.size() >= kMaxBytes) {
      out += " [...]";
      break;
    }
    if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The candidates a typo most likely meant: the nearest within a third of the
// word's length (at least one edit), or those the word begins.
std::vector<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  constexpr std::size_t kLongest = 100;  // a pasted paragraph is no typo
  if (word.size() > kLongest) return {};
  const std::size_t most = std::max<std::size_t>(1, word.size() / 3);  // edits still called a typo
  std::size_t best = most + 1;
  std::vector<std::string> out;
  for (const std::string& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (word.size() >= 3 && c.starts_with(word)) d = std::min<std::size_t>(d, 1);
    if (d > most || d > best) continue;
    if (d < best) {
      best = d;
      out.clear();
    }
    out.push_back(c);
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const std::string& n : names) q.push_back(fmt::format("'{}'", n));
  return fmt::format("{}", fmt::join(q, " or "));
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    names.push_back(sub->get_name());
  return names;
}

// The first word that is not an option of vpt-tune itself: the command.
std::optional<std::string_view> command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config") ++i;  // its value
    else if (!arg.starts_with("-")) return arg;
  }
  return std::nullopt;
}

// A mistyped command: did-you-mean and the list, one line.
int unknown_command(const CLI::App& app, std::string_view word) {
  const std::vector<std::string> names = command_names(app);
  const std::vector<std::string> near = did_you_mean(word, names);
  fmt::print(stderr, "vpt-tune: unknown command '{}'{}; the commands are {} (`vpt-tune --help` says what each does)\n",
             one_line(vpt::printable(word, 60)), near.empty() ? "" : fmt::format(" (did you mean {}?)", quoted_list(near)),
             fmt::join(names, ", "));
  return static_cast<int>(CLI::ExitCodes::ExtrasError);
}

// Words a command did not expect: for an option, the nearest of its options;
// for a bare word where the command takes --domain, that.
int unexpected_words(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    const std::vector<std::string> extras = sub->remaining();
    if (extras.empty()) continue;
    std::vector<std::string> options;
    for (const CLI::Option* option : sub->get_options())
      if (option->get_group() != vpt::cli::kWeightsGroup)
        for (const std::string& name : option->get_lnames()) options.push_back("--" + name);
    for (const std::string& extra : extras) {
      const std::string shown = one_line(vpt::printable(extra, 60));
      if (extra.starts_with("--")) {
        const std::string name = extra.substr(0, extra.find('='));
        const std::vector<std::string> near = did_you_mean(name, options);
        fmt::print(stderr, "vpt-tune {}: unknown option '{}'{}; `vpt-tune {} --help` lists its options\n",
                   sub->get_name(), one_line(vpt::printable(name, 60)),
                   near.empty() ? "" : fmt::format(" (did you mean {}?)", quoted_list(near)), sub->get_name());
      } else if (extra.starts_with("-")) {
        fmt::print(stderr, "vpt-tune {}: unknown option '{}'; `vpt-tune {} --help` lists its options\n",
                   sub->get_name(), shown, sub->get_name());
      } else {
        const bool takes_domain = sub->get_option_no_throw("--domain") != nullptr;
        fmt::print(stderr, "vpt-tune {}: unexpected argument '{}'{}; `vpt-tune {} --help` lists its options\n",
                   sub->get_name(), shown,
                   takes_domain ? fmt::format("; a domain is named with --domain: `vpt-tune {} --domain {}`",
                                              sub->get_name(), shown)
                                : "",
                   sub->get_name());
      }
      return static_cast<int>(CLI::ExitCodes::ExtrasError);
    }
  }
  return -1;
}

// An argument as a shell reads it back.
std::string shell_quoted(std::string_view arg) {
  const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_./:=,@%+-").find(c) != std::string_view::npos;
  });
  return plain ? std::string(arg) : vpt::shell_quote(arg);
}

// The user's command line with the retry's options set (a value they gave
// for those options is dropped): the next command to run.
std::string retry_command(int argc, char** argv, const vpt::RetryOptions& retry) {
  std::string out = "vpt-tune";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool replaced = false;
    for (const auto& [option, value] : retry.set) {
      if (arg == option) {
        replaced = true;
        ++i;  // and its value
      } else if (arg.starts_with(option + "=")) {
        replaced = true;
      }
    }
    if (!replaced) {
      out += ' ';
      out += shell_quoted(arg);
    }
  }
  for (const auto& [option, value] : retry.set) out += fmt::format(" {} {}", option, shell_quoted(value));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vpt-tune: pin libvirt/QEMU guests' threads to the host's CPUs so they share as little cache "
               "as possible with the host, and measure the result."};
  app.set_version_flag("--version", vpt::version_text());
  app.name("vpt-tune");  // parse() below takes the arguments only, not argv[0]
  app.formatter(std::make_shared<vpt::cli::HelpFormatter>());  // before the subcommands, which copy it
  app.require_subcommand(1);
  app.set_config("--config", "", "Read options from a TOML/INI file (keys: long option names, under [subcommand])")
      ->option_text("FILE");
  vpt::cli::setup_probe(app);
  vpt::cli::setup_bench(app);
  vpt::cli::setup_compare(app);
  vpt::cli::setup_suggest(app);
  vpt::cli::setup_restore(app);
  vpt::cli::setup_hook(app);
  vpt::cli::setup_report(app);
  vpt::cli::setup_check(app);
  // After the subcommands, which would inherit it. The man pages' EXIT STATUS
  // and ENVIRONMENT sections come from here.
  app.footer(
      "Exit status:\n"
      "  0        success\n"
      "  1        failure at run time (libvirt, hwloc, I/O)\n"
      "  2        bad input or an impossible request (one line on standard error names the input and the problem)\n"
      "  100-127  malformed command-line options\n"
      "Environment:\n"
      "  LIBVIRT_DEFAULT_URI   libvirt URI when --connect is not given (else qemu:///system)\n"
      "  VPT_TUNE_BACKUP_DIR   where --apply keeps backups and restore finds them (else /var/lib/vpt-tune/backups)\n"
      "  VPT_TUNE_CONFIG       an options file read as if given with --config (when --config is not)");
  vpt::cli::setup_generate_docs(app);  // hidden; reads the whole tree when it runs

  if (std::optional<std::string_view> word = command_word(argc, argv)) {
    const std::vector<std::string> names = command_names(app);
    if (std::find(names.begin(), names.end(), *word) == names.end() && *word != "generate-docs")
      return unknown_command(app, *word);
  }
  // $VPT_TUNE_CONFIG: the options file of every run (a host's --reserve, its weights).
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* config = std::getenv("VPT_TUNE_CONFIG");
  if (config && *config && std::find(args.begin(), args.end(), "--config") == args.end() &&
      std::none_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--config="); }))
    args.insert(args.begin(), {"--config", config});
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::ExtrasError& e) {
    const int code = unexpected_words(app);
    return code >= 0 ? code : app.exit(e);
  } catch (const CLI::RequiredError& e) {
    if (app.get_subcommands().empty()) {
      fmt::print(stderr, "vpt-tune: give a command: {} (`vpt-tune --help` says what each does)\n",
                 fmt::join(command_names(app), ", "));
      return e.get_exit_code();
    }
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An unknown option can make CLI11 complain about something else first
    // (a positional short of values): name the unknown option instead.
    const int code = e.get_exit_code() != 0 ? unexpected_words(app) : -1;
    return code >= 0 ? code : app.exit(e);
  } catch (const vpt::RequestError& e) {
    if (e.retry().set.empty()) {
      fmt::print(stderr, "vpt-tune: {}\n", one_line(e.what()));
    } else {
      fmt::print(stderr, "vpt-tune: {}\n",
                 one_line(fmt::format("{}: `{}` {}", e.what(), retry_command(argc, argv, e.retry()), e.retry().effect)));
    }
    return exit_code_for(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "vpt-tune: {}\n", one_line(e.what()));
    return exit_code_for(e);
  }
  return 0;
}
