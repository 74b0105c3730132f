#include "cli/hook_command.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "common/atomic_file.hpp"
#include "common/cpuset.hpp"
#include "common/input_file.hpp"
#include "virt/hook_script.hpp"

namespace vpt::cli {

namespace {

struct HookOptions {
  std::string domain;
  std::string host_cpus;
  std::string path;  // "" = /etc/libvirt/hooks/qemu.d/vpt-tune-DOMAIN
  bool print = false;
  bool force = false;
};

void run_hook(const HookOptions& options) {
  CpuSet cpus;
  try {
    cpus = CpuSet::parse(options.host_cpus);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--host-cpus", e.what());
  }
  if (cpus.empty()) throw CLI::ValidationError("--host-cpus", "the host needs at least one CPU");
  const std::string script = qemu_hook_script(options.domain, cpus);
  if (options.print) {
    std::cout << script;
    return;
  }
  namespace fs = std::filesystem;
  const fs::path path =
      options.path.empty() ? fs::path("/etc/libvirt/hooks/qemu.d") / ("vpt-tune-" + options.domain) : fs::path(options.path);
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (exists) {
    if (read_whole_file(path).value_or("") == script) {
      fmt::print(std::cout, "hook {} is already installed, unchanged\n", path.string());
      return;
    }
    if (!options.force)
      throw std::runtime_error(fmt::format("cannot install hook '{}': a different file is there (see it, then "
                                           "use --force to replace it, or --path for another place)",
                                           path.string()));
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create directory '{}': {}", path.parent_path().string(), ec.message()));
  // libvirtd runs it: executable, readable by all (as hooks are), and a file
  // that appeared since the check above is not replaced without --force.
  write_file_atomically(path.string(), script, "hook", 0755, exists ? ExistingFile::Replace : ExistingFile::Keep);
  fmt::print(std::cout,
             "installed {}: while '{}' runs, the host keeps CPUs {}\n"
             "note: libvirtd looks for hooks when it starts: restart it once after installing the first hook\n",
             path.string(), options.domain, cpus.to_string());
}

}  // namespace

void setup_hook(CLI::App& app) {
  auto options = std::make_shared<HookOptions>();
  CLI::App* hook = app.add_subcommand(
      "hook", "Write a libvirt qemu hook that confines the host to its CPUs while a guest runs");
  hook->footer(
      "The hook acts on the guest's 'prepare begin' (before QEMU starts) and 'release end' (after it is gone):\n"
      "with systemd it sets AllowedCPUs= on user.slice, system.slice and init.scope; without, it writes\n"
      "cpuset.cpus of the host's cgroups (v2 or v1), saving the old values in /run/vpt-tune and putting them\n"
      "back. One guest per hook: two confined guests must leave the host the same CPUs.\n"
      "Examples:\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27 --print    show it\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27            install /etc/libvirt/hooks/qemu.d/vpt-tune-win11\n"
      "  vpt-tune hook --domain win11 --host-cpus 16-27 --path /etc/libvirt/hooks/qemu");
  hook->add_option("-d,--domain", options->domain, "The guest whose start and stop trigger the hook")
      ->option_text("NAME")
      ->required();
  hook->add_option("--host-cpus", options->host_cpus, "CPUs the host keeps while the guest runs, e.g. 0-1,8-9")
      ->option_text("LIST")
      ->required();
  hook->add_flag("--print", options->print, "Print the script instead of installing it");
  hook->add_option("--path", options->path,
                   "Install here (default: /etc/libvirt/hooks/qemu.d/vpt-tune-NAME, which libvirt runs besides "
                   "/etc/libvirt/hooks/qemu)")
      ->option_text("FILE");
  hook->add_flag("--force", options->force, "Replace a different file at that path");
  hook->callback([options] { run_hook(*options); });
}

}  // namespace vpt::cli
