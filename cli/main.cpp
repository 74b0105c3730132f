// vpt-tune: place libvirt/QEMU guest threads well on the host's CPUs.
//
// The only place that turns exceptions into messages and exit codes:
//   0 success, 1 failure at run time (libvirt, hwloc, I/O), 2 bad input or
//   impossible request, CLI11's own codes (>= 100) for malformed options.
#include <iostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/results.hpp"
#include "cli/bench_command.hpp"
#include "cli/build_info.hpp"
#include "cli/check_command.hpp"
#include "cli/compare_command.hpp"
#include "cli/generate_docs_command.hpp"
#include "cli/hook_command.hpp"
#include "cli/probe_command.hpp"
#include "cli/report_command.hpp"
#include "cli/restore_command.hpp"
#include "cli/suggest_command.hpp"
#include "optimizer/optimizer.hpp"
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
                         dynamic_cast<const vpt::PveConfigError*>(&e);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vpt-tune: pin libvirt/QEMU guests' threads to the host's CPUs so they share as little cache "
               "as possible with the host, and measure the result."};
  app.set_version_flag("--version", vpt::version_text());
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
      "  VPT_TUNE_BACKUP_DIR   where --apply keeps backups and restore finds them (else /var/lib/vpt-tune/backups)");
  vpt::cli::setup_generate_docs(app);  // hidden; reads the whole tree when it runs

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "vpt-tune: {}\n", one_line(e.what()));
    return exit_code_for(e);
  }
  return 0;
}
